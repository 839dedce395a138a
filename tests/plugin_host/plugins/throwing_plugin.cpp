// A plugin written against the raw C ABI in C++ that lets exceptions escape, which the ABI
// forbids: the host must catch them and carry on. THROW_IN selects where.
#include <cdphub/plugin.h>

#include <stdexcept>

namespace {
int token;
cdphub_status create(const cdphub_host_api*, cdphub_context*, cdphub_call*, cdphub_string,
                     cdphub_instance** out) {
#if defined(THROW_IN_CREATE)
    throw std::runtime_error("boom in create");
#endif
    *out = reinterpret_cast<cdphub_instance*>(&token);
    return CDPHUB_OK;
}
void destroy(cdphub_instance*) {}
cdphub_status check(cdphub_instance*, cdphub_call*) {
#if defined(THROW_IN_CHECK)
    throw 42;  // not even a std::exception
#endif
    return CDPHUB_OK;
}
cdphub_status read(cdphub_instance*, cdphub_call*) {
    return CDPHUB_OK;
}

cdphub_plugin_descriptor descriptor() {
    cdphub_plugin_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_major = CDPHUB_ABI_MAJOR;
    d.abi_minor = CDPHUB_ABI_MINOR;
    d.kind = CDPHUB_KIND_SOURCE;
    d.id = PLUGIN_ID;
    d.version = "1.0.0";
    d.name = "Throwing plugin";
    d.config_spec = "{}";
    d.capabilities = "{}";
    d.create = &create;
    d.destroy = &destroy;
    d.check = &check;
    d.read = &read;
    return d;
}
const cdphub_plugin_descriptor kDescriptor = descriptor();
}  // namespace

extern "C" CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t, uint32_t) {
#if defined(THROW_IN_ENTRY)
    throw std::runtime_error("boom in entry");
#endif
    return &kDescriptor;
}

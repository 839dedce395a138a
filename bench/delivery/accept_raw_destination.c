/*
 * bench-accept-raw: a destination written against the plain C ABI (<cdphub/plugin.h>, no C++
 * SDK) that accepts every batch without reading it. Timing the delivery workers against it
 * measures the hub's own cost per record and nothing else: bench-accept (the C++ SDK) adds the
 * SDK's parse of the batch into a json tree, which any SDK plugin pays before its write() runs.
 * Used by delivery_bench --target accept-raw.
 */
#include <cdphub/plugin.h>

#include <stdlib.h>

struct cdphub_instance {
    int unused;
};

static cdphub_status plugin_create(const cdphub_host_api* host, cdphub_context* ctx,
                                   cdphub_call* call, cdphub_string config_json,
                                   cdphub_instance** instance) {
    (void)host;
    (void)ctx;
    (void)call;
    (void)config_json;
    *instance = (cdphub_instance*)calloc(1, sizeof(cdphub_instance));
    return *instance != NULL ? CDPHUB_OK : CDPHUB_FATAL;
}

static void plugin_destroy(cdphub_instance* instance) {
    free(instance);
}

static cdphub_status plugin_check(cdphub_instance* instance, cdphub_call* call) {
    (void)instance;
    (void)call;
    return CDPHUB_OK;
}

/* Records not reported one by one share the batch's status: all delivered. */
static cdphub_status plugin_write(cdphub_instance* instance, cdphub_call* call,
                                  cdphub_string batch_json) {
    (void)instance;
    (void)call;
    (void)batch_json;
    return CDPHUB_OK;
}

static const cdphub_plugin_descriptor descriptor = {
    .struct_size = sizeof(cdphub_plugin_descriptor),
    .abi_major = CDPHUB_ABI_MAJOR,
    .abi_minor = CDPHUB_ABI_MINOR,
    .kind = CDPHUB_KIND_DESTINATION,
    .category = CDPHUB_CATEGORY_OTHER,
    .id = "bench-accept-raw",
    .version = "1.0.0",
    .name = "Benchmark destination on the C ABI that accepts everything unread",
    .config_spec = "{\"type\":\"object\"}",
    /* Large enough never to lower the hub's own batch limit (DeliveryOptions). */
    .capabilities = "{\"batch\":{\"max_records\":100000,\"max_bytes\":268435456}}",
    .create = plugin_create,
    .destroy = plugin_destroy,
    .check = plugin_check,
    .read = NULL,
    .write = plugin_write,
    .receive = NULL,
};

CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor);

CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry(uint32_t host_abi_major,
                                                                  uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == CDPHUB_ABI_MAJOR ? &descriptor : NULL;
}

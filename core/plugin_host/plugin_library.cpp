#include "plugin_host/plugin_library.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "common/sha256.hpp"

namespace cdphub::plugin_host {
namespace {

// The smallest descriptor any 1.x plugin can have: everything up to and including `receive`.
constexpr size_t kMinDescriptorSize =
    offsetof(cdphub_plugin_descriptor, receive) + sizeof(cdphub_plugin_descriptor::receive);

Diagnostic problem(const std::filesystem::path& file, std::string message, std::string hint) {
    Diagnostic d;
    d.file = file.string();
    d.message = std::move(message);
    d.hint = std::move(hint);
    return d;
}

// Closes a file descriptor when it goes out of scope.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// A C string from a plugin, bounded so a missing terminator cannot run away.
std::optional<std::string> bounded(const char* s, size_t max) {
    if (s == nullptr) return std::nullopt;
    size_t n = strnlen(s, max + 1);
    if (n > max) return std::nullopt;
    return std::string(s, n);
}

const std::regex& id_pattern() {
    static const std::regex re("^[a-z0-9][a-z0-9._-]{0,63}$");
    return re;
}

std::string rebuild_hint() {
    return "rebuild the plugin against cdphub SDK " + std::to_string(CDPHUB_ABI_MAJOR) +
           ".x, or ask its vendor for a build for this hub";
}

}  // namespace

std::string_view kind_name(uint32_t kind) {
    switch (kind) {
        case CDPHUB_KIND_SOURCE:
            return "source";
        case CDPHUB_KIND_DESTINATION:
            return "destination";
        case CDPHUB_KIND_SOURCE | CDPHUB_KIND_DESTINATION:
            return "source+destination";
        default:
            return "unknown";
    }
}

std::string_view category_name(uint32_t category) {
    switch (category) {
        case CDPHUB_CATEGORY_CRM:
            return "crm";
        case CDPHUB_CATEGORY_ESP:
            return "esp";
        case CDPHUB_CATEGORY_DMP:
            return "dmp";
        case CDPHUB_CATEGORY_POS:
            return "pos";
        case CDPHUB_CATEGORY_SFMC:
            return "sfmc";
        default:
            return "other";
    }
}

PluginLibrary::LoadResult PluginLibrary::load(const std::filesystem::path& file,
                                              Diagnostics& warnings) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        return problem(file, "plugin file does not exist",
                       "check the path, or remove the reference to it");
    if (!std::filesystem::is_regular_file(file, ec))
        return problem(file, "not a regular file", "plugin directories may hold only plugin files");

    // Hash through a descriptor opened before loading, then check after loading that the path
    // still names that same file: a binary swapped in between is refused, so a pin covers what
    // runs. (Loading "/proc/self/fd/N" instead would be tempting, but the dynamic loader
    // de-duplicates libraries by name, and fd numbers are reused.)
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0)
        return problem(file, std::string("cannot open: ") + std::strerror(errno),
                       "check the file's permissions");
    struct stat before {};
    if (::fstat(fd.fd, &before) != 0)
        return problem(file, "cannot stat the file", "check the file's permissions");
    auto digest = sha256_hex_fd(fd.fd);
    if (!digest) return problem(file, "cannot read the file", "check the file's permissions");

    auto lib = std::shared_ptr<PluginLibrary>(new PluginLibrary());
    try {
        lib->library_.load(boost::dll::fs::path(std::filesystem::canonical(file).string()),
                           boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        std::string why = e.what();
        return problem(file, "not a loadable shared library (" + why + ")",
                       "plugin directories may hold only cdphub plugins built for this platform");
    }
    struct stat after {};
    if (::stat(file.c_str(), &after) != 0 || after.st_dev != before.st_dev ||
        after.st_ino != before.st_ino || after.st_mtime != before.st_mtime ||
        after.st_size != before.st_size)
        return problem(file, "the file changed while it was being loaded",
                       "something is writing to the plugin directory; load again once it is done");
    if (!lib->library_.has(CDPHUB_ENTRY_SYMBOL))
        return problem(file,
                       std::string("no entry symbol '") + CDPHUB_ENTRY_SYMBOL +
                           "': this shared library is not a cdphub plugin",
                       "export it with CDPHUB_PLUGIN(YourClass) (C++) or define "
                       "cdphub_plugin_entry with CDPHUB_EXPORT (C)");

    const cdphub_plugin_descriptor* raw = nullptr;
    try {
        auto entry = lib->library_.get<const cdphub_plugin_descriptor*(uint32_t, uint32_t)>(
            CDPHUB_ENTRY_SYMBOL);
        raw = entry(CDPHUB_ABI_MAJOR, CDPHUB_ABI_MINOR);
    } catch (const std::exception& e) {
        return problem(file, std::string("the entry function threw an exception: ") + e.what(),
                       "this is a bug in the plugin: exceptions must not cross the C ABI; report "
                       "it to the plugin's vendor");
    } catch (...) {
        return problem(file, "the entry function threw an exception",
                       "this is a bug in the plugin: exceptions must not cross the C ABI; report "
                       "it to the plugin's vendor");
    }
    if (raw == nullptr)
        return problem(file, "the plugin refused to load into this hub (its entry returned NULL)",
                       "the plugin may need another hub version; " + rebuild_hint());

    // Read the header fields first: they say how much of the rest exists.
    if (raw->abi_major != CDPHUB_ABI_MAJOR)
        return problem(file,
                       "built for plugin ABI " + std::to_string(raw->abi_major) + "." +
                           std::to_string(raw->abi_minor) + ", this hub speaks ABI " +
                           std::to_string(CDPHUB_ABI_MAJOR) + "." +
                           std::to_string(CDPHUB_ABI_MINOR) + " (it loads plugins built for " +
                           std::to_string(CDPHUB_ABI_MAJOR) + ".0 to " +
                           std::to_string(CDPHUB_ABI_MAJOR) + ".x)",
                       rebuild_hint());
    if (raw->struct_size < kMinDescriptorSize)
        return problem(file,
                       "malformed descriptor: struct_size " + std::to_string(raw->struct_size) +
                           " is smaller than any ABI " + std::to_string(CDPHUB_ABI_MAJOR) +
                           " descriptor (" + std::to_string(kMinDescriptorSize) + " bytes)",
                       "set struct_size = sizeof(cdphub_plugin_descriptor); " + rebuild_hint());
    // A newer minor may have a larger descriptor: copy only what this hub knows.
    std::memcpy(&lib->descriptor_, raw,
                std::min<size_t>(raw->struct_size, sizeof(cdphub_plugin_descriptor)));
    const auto& d = lib->descriptor_;
    auto& info = lib->info_;
    info.path = file;
    info.sha256 = *digest;
    info.abi_major = d.abi_major;
    info.abi_minor = d.abi_minor;
    info.kind = d.kind;
    info.category = d.category;

    auto id = bounded(d.id, 64);
    if (!id || !std::regex_match(*id, id_pattern()))
        return problem(file,
                       id ? "invalid plugin id '" + *id + "'" : std::string("missing plugin id"),
                       "a plugin id is 1 to 64 characters of a-z, 0-9, '.', '_' and '-', "
                       "starting with a letter or digit");
    info.id = *id;
    auto version = bounded(d.version, 64);
    if (!version || version->empty())
        return problem(file, "plugin '" + info.id + "' declares no version",
                       "set the descriptor's version (semantic versioning)");
    info.version = *version;
    info.name = bounded(d.name, 256).value_or(info.id);
    if (info.name.empty()) info.name = info.id;

    if (d.kind == 0 || (d.kind & ~uint32_t{CDPHUB_KIND_SOURCE | CDPHUB_KIND_DESTINATION}) != 0)
        return problem(file, "plugin '" + info.id + "' declares kind " + std::to_string(d.kind),
                       "kind must be CDPHUB_KIND_SOURCE, CDPHUB_KIND_DESTINATION or both");
    if (d.category > CDPHUB_CATEGORY_SFMC) {
        Diagnostic w = problem(file,
                               "plugin '" + info.id + "' declares unknown category " +
                                   std::to_string(d.category) + "; treated as 'other'",
                               "");
        w.severity = Diagnostic::Severity::warning;
        warnings.push_back(std::move(w));
        info.category = CDPHUB_CATEGORY_OTHER;
    }

    auto spec_text = bounded(d.config_spec, 1u << 20).value_or("");
    info.config_spec = nlohmann::json::parse(spec_text, nullptr, false);
    if (spec_text.empty()) info.config_spec = nlohmann::json::object();
    if (info.config_spec.is_discarded() || !info.config_spec.is_object())
        return problem(file, "plugin '" + info.id + "' has a config spec that is not a JSON object",
                       "config_spec must be a JSON Schema document; this is a bug in the plugin");
    auto caps_text = bounded(d.capabilities, 1u << 20).value_or("");
    info.capabilities = caps_text.empty() ? nlohmann::json::object()
                                          : nlohmann::json::parse(caps_text, nullptr, false);
    if (info.capabilities.is_discarded() || !info.capabilities.is_object())
        return problem(file, "plugin '" + info.id + "' has capabilities that are not a JSON object",
                       "capabilities must be a JSON object; this is a bug in the plugin");

    if (d.create == nullptr || d.destroy == nullptr || d.check == nullptr)
        return problem(file, "plugin '" + info.id + "' lacks create, destroy or check",
                       "every plugin implements create, destroy and check");
    if (info.is_source() && d.read == nullptr)
        return problem(file, "plugin '" + info.id + "' is a source without a read function",
                       "implement read, or do not declare CDPHUB_KIND_SOURCE");
    if (info.is_destination() && d.write == nullptr)
        return problem(file, "plugin '" + info.id + "' is a destination without a write function",
                       "implement write, or do not declare CDPHUB_KIND_DESTINATION");
    return lib;
}

}  // namespace cdphub::plugin_host

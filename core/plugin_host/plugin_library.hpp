// One loaded plugin file: the shared library, its validated descriptor, and what the hub learned
// from it. Loading never throws and never lets a plugin's failure escape: a file that cannot be a
// plugin becomes a Diagnostic that names the file and says what to do.
#pragma once

#include <cdphub/plugin.h>

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "common/diagnostic.hpp"

namespace cdphub::plugin_host {

std::string_view kind_name(uint32_t kind);          // "source", "destination", "source+destination"
std::string_view category_name(uint32_t category);  // "crm", ..., "other"

struct PluginInfo {
    std::string id;
    std::string version;
    std::string name;
    uint32_t kind = 0;
    uint32_t category = CDPHUB_CATEGORY_OTHER;
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    std::filesystem::path path;   // as found in the plugin directory
    std::string sha256;           // of the bytes that were loaded
    nlohmann::json config_spec;   // JSON Schema object
    nlohmann::json capabilities;  // JSON object

    bool is_source() const { return (kind & CDPHUB_KIND_SOURCE) != 0; }
    bool is_destination() const { return (kind & CDPHUB_KIND_DESTINATION) != 0; }
};

class PluginLibrary {
  public:
    using LoadResult = std::variant<std::shared_ptr<PluginLibrary>, Diagnostic>;

    // Loads and validates `file`. Warnings (e.g. an unknown category treated as "other") are
    // appended to `warnings`.
    static LoadResult load(const std::filesystem::path& file, Diagnostics& warnings);

    const PluginInfo& info() const { return info_; }
    // The descriptor as this hub understands it: fields the plugin did not have are zero, fields
    // the hub does not know are not copied.
    const cdphub_plugin_descriptor& descriptor() const { return descriptor_; }

    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;
    ~PluginLibrary() = default;

  private:
    PluginLibrary() = default;
    boost::dll::shared_library library_;
    cdphub_plugin_descriptor descriptor_{};
    PluginInfo info_;
};

}  // namespace cdphub::plugin_host

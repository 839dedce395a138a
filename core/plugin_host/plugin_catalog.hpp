// The plugins the hub can use: every plugin file found in the configured plugin directories (and
// only there), loaded and validated, with a diagnostic for each file that could not be used.
// One bad file never stops the others from loading.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"
#include "plugin_host/plugin_library.hpp"

namespace cdphub::plugin_host {

class PluginCatalog {
  public:
    // Scans each directory (not recursively) for *.so files, in name order, and loads them.
    // Directories that do not exist are reported as warnings.
    static PluginCatalog discover(const std::vector<std::filesystem::path>& plugin_dirs);

    // Loads one explicit file (a manifest's plugin_file) after checking it lies inside a plugin
    // directory once symlinks are resolved. Returns nullptr and adds a diagnostic otherwise.
    std::shared_ptr<const PluginLibrary> load_file(const std::filesystem::path& file);

    std::shared_ptr<const PluginLibrary> find(std::string_view id) const;
    const std::vector<std::shared_ptr<const PluginLibrary>>& plugins() const { return plugins_; }
    std::vector<std::string> ids() const;
    const Diagnostics& diagnostics() const { return diagnostics_; }
    const std::vector<std::filesystem::path>& directories() const { return dirs_; }

    // True if `file`, with every symlink resolved, lies inside one of the plugin directories.
    bool inside_plugin_dirs(const std::filesystem::path& file) const;

  private:
    void add(const std::filesystem::path& file);

    std::vector<std::filesystem::path> dirs_;  // canonical
    std::vector<std::shared_ptr<const PluginLibrary>> plugins_;
    Diagnostics diagnostics_;
};

}  // namespace cdphub::plugin_host

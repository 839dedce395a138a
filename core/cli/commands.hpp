// The cdphub command line: one function per subcommand. Exit codes are the same everywhere:
// 0 success, 1 a problem was found (invalid manifests, failed check, plugin that did not load),
// 2 usage error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cdphub::cli {

enum ExitCode { kOk = 0, kProblems = 1, kUsage = 2 };

struct GlobalOptions {
    std::filesystem::path manifests;                 // the manifest folder
    std::vector<std::filesystem::path> plugin_dirs;  // --plugin-dir, in addition to hub.json's
    bool json = false;                               // machine-readable output where offered
};

int cmd_plugins(const GlobalOptions& g);
int cmd_validate(const GlobalOptions& g);
int cmd_connectors(const GlobalOptions& g);
int cmd_check(const GlobalOptions& g, const std::string& instance);
int cmd_check_all(const GlobalOptions& g);

struct ReadOptions {
    std::string cursor;  // JSON, empty: from the beginning
    uint64_t limit = 0;  // 0: no limit
};
int cmd_read(const GlobalOptions& g, const std::string& instance, const ReadOptions& o);
int cmd_run(const GlobalOptions& g);

// Plugin directories in effect: hub.json's, then --plugin-dir, then CDPHUB_PLUGIN_PATH, then the
// ones shipped with the hub (next to the executable).
std::vector<std::filesystem::path> effective_plugin_dirs(
    const GlobalOptions& g, const std::vector<std::filesystem::path>& from_hub);

}  // namespace cdphub::cli

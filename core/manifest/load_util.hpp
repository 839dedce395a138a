// Helpers shared by the loaders of the manifest kinds (loader.cpp, profile_loader.cpp): building
// diagnostics, checking a parsed file against its schema, listing a folder of manifests. Internal
// to core/manifest.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"
#include "manifest/manifest.hpp"
#include "manifest/parse.hpp"
#include "manifest/schema_check.hpp"

namespace cdphub::manifest::detail {

Diagnostic problem(std::string file, std::string message, std::string hint = "");
Diagnostic warning(std::string file, std::string message, std::string hint = "");

// A diagnostic about the value at `pointer` of `file` (about its key if `key`), positioned with
// `locator` (which may be null).
Diagnostic problem_at(const std::string& file, const JsonLocator* locator, std::string pointer,
                      std::string message, bool key = false);

// Problems at `pointer` itself or below it.
bool has_error_at(const Diagnostics& diags, std::string_view pointer);

// `p` against `root` when relative, normalized.
std::filesystem::path resolve(const std::filesystem::path& root, const std::string& p);

// "15m", "500ms": the schemas have checked the syntax already.
std::chrono::milliseconds parse_duration(std::string_view s);

// A "schedule" value the schema accepted: "manual" or {"every": "<duration>"}.
Schedule parse_schedule(const nlohmann::json& value);

using HideFn = std::function<std::string(std::string_view pointer, const nlohmann::json& value)>;

// Checks a parsed file against its schema, and reports keys given twice in one object (the JSON
// parser would silently keep the last). `hidden` as in CheckTarget.
Diagnostics check_file(const SchemaChecker& schema, const ParsedFile& parsed,
                       const std::string& shown, HideFn hidden = nullptr);

// The .json files of the manifest folder `dir` (named `what` in messages, e.g. "connectors/"), in
// file-name order. Hidden files are skipped; other files and subfolders are skipped with a
// warning. A missing folder yields nothing (plus `missing` as a warning unless it is empty); a
// file in its place or an unreadable folder is an error.
std::vector<std::filesystem::path> list_manifest_folder(const std::filesystem::path& dir,
                                                        std::string_view what,
                                                        const std::string& missing,
                                                        const std::string& missing_hint,
                                                        Diagnostics& out);

// Loads identity.json, traits/, segments/ and activations/ of the folder `root` into `set`, and
// checks references across files. `connector_ids` are the instance ids declared in connectors/
// (also by files left out for other problems) with the file that declares each.
void load_profile_manifests(const std::filesystem::path& root,
                            const std::map<std::string, std::filesystem::path>& connector_ids,
                            ManifestSet& set);

}  // namespace cdphub::manifest::detail

// Reading a manifest file and parsing it as JSON, with problems turned into Diagnostics.
// Internal to core/manifest.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/diagnostic.hpp"
#include "manifest/manifest.hpp"

namespace cdphub::manifest::detail {

struct ParsedFile {
    std::optional<nlohmann::json> doc;           // unset if unreadable or not JSON
    std::shared_ptr<const JsonLocator> locator;  // set whenever the file could be read
};

// Manifests are small; anything bigger is a mistake (a log or a dump in the wrong folder).
constexpr size_t kMaxManifestBytes = 1 << 20;

// Reads and parses `path`; problems are appended to `out` under the name `shown` (the path as
// the admin gave it). Never throws. The parse error message describes the problem in plain words
// and never quotes the text around it: a mistyped line may hold a secret.
ParsedFile read_json_file(const std::filesystem::path& path, const std::string& shown,
                          Diagnostics& out);

// Same, for text already in memory.
ParsedFile parse_json_text(std::string text, const std::string& shown, Diagnostics& out);

}  // namespace cdphub::manifest::detail

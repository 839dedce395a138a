// Admin manifests: JSON files in a folder, reviewed in git, that say which connector instances run
// and how. Layout of a manifest folder (see docs/manifests.md):
//
//   hub.json               hub settings (optional): plugin directories, data directory, ...
//   connectors/*.json      one connector instance per file
//   identity.json          identity resolution rules (optional)     } profile_manifests.hpp
//   traits/*.json          computed traits, one per file            }
//   segments/*.json        segments, one per file                   }
//   activations/*.json     segment x destination bindings           }
//
// Loading never throws on bad input: every problem becomes a Diagnostic with file, JSON pointer,
// line:column, expected and found, and loading goes on so that the admin sees them all at once.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/diagnostic.hpp"
#include "manifest/profile_manifests.hpp"
#include "manifest/schedule.hpp"

namespace cdphub::manifest {

// Maps JSON pointers (RFC 6901) to line/column in a JSON text, for diagnostics. Lines and columns
// are 1-based; columns count characters (UTF-8 code points), as editors do.
class JsonLocator {
  public:
    explicit JsonLocator(std::string text);
    // Position of the value at `pointer` (or of its key); the nearest existing parent if absent.
    std::pair<int, int> locate(std::string_view pointer) const;
    // Position of the key of the object member at `pointer` (where an editor should put the
    // cursor for "unknown key"); locate(pointer) for array items, the root and absent members.
    std::pair<int, int> locate_key(std::string_view pointer) const;
    // Line/column of a byte offset (for parse errors).
    std::pair<int, int> position(size_t byte_offset) const;
    // Position of the character at byte `offset` of the decoded string value at `pointer`, with
    // the escapes of the JSON text taken into account ("\n" is one byte of the value, two of the
    // text). Past the end of the value: the closing quote. locate(pointer) if the value there is
    // not a string.
    std::pair<int, int> locate_in_string(std::string_view pointer, size_t offset) const;
    // Pointers of members whose key appears more than once in the same object (the JSON parser
    // keeps the last one silently, which hides mistakes).
    const std::vector<std::string>& duplicate_keys() const { return duplicates_; }

  private:
    void scan();

    std::string text_;
    std::vector<size_t> line_starts_;
    std::map<std::string, size_t, std::less<>> offsets_;
    std::map<std::string, size_t, std::less<>> key_offsets_;
    std::vector<std::string> duplicates_;
};

// Where a secret comes from. The manifest holds only this reference, never the value.
struct SecretRef {
    enum class Source { env, file };
    Source source = Source::env;
    std::string location;  // variable name or file path (relative paths: to the manifest folder)
};

struct RateLimitOverride {
    int requests = 0;
    std::chrono::milliseconds per{1000};
};

// A destination's "delivery" settings; unset fields keep the hub's defaults (DeliveryOptions).
struct DeliverySettings {
    std::optional<int> max_attempts;
    std::optional<int> breaker_after;
    std::optional<std::chrono::milliseconds> backoff_base, backoff_max;
    std::optional<std::size_t> batch_records;
};

struct ConnectorManifest {
    std::filesystem::path file;  // where it was declared
    std::string id;              // instance id, unique across the folder
    std::string plugin;          // plugin id
    bool enabled = true;
    std::string description;
    nlohmann::json config = nlohmann::json::object();  // without secrets
    std::map<std::string, SecretRef> secrets;          // config field name -> reference
    Schedule schedule;
    std::optional<std::string> plugin_sha256;  // lower-case hex pin
    // Explicit plugin file (must be inside a plugin dir), absolute (resolved against the folder).
    std::optional<std::filesystem::path> plugin_file;
    std::optional<RateLimitOverride> rate_limit;
    std::optional<DeliverySettings> delivery;
    // Positions in `file`, so that later checks (validate_configs, the plugin host) can point at
    // the right line without reading the file again.
    std::shared_ptr<const JsonLocator> locator;
};

// hub.json "ingest_api": the HTTP ingest API served by `cdphub run` (docs/ingest-api.md).
struct IngestApiConfig {
    std::string address = "127.0.0.1";
    int port = 8088;
    std::map<std::string, SecretRef> write_keys;  // source name -> its write key's reference
    int threads = 2;
    bool durability_full = true;
    std::int64_t max_queued_events = 100'000;
    std::int64_t max_backlog_events = 1'000'000;
    std::chrono::milliseconds read_timeout{30'000};
    int retry_after_seconds = 1;
};

// hub.json "admin_api": served on the ingest API's listener (docs/admin-api.md).
struct AdminApiConfig {
    SecretRef token;             // Bearer token every /admin/ request must carry
    bool metrics_public = true;  // false: /metrics wants the token too
};

struct HubConfig {
    std::filesystem::path file;                      // empty if there is no hub.json
    std::vector<std::filesystem::path> plugin_dirs;  // absolute (resolved against the folder)
    std::filesystem::path data_dir;                  // absolute; default <folder>/../var
    std::string log_level;   // "trace" ... "off"; empty if not set (command-line flags win anyway)
    std::string log_format;  // "text" or "json"; empty if not set
    // Without both, `cdphub run` serves no HTTP; with admin_api alone it listens with the
    // ingest API's defaults and no write keys.
    std::optional<IngestApiConfig> ingest_api;
    std::optional<AdminApiConfig> admin_api;
    // "cleansing": phone numbers without '+' are read in this region.
    std::string default_phone_region = "US";
    bool strict_phone_validation = true;
};

struct ManifestSet {
    std::filesystem::path root;
    HubConfig hub;
    // Every instance whose id, plugin and config could be read, so that validate_configs can
    // check them all in one go; other keys with problems fall back to their defaults. The hub
    // must not run anything while `diagnostics` has errors.
    std::vector<ConnectorManifest> connectors;
    // identity.json, or IdentityRules::defaults() without it (then identity.file is empty).
    IdentityRules identity;
    // traits/, segments/ and activations/, in file-name order. Like connectors, every file whose
    // name and expression (or name, segment, destination and mapping) could be read; a name used
    // by two files is kept for the first file only.
    std::vector<ComputedTraitManifest> computed_traits;
    std::vector<SegmentManifest> segments;
    std::vector<ActivationManifest> activations;
    Diagnostics diagnostics;  // format problems found while loading, sorted by file then line

    const ConnectorManifest* find(std::string_view instance_id) const;
    const ComputedTraitManifest* find_computed_trait(std::string_view name) const;
    const SegmentManifest* find_segment(std::string_view name) const;
    const ActivationManifest* find_activation(std::string_view name) const;
};

// Orders diagnostics by file, line and column (then pointer and message), so that output is the
// same from run to run and reads top to bottom. load() and validate_configs() return them sorted;
// call it again after merging lists.
void sort_diagnostics(Diagnostics& diagnostics);

// Reads and checks the folder against the manifest format (manifests/schema/*.schema.json,
// compiled into the hub), then across files: duplicate names, activations naming unknown segments
// or destinations, identity rules naming unknown sources. Never throws for bad content; I/O errors
// on the folder itself become diagnostics too. Expressions are checked by validate_expressions().
ManifestSet load(const std::filesystem::path& root);

// What the hub knows about a plugin's config: its JSON Schema (nullptr if the plugin is unknown).
struct PluginSpec {
    std::string id;
    const nlohmann::json* config_spec = nullptr;
    bool destination = true;  // false: "delivery" settings in its manifests have no effect
};
using PluginLookup = std::function<std::optional<PluginSpec>(std::string_view plugin_id)>;

// Checks each connector's config against its plugin's spec: unknown plugin ids (with the known
// ones listed), unknown keys (unless the spec says "additionalProperties": true), wrong types,
// missing required fields (a required field may be supplied by a secret reference), secret fields
// ("writeOnly": true) given in clear text, secret references to unset variables or unreadable
// files (warnings: validation may run where the secrets are not), "delivery" settings on a
// plugin that is not a destination (a warning).
Diagnostics validate_configs(const ManifestSet& set, const PluginLookup& lookup,
                             const std::vector<std::string>& known_plugin_ids);

}  // namespace cdphub::manifest

// The hubspot plugin's configuration: its JSON Schema (the config spec the hub validates
// manifests against) and the parsed, checked settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cdphub_hubspot {

using cdphub::json;

// What to read of one object type and how it maps to the canonical record.
struct ObjectSpec {
    std::string type;               // "contacts", "companies", "deals", a custom object's name
    std::string modified_property;  // "lastmodifieddate" for contacts, else "hs_lastmodifieddate"
    std::vector<std::pair<std::string, std::string>> identifiers;  // property -> identifier type
    std::vector<std::pair<std::string, std::string>> traits;       // property -> trait name

    // The properties to request: every mapped one plus the modification stamp.
    std::vector<std::string> properties() const;
};

struct Settings {
    std::string base_url = "https://api.hubapi.com";
    std::string token_url;  // default: base_url + "/oauth/v1/token"
    // Either a private-app token, or an OAuth app's client and refresh token.
    std::string access_token, client_id, client_secret, refresh_token;
    std::vector<ObjectSpec> objects;
    // Set: the first read searches objects modified since then instead of listing them all.
    std::optional<int64_t> start_ms;
    int page_size = 100;              // list API, at most 100
    int search_page_size = 200;       // search API, at most 200
    int search_result_limit = 10000;  // results one search can page through
    double search_requests_per_second = 4;
    int64_t index_lag_ms = 60000;   // search sees a change this late at worst
    int max_retries = 3;            // plugin-level retries after the hub's own
    int64_t retry_wait_ms = 10000;  // wait after a 429 without Retry-After (the 10 s window)

    bool oauth() const { return access_token.empty(); }
};

json config_spec();
Settings parse_settings(const json& config);

}  // namespace cdphub_hubspot

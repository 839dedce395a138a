// The meta-audiences destination's configuration: the config spec the hub validates against,
// and the parsed settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "normalize.hpp"

namespace cdphub::meta {

using json = nlohmann::json;

struct Settings {
    std::string base_url;     // https://graph.facebook.com (no trailing '/')
    std::string api_version;  // v25.0
    std::string audience_id;
    std::string access_token;         // system-user token with ads_management; never logged
    std::vector<std::string> schema;  // Meta keys, in payload order
    std::size_t max_users = 10000;    // rows per call (Meta's limit)
    std::uint32_t timeout_ms = 60000;
};

inline json config_spec() {
    return json::parse(R"json({
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "Meta Custom Audience (customer list)",
      "type": "object", "additionalProperties": false,
      "required": ["audience_id", "access_token"],
      "properties": {
        "base_url": {"type": "string", "pattern": "^https?://", "default": "https://graph.facebook.com",
          "description": "Graph API host; override for tests."},
        "api_version": {"type": "string", "pattern": "^v[0-9]+\\.[0-9]+$", "default": "v25.0"},
        "audience_id": {"type": "string", "pattern": "^[0-9]+$",
          "description": "The customer-list Custom Audience's id."},
        "access_token": {"type": "string", "minLength": 1, "writeOnly": true,
          "description": "System-user access token with ads_management; give it as a secret."},
        "schema": {"type": "array", "minItems": 1, "uniqueItems": true,
          "items": {"enum": ["EMAIL", "PHONE", "FN", "LN", "GEN", "DOBY", "CT", "ST", "ZIP", "COUNTRY"]},
          "default": ["EMAIL", "PHONE"],
          "description": "Meta keys sent per user; each reads the mapped field of the same name (any case)."},
        "max_users_per_request": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10000},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300000, "default": 60000}
      }
    })json");
}

inline Settings parse_settings(const json& c) {
    Settings s;
    s.base_url = c.value("base_url", "https://graph.facebook.com");
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    s.api_version = c.value("api_version", "v25.0");
    s.audience_id = c.at("audience_id").get<std::string>();
    s.access_token = c.at("access_token").get<std::string>();
    if (s.access_token.empty()) throw ConfigError("\"access_token\" is empty");
    for (const auto& k : c.value("schema", json::array({"EMAIL", "PHONE"}))) {
        auto key = k.get<std::string>();
        if (!known_key(key)) throw ConfigError("\"schema\" has an unknown Meta key: " + key);
        s.schema.push_back(std::move(key));
    }
    if (s.schema.empty()) throw ConfigError("\"schema\" needs at least one key");
    s.max_users = c.value("max_users_per_request", std::size_t{10000});
    if (s.max_users < 1 || s.max_users > 10000)
        throw ConfigError("\"max_users_per_request\" must be 1..10000 (Meta's limit)");
    s.timeout_ms = c.value("timeout_ms", 60000u);
    return s;
}

}  // namespace cdphub::meta

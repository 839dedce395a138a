// The sfmc destination's configuration: the config spec the hub validates against, and the
// parsed settings. Column names are the Data Extension's; field names are the binding mapping's.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>

namespace cdphub::sfmc {

using json = nlohmann::json;

struct Settings {
    std::string auth_url;  // https://{subdomain}.auth.marketingcloudapis.com (no trailing '/')
    std::string client_id, client_secret, account_id, scope;
    std::string de_key;                       // the Data Extension's external key
    std::string key_column;                   // its primary-key column
    std::string key_field;                    // the operation field that holds the key's value
    std::string membership_column;            // set true on upsert, false on remove
    std::string mode;                         // sync | async | auto
    std::size_t async_threshold = 0;          // auto: more rows than this go async
    std::size_t rowset_max_rows = 50;         // per rowset call (SFMC best practice)
    std::size_t rowset_max_bytes = 5u << 20;  // per rowset call (SFMC hard limit)
    std::size_t async_max_rows = 32000;       // per async request (SFMC hard limit)
    std::string journey_event_key;            // EventDefinitionKey for "entered segment"; "" = none
    std::uint32_t poll_ms = 2000, max_polls = 300;
    std::uint32_t timeout_ms = 30000;
};

inline json config_spec() {
    return json::parse(R"json({
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "Salesforce Marketing Cloud (Data Extension + Journey entry)",
      "type": "object", "additionalProperties": false,
      "required": ["client_id", "client_secret", "data_extension_key"],
      "properties": {
        "subdomain": {"type": "string", "pattern": "^[a-z0-9-]+$",
          "description": "Tenant subdomain: tokens come from https://SUBDOMAIN.auth.marketingcloudapis.com."},
        "auth_base_url": {"type": "string", "pattern": "^https?://",
          "description": "Overrides the auth host (sandboxes, tests). One of subdomain / auth_base_url is required."},
        "client_id": {"type": "string", "minLength": 1},
        "client_secret": {"type": "string", "minLength": 1, "writeOnly": true},
        "account_id": {"type": "string", "description": "MID of the business unit (optional)."},
        "scope": {"type": "string", "description": "Space-separated scopes to request (optional)."},
        "data_extension_key": {"type": "string", "minLength": 1},
        "key_column": {"type": "string", "default": "ContactKey"},
        "key_field": {"type": "string", "default": "contact_key",
          "description": "Mapped field whose value is the primary key (e.g. an email or a hashed id)."},
        "membership_column": {"type": "string", "default": "InSegment",
          "description": "Boolean column: true while the profile is in the segment, false once it left."},
        "mode": {"enum": ["sync", "async", "auto"], "default": "auto"},
        "async_threshold": {"type": "integer", "minimum": 1, "default": 500},
        "rowset_max_rows": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 50},
        "rowset_max_bytes": {"type": "integer", "minimum": 1024, "maximum": 5242880, "default": 5242880},
        "async_max_rows": {"type": "integer", "minimum": 1, "maximum": 32000, "default": 32000},
        "journey_event_key": {"type": "string",
          "description": "Journey entry event for profiles entering the segment (optional)."},
        "poll_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 2000},
        "max_polls": {"type": "integer", "minimum": 1, "default": 300},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300000, "default": 30000}
      }
    })json");
}

inline Settings parse_settings(const json& c) {
    Settings s;
    if (c.contains("auth_base_url"))
        s.auth_url = c.at("auth_base_url").get<std::string>();
    else if (c.contains("subdomain"))
        s.auth_url =
            "https://" + c.at("subdomain").get<std::string>() + ".auth.marketingcloudapis.com";
    else
        throw ConfigError("give \"subdomain\" (or \"auth_base_url\") of the SFMC tenant");
    while (!s.auth_url.empty() && s.auth_url.back() == '/') s.auth_url.pop_back();
    s.client_id = c.at("client_id").get<std::string>();
    s.client_secret = c.at("client_secret").get<std::string>();
    s.account_id = c.value("account_id", "");
    s.scope = c.value("scope", "");
    s.de_key = c.at("data_extension_key").get<std::string>();
    s.key_column = c.value("key_column", "ContactKey");
    s.key_field = c.value("key_field", "contact_key");
    s.membership_column = c.value("membership_column", "InSegment");
    s.mode = c.value("mode", "auto");
    if (s.mode != "sync" && s.mode != "async" && s.mode != "auto")
        throw ConfigError("\"mode\" must be sync, async or auto");
    s.async_threshold = c.value("async_threshold", 500u);
    s.rowset_max_rows = c.value("rowset_max_rows", 50u);
    s.rowset_max_bytes = c.value("rowset_max_bytes", std::size_t{5u << 20});
    s.async_max_rows = c.value("async_max_rows", 32000u);
    s.journey_event_key = c.value("journey_event_key", "");
    s.poll_ms = c.value("poll_ms", 2000u);
    s.max_polls = c.value("max_polls", 300u);
    s.timeout_ms = c.value("timeout_ms", 30000u);
    return s;
}

}  // namespace cdphub::sfmc

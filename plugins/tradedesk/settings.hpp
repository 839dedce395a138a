// The tradedesk destination's configuration: the config spec the hub validates against, and the
// parsed settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cdphub::ttd {

using json = nlohmann::json;

// The user-id keys an item of the Data API may carry, in TTD's spelling.
inline constexpr std::array<std::string_view, 6> kIdTypes{"TDID", "UID2", "UID2Token",
                                                          "EUID", "DAID", "IDL"};

struct Settings {
    std::string base_url;  // https://use-data.adsrvr.org (no trailing '/')
    std::string advertiser_id;
    std::string auth_token;             // TTD-Auth; never logged
    std::vector<std::string> id_types;  // which item keys to send, each from the same-named field
    std::string data_name;              // segment Data Name; "" = data_name_prefix + segment
    std::string data_name_prefix;
    std::int64_t ttl_minutes = 43200;
    std::size_t max_items = 10000;  // items per request (TTD publishes no figure; 413 halves it)
    int item_number_base = 1;       // FailedLines ItemNumber of the first item
    std::uint32_t timeout_ms = 30000;
};

inline json config_spec() {
    return json::parse(R"json({
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "The Trade Desk first-party data (Data API)",
      "type": "object", "additionalProperties": false,
      "required": ["advertiser_id", "auth_token"],
      "properties": {
        "base_url": {"type": "string", "pattern": "^https?://", "default": "https://use-data.adsrvr.org",
          "description": "The data server of the advertiser's region (use-, usw-, euw-, ...data.adsrvr.org)."},
        "advertiser_id": {"type": "string", "minLength": 1},
        "auth_token": {"type": "string", "minLength": 1, "writeOnly": true,
          "description": "Data API token sent as TTD-Auth; give it as a secret."},
        "id_types": {"type": "array", "minItems": 1, "uniqueItems": true,
          "items": {"enum": ["TDID", "UID2", "UID2Token", "EUID", "DAID", "IDL"]},
          "default": ["TDID", "UID2"],
          "description": "Item id keys; each reads the mapped field of the same name (any case)."},
        "data_name": {"type": "string", "minLength": 1,
          "description": "The segment's Data Name; default: data_name_prefix + the hub segment's name."},
        "data_name_prefix": {"type": "string", "default": "cdp_"},
        "ttl_minutes": {"type": "integer", "minimum": 1, "maximum": 259200, "default": 43200,
          "description": "How long TTD keeps a member without a refresh (max 180 days)."},
        "max_items_per_request": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10000},
        "failed_line_item_base": {"enum": [0, 1], "default": 1,
          "description": "ItemNumber of the first item in FailedLines (confirm against your sandbox)."},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300000, "default": 30000}
      }
    })json");
}

inline Settings parse_settings(const json& c) {
    Settings s;
    s.base_url = c.value("base_url", "https://use-data.adsrvr.org");
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    s.advertiser_id = c.at("advertiser_id").get<std::string>();
    s.auth_token = c.at("auth_token").get<std::string>();
    if (s.auth_token.empty()) throw ConfigError("\"auth_token\" is empty");
    for (const auto& t : c.value("id_types", json::array({"TDID", "UID2"}))) {
        auto type = t.get<std::string>();
        bool known = false;
        for (auto k : kIdTypes) known = known || k == type;
        if (!known) throw ConfigError("\"id_types\" has an unknown TTD id type: " + type);
        s.id_types.push_back(std::move(type));
    }
    if (s.id_types.empty()) throw ConfigError("\"id_types\" needs at least one type");
    s.data_name = c.value("data_name", "");
    s.data_name_prefix = c.value("data_name_prefix", "cdp_");
    s.ttl_minutes = c.value("ttl_minutes", std::int64_t{43200});
    if (s.ttl_minutes < 1) throw ConfigError("\"ttl_minutes\" must be at least 1");
    s.max_items = c.value("max_items_per_request", std::size_t{10000});
    if (s.max_items < 1) throw ConfigError("\"max_items_per_request\" must be at least 1");
    s.item_number_base = c.value("failed_line_item_base", 1);
    s.timeout_ms = c.value("timeout_ms", 30000u);
    return s;
}

}  // namespace cdphub::ttd

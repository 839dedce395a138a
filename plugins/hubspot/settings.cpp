#include "settings.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>

namespace cdphub_hubspot {
namespace {

using Mapping = std::vector<std::pair<std::string, std::string>>;

// Defaults for the two standard objects. HubSpot ids are unique per object type only, so
// contacts and companies get different identifier types: a shared one would merge contact 101
// with company 101.
ObjectSpec default_spec(const std::string& type) {
    ObjectSpec s;
    s.type = type;
    s.modified_property = type == "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate";
    if (type == "contacts") {
        s.identifiers = {{"email", "email"}, {"hs_object_id", "hubspot_id"}};
        s.traits = {{"firstname", "first_name"},
                    {"lastname", "last_name"},
                    {"phone", "phone"},
                    {"country", "country"}};
    } else if (type == "companies") {
        s.identifiers = {{"hs_object_id", "hubspot_company_id"}};
        s.traits = {{"name", "company_name"},
                    {"domain", "domain"},
                    {"industry", "industry"},
                    {"country", "country"}};
    } else {
        s.identifiers = {{"hs_object_id", "hubspot_" + type + "_id"}};
    }
    return s;
}

Mapping mapping(const json& j, const char* what, const std::string& type) {
    if (!j.is_object())
        throw cdphub::ConfigError("objects[" + type + "]." + what +
                                  " must map HubSpot property names to names");
    Mapping out;
    for (const auto& [k, v] : j.items()) {
        if (!v.is_string() || v.get<std::string>().empty())
            throw cdphub::ConfigError("objects[" + type + "]." + what + "." + k +
                                      " must be a non-empty string");
        out.emplace_back(k, v.get<std::string>());
    }
    return out;
}

template <class T>
T number(const json& c, const char* key, T def, T lo, T hi) {
    auto it = c.find(key);
    if (it == c.end()) return def;
    if (!it->is_number() || it->get<double>() < static_cast<double>(lo) ||
        it->get<double>() > static_cast<double>(hi))
        throw cdphub::ConfigError(std::string("\"") + key + "\" must be a number from " +
                                  std::to_string(lo) + " to " + std::to_string(hi));
    return it->get<T>();
}

std::string text(const json& c, const char* key) {
    auto it = c.find(key);
    if (it == c.end()) return {};
    if (!it->is_string())
        throw cdphub::ConfigError(std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
}

}  // namespace

std::vector<std::string> ObjectSpec::properties() const {
    std::vector<std::string> out;
    auto add = [&](const std::string& p) {
        if (p != "id" && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    for (const auto& [p, n] : identifiers) add(p);
    for (const auto& [p, n] : traits) add(p);
    add(modified_property);
    return out;
}

json config_spec() {
    return json::parse(R"({
      "type": "object",
      "additionalProperties": false,
      "anyOf": [
        {"required": ["access_token"]},
        {"required": ["client_id", "client_secret", "refresh_token"]}
      ],
      "properties": {
        "base_url": {"type": "string", "format": "uri", "default": "https://api.hubapi.com",
                     "description": "HubSpot API base URL."},
        "token_url": {"type": "string", "format": "uri",
                      "description": "OAuth token endpoint; default base_url + /oauth/v1/token."},
        "access_token": {"type": "string", "writeOnly": true, "minLength": 1,
                         "description": "Private app access token (Bearer). Use this or the OAuth fields."},
        "client_id": {"type": "string", "minLength": 1, "description": "OAuth app client id."},
        "client_secret": {"type": "string", "writeOnly": true, "minLength": 1},
        "refresh_token": {"type": "string", "writeOnly": true, "minLength": 1},
        "objects": {
          "type": "array", "minItems": 1,
          "default": ["contacts", "companies"],
          "description": "Object types to read: a name (default mapping) or {type, modified_property, identifiers, traits}.",
          "items": {
            "oneOf": [
              {"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"},
              {"type": "object", "additionalProperties": false, "required": ["type"],
               "properties": {
                 "type": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"},
                 "modified_property": {"type": "string", "minLength": 1},
                 "identifiers": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
                 "traits": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
               }}
            ]
          }
        },
        "start_date": {"type": "string", "format": "date-time",
                       "description": "Read only objects modified since then (ISO-8601), by search instead of a full list."},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
        "search_page_size": {"type": "integer", "minimum": 1, "maximum": 200, "default": 200},
        "search_result_limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10000},
        "search_requests_per_second": {"type": "number", "minimum": 0, "maximum": 100, "default": 4},
        "index_lag_ms": {"type": "integer", "minimum": 0, "maximum": 3600000, "default": 60000},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 3},
        "retry_wait_ms": {"type": "integer", "minimum": 0, "maximum": 600000, "default": 10000}
      }
    })");
}

Settings parse_settings(const json& c) {
    if (!c.is_object()) throw cdphub::ConfigError("config must be a JSON object");
    static const std::vector<std::string> known{
        "base_url",         "token_url",           "access_token",
        "client_id",        "client_secret",       "refresh_token",
        "objects",          "start_date",          "page_size",
        "search_page_size", "search_result_limit", "search_requests_per_second",
        "index_lag_ms",     "max_retries",         "retry_wait_ms"};
    for (const auto& [k, v] : c.items())
        if (std::find(known.begin(), known.end(), k) == known.end())
            throw cdphub::ConfigError("unknown config field \"" + k + "\"");
    Settings s;
    if (auto b = text(c, "base_url"); !b.empty()) s.base_url = b;
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    s.token_url = text(c, "token_url");
    if (s.token_url.empty()) s.token_url = s.base_url + "/oauth/v1/token";
    s.access_token = text(c, "access_token");
    s.client_id = text(c, "client_id");
    s.client_secret = text(c, "client_secret");
    s.refresh_token = text(c, "refresh_token");
    if (s.access_token.empty() &&
        (s.client_id.empty() || s.client_secret.empty() || s.refresh_token.empty()))
        throw cdphub::ConfigError(
            "give either \"access_token\" (a private app token) or \"client_id\", "
            "\"client_secret\" and \"refresh_token\" (an OAuth app)");
    if (!s.access_token.empty() && !s.refresh_token.empty())
        throw cdphub::ConfigError(
            "give either \"access_token\" or the OAuth fields, not both: which one should be "
            "used?");

    json objects = c.value("objects", json::array({"contacts", "companies"}));
    if (!objects.is_array() || objects.empty())
        throw cdphub::ConfigError("\"objects\" must be a non-empty array");
    for (const auto& o : objects) {
        if (o.is_string()) {
            s.objects.push_back(default_spec(o.get<std::string>()));
            continue;
        }
        if (!o.is_object() || !o.contains("type") || !o["type"].is_string())
            throw cdphub::ConfigError("each of \"objects\" is a type name or {\"type\": ...}");
        ObjectSpec spec = default_spec(o["type"].get<std::string>());
        if (o.contains("modified_property"))
            spec.modified_property = o["modified_property"].get<std::string>();
        if (o.contains("identifiers"))
            spec.identifiers = mapping(o["identifiers"], "identifiers", spec.type);
        if (o.contains("traits")) spec.traits = mapping(o["traits"], "traits", spec.type);
        if (spec.identifiers.empty())
            throw cdphub::ConfigError("objects[" + spec.type +
                                      "].identifiers must map at least one property");
        s.objects.push_back(std::move(spec));
    }
    for (size_t i = 0; i < s.objects.size(); ++i)
        for (size_t j = i + 1; j < s.objects.size(); ++j)
            if (s.objects[i].type == s.objects[j].type)
                throw cdphub::ConfigError("object type \"" + s.objects[i].type +
                                          "\" is listed twice");
    if (auto d = text(c, "start_date"); !d.empty()) {
        s.start_ms = cdphub::plugins::parse_utc_ms(d);
        if (!s.start_ms)
            throw cdphub::ConfigError(
                "\"start_date\" must be an ISO-8601 time with offset, like "
                "2024-01-01T00:00:00Z");
    }
    s.page_size = number(c, "page_size", 100, 1, 100);
    s.search_page_size = number(c, "search_page_size", 200, 1, 200);
    s.search_result_limit = number(c, "search_result_limit", 10000, 1, 10000);
    s.search_requests_per_second = number(c, "search_requests_per_second", 4.0, 0.0, 100.0);
    s.index_lag_ms = number<int64_t>(c, "index_lag_ms", 60000, 0, 3600000);
    s.max_retries = number(c, "max_retries", 3, 0, 10);
    s.retry_wait_ms = number<int64_t>(c, "retry_wait_ms", 10000, 0, 600000);
    return s;
}

}  // namespace cdphub_hubspot

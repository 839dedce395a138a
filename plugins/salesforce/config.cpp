#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace cdphub::salesforce {
namespace {

// sObject and field API names: a letter, then letters, digits and single underscores (custom
// names end in __c, which the pattern allows). Relationship paths join names with dots.
const std::regex kObjectName("^[A-Za-z][A-Za-z0-9_]{0,79}$");
const std::regex kFieldPath("^[A-Za-z][A-Za-z0-9_]{0,79}(\\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$");
const std::regex kIdentifierType("^[a-z][a-z0-9_]{0,63}$");
const std::regex kApiVersion("^[1-9][0-9]\\.0$");

constexpr const char* kNamePattern = "^[A-Za-z][A-Za-z0-9_]{0,79}$";
constexpr const char* kPathPattern =
    "^[A-Za-z][A-Za-z0-9_]{0,79}(\\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$";

FieldMap read_map(const json& j, const std::string& where, const std::regex& value_re,
                  const char* value_what) {
    if (!j.is_object()) throw ConfigError(where + " must be an object of field -> name");
    FieldMap out;
    for (const auto& [field, name] : j.items()) {
        if (!std::regex_match(field, kFieldPath))
            throw ConfigError(where + ": '" + field +
                              "' is not a Salesforce field name or relationship path "
                              "(e.g. Email, Account.Name)");
        if (!name.is_string() || !std::regex_match(name.get<std::string>(), value_re))
            throw ConfigError(where + "." + field + " must be " + value_what);
        out.emplace_back(field, name.get<std::string>());
    }
    return out;
}

ObjectSpec read_object(const json& j, std::size_t index) {
    const std::string where = "objects[" + std::to_string(index) + "]";
    if (j.is_string()) {
        if (!std::regex_match(j.get<std::string>(), kObjectName))
            throw ConfigError(where + " is not an sObject API name");
        return default_object(j.get<std::string>());
    }
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
        throw ConfigError(where +
                          " must be an object name or {\"name\", \"identifiers\", \"traits\"}");
    const auto name = j["name"].get<std::string>();
    if (!std::regex_match(name, kObjectName))
        throw ConfigError(where + ".name '" + name + "' is not an sObject API name");
    ObjectSpec spec = default_object(name);
    if (j.contains("identifiers"))
        spec.identifiers = read_map(j["identifiers"], where + ".identifiers", kIdentifierType,
                                    "an identifier type such as email, phone or crm_id");
    if (j.contains("traits"))
        spec.traits = read_map(j["traits"], where + ".traits", std::regex("^.{1,128}$"),
                               "a trait name (1 to 128 characters)");
    if (spec.identifiers.empty())
        throw ConfigError(where + " (" + name +
                          ") maps no field to an identifier: its records could not be "
                          "attached to any profile; map at least Id, e.g. {\"Id\": \"crm_id\"}");
    return spec;
}

int read_int(const json& c, const char* key, int def, int lo, int hi) {
    if (!c.contains(key)) return def;
    if (!c[key].is_number_integer() || c[key].get<long long>() < lo || c[key].get<long long>() > hi)
        throw ConfigError(std::string(key) + " must be an integer from " + std::to_string(lo) +
                          " to " + std::to_string(hi));
    return c[key].get<int>();
}

std::string read_string(const json& c, const char* key, const std::string& def = {}) {
    if (!c.contains(key)) return def;
    if (!c[key].is_string()) throw ConfigError(std::string(key) + " must be a string");
    return c[key].get<std::string>();
}

json described(json schema, const char* text) {
    schema["description"] = text;
    return schema;
}

std::string without_trailing_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

}  // namespace

std::vector<std::string> ObjectSpec::fields(bool with_deleted) const {
    std::vector<std::string> out{"Id", "SystemModstamp"};
    if (with_deleted) out.push_back("IsDeleted");
    auto add = [&](const std::string& f) {
        // SOQL names are case-insensitive: a field selected twice is an error (duplicate field).
        auto same = [&](const std::string& o) {
            return o.size() == f.size() &&
                   std::equal(o.begin(), o.end(), f.begin(), [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                   });
        };
        if (std::none_of(out.begin(), out.end(), same)) out.push_back(f);
    };
    for (const auto& [f, _] : identifiers) add(f);
    for (const auto& [f, _] : traits) add(f);
    return out;
}

ObjectSpec default_object(const std::string& name) {
    ObjectSpec s;
    s.name = name;
    // Salesforce Ids are unique across objects (the first three characters name the object), so
    // Contact and Lead Ids can share the crm_id type without colliding.
    if (name == "Contact") {
        s.identifiers = {{"Email", "email"}, {"Id", "crm_id"}};
        s.traits = {
            {"FirstName", "first_name"},    {"LastName", "last_name"}, {"Phone", "phone"},
            {"MailingCountry", "country"},  {"MailingCity", "city"},   {"Title", "job_title"},
            {"AccountId", "crm_account_id"}};
    } else if (name == "Lead") {
        s.identifiers = {{"Email", "email"}, {"Id", "crm_id"}};
        s.traits = {{"FirstName", "first_name"}, {"LastName", "last_name"},
                    {"Phone", "phone"},          {"Country", "country"},
                    {"Company", "company"},      {"Status", "lead_status"}};
    } else if (name == "Account") {
        // An account is a company, not a person: it gets its own identifier type so that it
        // never merges with the people who work there.
        s.identifiers = {{"Id", "crm_account_id"}};
        s.traits = {{"Name", "company"},
                    {"Industry", "industry"},
                    {"BillingCountry", "country"},
                    {"Phone", "phone"}};
    } else {
        s.identifiers = {{"Id", "crm_id"}};
    }
    return s;
}

Config parse_config(const json& c) {
    if (!c.is_object()) throw ConfigError("the config must be a JSON object");
    Config cfg;
    cfg.login_url = without_trailing_slash(read_string(c, "login_url"));
    if (cfg.login_url.rfind("https://", 0) != 0 && cfg.login_url.rfind("http://", 0) != 0)
        throw ConfigError(
            "login_url must be the org's https URL, e.g. https://acme.my.salesforce.com "
            "(or https://test.salesforce.com for a sandbox)");
    cfg.api_version = read_string(c, "api_version", cfg.api_version);
    if (!std::regex_match(cfg.api_version, kApiVersion))
        throw ConfigError("api_version must look like 62.0");
    cfg.grant_type = read_string(c, "grant_type", cfg.grant_type);
    if (cfg.grant_type != "client_credentials" && cfg.grant_type != "refresh_token")
        throw ConfigError("grant_type must be client_credentials or refresh_token");
    cfg.client_id = read_string(c, "client_id");
    if (cfg.client_id.empty())
        throw ConfigError("client_id (the external client app's consumer key) is required");
    cfg.client_secret = read_string(c, "client_secret");
    if (cfg.client_secret.empty())
        throw ConfigError("client_secret (the consumer secret) is required, as a secret reference");
    cfg.refresh_token = read_string(c, "refresh_token");
    if (cfg.grant_type == "refresh_token" && cfg.refresh_token.empty())
        throw ConfigError("grant_type refresh_token needs refresh_token, as a secret reference");
    cfg.batch_size = read_int(c, "batch_size", cfg.batch_size, 200, 2000);
    const auto deleted = read_string(c, "deleted_rows", "event");
    if (deleted == "event")
        cfg.deleted_rows = DeletedRows::event;
    else if (deleted == "trait")
        cfg.deleted_rows = DeletedRows::trait;
    else if (deleted == "ignore")
        cfg.deleted_rows = DeletedRows::ignore;
    else
        throw ConfigError("deleted_rows must be event, trait or ignore");
    cfg.max_session_renewals = read_int(c, "max_session_renewals", cfg.max_session_renewals, 1, 10);
    cfg.max_query_restarts = read_int(c, "max_query_restarts", cfg.max_query_restarts, 0, 100);
    cfg.daily_limit_retry_after_ms =
        read_int(c, "daily_limit_retry_after_s", 3600, 0, 86400) * std::int64_t{1000};
    cfg.concurrency_retry_after_ms =
        read_int(c, "concurrency_retry_after_s", 10, 0, 3600) * std::int64_t{1000};

    const json objects =
        c.contains("objects") ? c["objects"] : json::array({"Contact", "Lead", "Account"});
    if (!objects.is_array() || objects.empty())
        throw ConfigError("objects must be a non-empty array");
    for (std::size_t i = 0; i < objects.size(); ++i) {
        auto spec = read_object(objects[i], i);
        for (const auto& o : cfg.objects)
            if (o.name == spec.name) throw ConfigError("objects lists " + spec.name + " twice");
        cfg.objects.push_back(std::move(spec));
    }
    return cfg;
}

json config_spec() {
    const json field_map = {
        {"type", "object"},
        {"propertyNames", {{"pattern", kPathPattern}}},
        {"additionalProperties", {{"type", "string"}, {"minLength", 1}, {"maxLength", 128}}}};
    const json object_item = {
        {"oneOf",
         {{{"type", "string"},
           {"pattern", kNamePattern},
           {"description", "An sObject with its default mapping (Contact, Lead, Account)"}},
          {{"type", "object"},
           {"additionalProperties", false},
           {"required", {"name"}},
           {"properties",
            {{"name", {{"type", "string"}, {"pattern", kNamePattern}}},
             {"identifiers", described(field_map,
                                       "Field (or relationship path) -> identifier "
                                       "type; replaces the default identifiers")},
             {"traits", described(field_map,
                                  "Field (or relationship path) -> trait name; "
                                  "replaces the default traits")}}}}}}};
    return {
        {"type", "object"},
        {"additionalProperties", false},
        {"required", {"login_url", "client_id", "client_secret"}},
        {"properties",
         {{"login_url",
           {{"type", "string"},
            {"format", "uri"},
            {"description",
             "Where tokens come from: the org's My Domain URL (https://acme.my.salesforce.com), "
             "or https://test.salesforce.com for a sandbox. API calls go to the instance_url "
             "the token response names."}}},
          {"api_version",
           {{"type", "string"}, {"pattern", "^[1-9][0-9]\\.0$"}, {"default", "62.0"}}},
          {"grant_type",
           {{"enum", {"client_credentials", "refresh_token"}}, {"default", "client_credentials"}}},
          {"client_id", {{"type", "string"}, {"minLength", 1}}},
          {"client_secret", {{"type", "string"}, {"writeOnly", true}}},
          {"refresh_token", {{"type", "string"}, {"writeOnly", true}}},
          {"batch_size",
           {{"type", "integer"},
            {"minimum", 200},
            {"maximum", 2000},
            {"default", 2000},
            {"description", "Rows per page asked for with Sforce-Query-Options"}}},
          {"deleted_rows",
           {{"enum", {"event", "trait", "ignore"}},
            {"default", "event"},
            {"description",
             "Rows deleted in Salesforce: a 'CRM Record Deleted' track record, a "
             "deleted_in_crm trait, or not read"}}},
          {"objects",
           {{"type", "array"},
            {"minItems", 1},
            {"items", object_item},
            {"default", {"Contact", "Lead", "Account"}}}},
          {"max_session_renewals",
           {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}, {"default", 3}}},
          {"max_query_restarts",
           {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}, {"default", 5}}},
          {"daily_limit_retry_after_s",
           {{"type", "integer"}, {"minimum", 0}, {"maximum", 86400}, {"default", 3600}}},
          {"concurrency_retry_after_s",
           {{"type", "integer"}, {"minimum", 0}, {"maximum", 3600}, {"default", 10}}}}}};
}

}  // namespace cdphub::salesforce

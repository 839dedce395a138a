// The liveramp-files destination's configuration: the config spec the hub validates against,
// and the parsed settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cdphub::liveramp {

using json = nlohmann::json;

struct Column {
    std::string name;   // CSV header: letters, digits, underscores, at most 128
    std::string field;  // the binding-mapping field it reads
    std::string type;   // email | phone
};

struct Settings {
    std::string drop_folder;
    std::string segment_name;  // "" = the hub segment's name
    std::vector<Column> columns;
    std::string membership_column;
    std::uint64_t max_file_bytes = 500ull << 20;  // LiveRamp's limit per file
};

inline bool header_name(const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

inline json config_spec() {
    return json::parse(R"json({
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "LiveRamp file onboarding (CSV drop folder)",
      "type": "object", "additionalProperties": false,
      "required": ["drop_folder"],
      "properties": {
        "drop_folder": {"type": "string", "minLength": 1, "x-cdphub-path": true,
          "description": "Existing folder the files go to (the one your SFTP/S3 uploader ships)."},
        "segment_name": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,100}$",
          "description": "Name in the file names; default: the hub segment's name."},
        "columns": {"type": "array", "minItems": 1, "maxItems": 6,
          "items": {"type": "object", "additionalProperties": false, "required": ["name", "field", "type"],
            "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,128}$"},
                           "field": {"type": "string", "minLength": 1},
                           "type": {"enum": ["email", "phone"]}}},
          "default": [{"name": "EMAIL_SHA256", "field": "email", "type": "email"},
                      {"name": "PHONE_SHA256", "field": "phone", "type": "phone"}]},
        "membership_column": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,128}$", "default": "SEGMENT_MEMBER",
          "description": "1 while the person is in the segment, 0 once they left."},
        "max_file_bytes": {"type": "integer", "minimum": 1024, "maximum": 524288000, "default": 524288000}
      }
    })json");
}

inline Settings parse_settings(const json& c) {
    Settings s;
    s.drop_folder = c.at("drop_folder").get<std::string>();
    s.segment_name = c.value("segment_name", "");
    s.membership_column = c.value("membership_column", "SEGMENT_MEMBER");
    s.max_file_bytes = c.value("max_file_bytes", std::uint64_t{500ull << 20});
    const json def =
        json::array({{{"name", "EMAIL_SHA256"}, {"field", "email"}, {"type", "email"}},
                     {{"name", "PHONE_SHA256"}, {"field", "phone"}, {"type", "phone"}}});
    int emails = 0, phones = 0;
    for (const auto& col : c.value("columns", def)) {
        Column k{col.at("name").get<std::string>(), col.at("field").get<std::string>(),
                 col.at("type").get<std::string>()};
        if (!header_name(k.name))
            throw ConfigError("column name \"" + k.name +
                              "\" must be letters, digits and underscores (at most 128)");
        if (k.type == "email")
            ++emails;
        else if (k.type == "phone")
            ++phones;
        else
            throw ConfigError("column type must be email or phone: " + k.type);
        s.columns.push_back(std::move(k));
    }
    if (emails > 3 || phones > 3)
        throw ConfigError("LiveRamp takes at most 3 email and 3 phone columns");
    if (s.columns.empty()) throw ConfigError("\"columns\" needs at least one column");
    if (!header_name(s.membership_column))
        throw ConfigError("\"membership_column\" must be letters, digits and underscores");
    return s;
}

}  // namespace cdphub::liveramp

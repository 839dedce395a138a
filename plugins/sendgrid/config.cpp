#include "config.hpp"

namespace cdphub::sendgrid {

json config_spec() {
    return json::parse(R"json({
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "verification_key": {"type": "string",
          "description": "Signed Event Webhook verification key (base64 DER or PEM, ECDSA P-256)"},
        "max_signature_age_seconds": {"type": "integer", "minimum": 0, "maximum": 604800,
          "default": 600},
        "api_key": {"type": "string", "writeOnly": true, "minLength": 1,
          "description": "Destination: API key with Marketing Contacts access"},
        "base_url": {"type": "string", "format": "uri", "default": "https://api.sendgrid.com"},
        "list_ids": {"type": "array", "items": {"type": "string", "minLength": 1},
          "description": "Destination: the lists segment members are added to and removed from"},
        "email_field": {"type": "string", "minLength": 1, "default": "email"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
          "description": "Reserved contact field (first_name, last_name, ...) -> binding field"},
        "custom_fields": {"type": "object", "additionalProperties": {"type": "string"},
          "description": "Custom field id (e.g. e1_T) -> binding field; the field must exist"},
        "max_contacts": {"type": "integer", "minimum": 1, "maximum": 30000, "default": 30000},
        "max_bytes": {"type": "integer", "minimum": 1024, "maximum": 6000000, "default": 6000000},
        "poll_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 2000},
        "max_polls": {"type": "integer", "minimum": 1, "default": 300},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300000, "default": 30000},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        "retry_backoff_ms": {"type": "integer", "minimum": 0, "maximum": 600000, "default": 2000}
      }})json");
}

Config parse_config(const json& config) {
    Config c;
    try {
        c.verification_key = config.value("verification_key", std::string());
        c.max_signature_age_seconds = config.value("max_signature_age_seconds", int64_t{600});
    } catch (const json::exception&) {
        throw ConfigError("verification_key must be a string, max_signature_age_seconds a number");
    }
    if (c.max_signature_age_seconds < 0)
        throw ConfigError("max_signature_age_seconds must be 0 (no limit) or more");
    try {
        c.api_key = config.value("api_key", std::string());
        c.base_url = config.value("base_url", c.base_url);
        c.list_ids = config.value("list_ids", std::vector<std::string>());
        c.email_field = config.value("email_field", c.email_field);
        c.fields = config.value("fields", std::map<std::string, std::string>());
        c.custom_fields = config.value("custom_fields", std::map<std::string, std::string>());
        c.max_contacts = config.value("max_contacts", c.max_contacts);
        c.max_bytes = config.value("max_bytes", c.max_bytes);
        c.poll_ms = config.value("poll_ms", c.poll_ms);
        c.max_polls = config.value("max_polls", c.max_polls);
        c.timeout_ms = config.value("timeout_ms", c.timeout_ms);
        c.max_attempts = config.value("max_attempts", c.max_attempts);
        c.retry_backoff_ms = config.value("retry_backoff_ms", c.retry_backoff_ms);
    } catch (const json::exception&) {
        throw ConfigError("a destination setting has the wrong type (see the config spec)");
    }
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    if (c.max_contacts < 1 || c.max_attempts < 1)
        throw ConfigError("max_contacts and max_attempts must be at least 1");
    return c;
}

}  // namespace cdphub::sendgrid

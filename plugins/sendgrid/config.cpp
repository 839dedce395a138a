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
          "default": 600}
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
    return c;
}

}  // namespace cdphub::sendgrid

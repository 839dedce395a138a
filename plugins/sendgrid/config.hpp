// The SendGrid instance's settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>

namespace cdphub::sendgrid {

struct Config {
    // The Signed Event Webhook's verification key (Settings > Mail Settings > Event Webhook):
    // base64 DER (SubjectPublicKeyInfo, ECDSA P-256), PEM accepted. Empty: requests are not
    // checked (only for a webhook URL nobody else can reach).
    std::string verification_key;
    // A signed request whose timestamp is further than this from the hub's clock is refused, so
    // a captured request cannot be replayed much later. 0: no limit.
    int64_t max_signature_age_seconds = 600;
};

Config parse_config(const json& config);
json config_spec();

}  // namespace cdphub::sendgrid

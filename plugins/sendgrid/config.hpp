// The SendGrid instance's settings.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cdphub::sendgrid {

struct Config {
    // The Signed Event Webhook's verification key (Settings > Mail Settings > Event Webhook):
    // base64 DER (SubjectPublicKeyInfo, ECDSA P-256), PEM accepted. Empty: requests are not
    // checked (only for a webhook URL nobody else can reach).
    std::string verification_key;
    // A signed request whose timestamp is further than this from the hub's clock is refused, so
    // a captured request cannot be replayed much later. 0: no limit.
    int64_t max_signature_age_seconds = 600;

    // Destination role (destination_contacts.cpp): Marketing Contacts.
    std::string api_key;                                // secret; Bearer
    std::string base_url = "https://api.sendgrid.com";  // no trailing slash
    std::vector<std::string> list_ids;                  // lists the segment is kept in
    std::string email_field = "email";                  // binding field with the email
    std::map<std::string, std::string> fields;          // reserved field -> binding field
    std::map<std::string, std::string> custom_fields;   // custom field id -> binding field
    std::size_t max_contacts = 30000;                   // per PUT (SendGrid's limit)
    std::size_t max_bytes = 6000000;                    // per PUT body (SendGrid's limit)
    std::uint32_t poll_ms = 2000, max_polls = 300, timeout_ms = 30000;
    int max_attempts = 5;  // the plugin's own retries
    int64_t retry_backoff_ms = 2000;
};

Config parse_config(const json& config);
json config_spec();

}  // namespace cdphub::sendgrid

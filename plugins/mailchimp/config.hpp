// The Mailchimp instance's settings, read once from the config the hub hands to create().
#pragma once

#include <cdphub/sdk.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace cdphub::mailchimp {

struct Config {
    std::string api_key;   // "<32 hex>-<dc>"; secret
    std::string base_url;  // "https://<dc>.api.mailchimp.com", no trailing slash
    std::string list_id;   // the audience
    int page_size = 500;   // members per GET (Mailchimp allows 1..1000)
    // Merge field tag -> trait name. Tags not listed become "mailchimp_<tag lower case>" traits
    // unless keep_unmapped_merge_fields is false.
    std::map<std::string, std::string> merge_fields;
    bool keep_unmapped_merge_fields = true;
    // Members changed in the last `settle_seconds` are left to the next read, so a change that
    // Mailchimp has stamped but not yet made visible to listings is never skipped.
    int64_t settle_seconds = 60;
    // Attempts per page after the hub's own retries gave up (429, 5xx, hang-ups), and the
    // first pause between them (doubling, at most 60 s).
    int max_attempts = 5;
    int64_t retry_backoff_ms = 2000;
    std::string webhook_secret;  // secret; the last segment of the webhook URL path

    // Destination role (destination_members.cpp). merge_fields above maps a merge tag to the
    // binding field that fills it (name it like the trait, e.g. "first_name").
    std::string email_field = "email";         // binding field holding the member's email
    std::string status_if_new = "subscribed";  // subscribed | pending | transactional
    std::string tag;                           // segment tag; "" = the operation's segment
    std::string removal = "tag";               // tag (mark the tag inactive) | archive
    std::size_t batch_threshold = 20;          // more changes than this go through /batches
    std::size_t batch_max_operations = 500;    // per POST /3.0/batches
    std::size_t batch_max_bytes = 4u << 20;    // per POST /3.0/batches body
    std::uint32_t poll_ms = 2000, max_polls = 300;
    std::uint32_t timeout_ms = 120000;  // Mailchimp's own request timeout
};

// Throws ConfigError with a message that names the field.
Config parse_config(const json& config);

// The config_spec (JSON Schema) of the plugin.
json config_spec();

}  // namespace cdphub::mailchimp

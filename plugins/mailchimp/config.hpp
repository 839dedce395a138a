// The Mailchimp instance's settings, read once from the config the hub hands to create().
#pragma once

#include <cdphub/sdk.hpp>

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
};

// Throws ConfigError with a message that names the field.
Config parse_config(const json& config);

// The config_spec (JSON Schema) of the plugin.
json config_spec();

}  // namespace cdphub::mailchimp

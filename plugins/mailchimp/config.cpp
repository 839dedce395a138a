#include "config.hpp"

namespace cdphub::mailchimp {

json config_spec() {
    return json::parse(R"json({
      "type": "object",
      "additionalProperties": false,
      "required": ["api_key", "list_id"],
      "properties": {
        "api_key": {"type": "string", "writeOnly": true, "minLength": 1,
          "description": "Mailchimp API key; its suffix (e.g. -us21) names the data center"},
        "base_url": {"type": "string", "format": "uri",
          "description": "API host without /3.0; default https://<dc>.api.mailchimp.com"},
        "list_id": {"type": "string", "minLength": 1, "description": "Audience (list) id"},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
        "merge_fields": {"type": "object", "additionalProperties": {"type": "string"},
          "description": "Merge field tag -> trait name; default FNAME, LNAME, PHONE, ADDRESS, BIRTHDAY"},
        "keep_unmapped_merge_fields": {"type": "boolean", "default": true},
        "settle_seconds": {"type": "integer", "minimum": 0, "maximum": 86400, "default": 60},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        "retry_backoff_ms": {"type": "integer", "minimum": 0, "maximum": 600000, "default": 2000},
        "webhook_secret": {"type": "string", "writeOnly": true, "minLength": 16,
          "description": "Last path segment of the audience webhook URL"},
        "email_field": {"type": "string", "minLength": 1, "default": "email",
          "description": "Destination: the binding field that holds the member's email"},
        "status_if_new": {"enum": ["subscribed", "pending", "transactional"],
          "default": "subscribed",
          "description": "Destination: status of members Mailchimp does not know yet"},
        "tag": {"type": "string",
          "description": "Destination: tag that marks segment members; default the segment name"},
        "removal": {"enum": ["tag", "archive"], "default": "tag",
          "description": "Destination: on leaving the segment, mark the tag inactive or archive the member"},
        "batch_threshold": {"type": "integer", "minimum": 0, "default": 20},
        "batch_max_operations": {"type": "integer", "minimum": 1, "maximum": 10000,
          "default": 500},
        "batch_max_bytes": {"type": "integer", "minimum": 1024, "default": 4194304},
        "poll_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 2000},
        "max_polls": {"type": "integer", "minimum": 1, "default": 300},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300000, "default": 120000}
      }})json");
}

namespace {

std::string data_center(const std::string& key) {
    const auto dash = key.rfind('-');
    if (dash == std::string::npos || dash + 1 == key.size()) return {};
    auto dc = key.substr(dash + 1);
    for (char c : dc)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return {};
    return dc;
}

template <class T>
T value_or(const json& config, const char* name, T fallback) {
    auto it = config.find(name);
    if (it == config.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        throw ConfigError(std::string("config field '") + name + "' has the wrong type");
    }
}

}  // namespace

Config parse_config(const json& config) {
    Config c;
    c.api_key = value_or<std::string>(config, "api_key", "");
    c.list_id = value_or<std::string>(config, "list_id", "");
    if (c.api_key.empty()) throw ConfigError("config field 'api_key' is missing");
    if (c.list_id.empty()) throw ConfigError("config field 'list_id' is missing");
    c.base_url = value_or<std::string>(config, "base_url", "");
    if (c.base_url.empty()) {
        const auto dc = data_center(c.api_key);
        // The message must not quote the key: the hub masks secrets, but say nothing anyway.
        if (dc.empty())
            throw ConfigError(
                "the Mailchimp API key has no data-center suffix (like '-us21'); copy the whole "
                "key from Account > Extras > API keys, or set base_url");
        c.base_url = "https://" + dc + ".api.mailchimp.com";
    }
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    c.page_size = value_or<int>(config, "page_size", 500);
    if (c.page_size < 1 || c.page_size > 1000)
        throw ConfigError("config field 'page_size' must be 1 to 1000 (Mailchimp's maximum)");
    c.merge_fields = {{"FNAME", "first_name"},
                      {"LNAME", "last_name"},
                      {"PHONE", "phone"},
                      {"ADDRESS", "address"},
                      {"BIRTHDAY", "birthday"}};
    if (auto it = config.find("merge_fields"); it != config.end() && it->is_object()) {
        c.merge_fields.clear();
        for (const auto& [tag, trait] : it->items()) {
            if (!trait.is_string() || trait.get<std::string>().empty())
                throw ConfigError("config merge_fields." + tag + " must be a trait name");
            c.merge_fields[tag] = trait.get<std::string>();
        }
    }
    c.keep_unmapped_merge_fields = value_or<bool>(config, "keep_unmapped_merge_fields", true);
    c.settle_seconds = value_or<int64_t>(config, "settle_seconds", 60);
    c.max_attempts = value_or<int>(config, "max_attempts", 5);
    c.retry_backoff_ms = value_or<int64_t>(config, "retry_backoff_ms", 2000);
    if (c.settle_seconds < 0 || c.max_attempts < 1 || c.retry_backoff_ms < 0)
        throw ConfigError("settle_seconds, max_attempts and retry_backoff_ms must be positive");
    c.webhook_secret = value_or<std::string>(config, "webhook_secret", "");
    c.email_field = value_or<std::string>(config, "email_field", "email");
    c.status_if_new = value_or<std::string>(config, "status_if_new", "subscribed");
    if (c.status_if_new != "subscribed" && c.status_if_new != "pending" &&
        c.status_if_new != "transactional")
        throw ConfigError(
            "config field 'status_if_new' must be subscribed, pending or transactional");
    c.tag = value_or<std::string>(config, "tag", "");
    c.removal = value_or<std::string>(config, "removal", "tag");
    if (c.removal != "tag" && c.removal != "archive")
        throw ConfigError("config field 'removal' must be tag or archive");
    c.batch_threshold = value_or<std::size_t>(config, "batch_threshold", 20);
    c.batch_max_operations = value_or<std::size_t>(config, "batch_max_operations", 500);
    c.batch_max_bytes = value_or<std::size_t>(config, "batch_max_bytes", std::size_t{4} << 20);
    if (c.batch_max_operations < 1) throw ConfigError("batch_max_operations must be at least 1");
    c.poll_ms = value_or<std::uint32_t>(config, "poll_ms", 2000);
    c.max_polls = value_or<std::uint32_t>(config, "max_polls", 300);
    c.timeout_ms = value_or<std::uint32_t>(config, "timeout_ms", 120000);
    return c;
}

}  // namespace cdphub::mailchimp

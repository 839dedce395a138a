// example-webhook-destination: a third-party cdphub destination, built out of tree against an
// installed SDK. It POSTs every batch the hub hands it, as JSON, to a configured URL through the
// hub's HTTP service, with a Bearer token from the instance's secrets.
//
// Wire protocol (what the receiving endpoint sees and may answer):
//   POST <url>
//   Authorization: Bearer <api_token>
//   Content-Type: application/json
//   Idempotency-Key: <hash of the body>     same batch, same key: the receiver can drop repeats
//   {"records": [ ...the batch's elements, unchanged... ]}
//
//   2xx                   all delivered, unless the body says otherwise per record:
//                         {"results": [{"index": 0, "status": 422, "message": "bad email"}, ...]}
//   401, 403              the token was refused               -> auth error, connector stops
//   429                   throttled                           -> rate limited, with Retry-After
//   404, 405, 410, 3xx    the URL is wrong                    -> config error
//   408, 5xx              outage                              -> retryable
//   other 4xx             something in the batch is refused   -> each record is sent alone, so
//                                                                only the bad ones are rejected
#include <cdphub/sdk.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using cdphub::json;

constexpr uint32_t kDefaultTimeoutMs = 10000;
constexpr size_t kMaxBatchRecords = 100;
constexpr size_t kExcerptBytes = 300;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool is_http_url(std::string_view url) {
    return starts_with(url, "http://") || starts_with(url, "https://");
}

// "https://host:8443/a/b?c" -> "https://host:8443"
std::string origin_of(const std::string& url) {
    auto scheme_end = url.find("://");
    auto path = url.find_first_of("/?#", scheme_end + 3);
    return url.substr(0, path);
}

// The start of a response body for an error message: enough to recognise the vendor's reason,
// not so much that an HTML error page floods the logs. Bytes that would not be valid UTF-8 in
// a JSON message are replaced.
std::string excerpt(std::string_view body) {
    std::string cut(body.substr(0, kExcerptBytes));
    // A round trip through JSON text replaces invalid UTF-8 (a cut in mid-character, a Latin-1
    // page) with U+FFFD; the text itself comes back unescaped.
    cut = json::parse(json(cut).dump(-1, ' ', false, json::error_handler_t::replace))
              .get<std::string>();
    if (body.size() > kExcerptBytes) cut += "...";
    return cut.empty() ? "(empty body)" : cut;
}

// The URL for messages, without query or fragment: some endpoints take credentials there.
std::string display_url(const std::string& url) {
    return url.substr(0, url.find_first_of("?#"));
}

// FNV-1a, 64 bit, as hex: a stable key for one request body.
std::string fnv1a_hex(std::string_view s) {
    uint64_t h = 14695981039346656037ull;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

struct Settings {
    std::string url;
    std::string api_token;
    std::string health_url;
    uint32_t timeout_ms = kDefaultTimeoutMs;
};

// The hub has validated the config against the spec and put the resolved secret into it; the
// checks here only keep the plugin from misbehaving under a hub that did not.
Settings parse_settings(const json& config) {
    if (!config.is_object()) throw cdphub::ConfigError("config must be a JSON object");
    for (const auto& item : config.items()) {
        const auto& key = item.key();
        if (key != "url" && key != "api_token" && key != "health_path" && key != "timeout_ms")
            throw cdphub::ConfigError("unknown config field \"" + key +
                                      "\" (known: url, api_token, health_path, timeout_ms)");
    }
    auto text = [&](const char* key) -> std::optional<std::string> {
        auto it = config.find(key);
        if (it == config.end()) return std::nullopt;
        if (!it->is_string() || it->get_ref<const std::string&>().empty())
            throw cdphub::ConfigError(std::string("\"") + key + "\" must be a non-empty string");
        return it->get<std::string>();
    };
    Settings s;
    auto url = text("url");
    if (!url || !is_http_url(*url))
        throw cdphub::ConfigError("\"url\" is required and must be an absolute http(s) URL");
    s.url = *url;
    auto token = text("api_token");
    if (!token)
        throw cdphub::ConfigError(
            "\"api_token\" is required; give it as a secret reference in the connector manifest");
    s.api_token = *token;
    auto health = text("health_path").value_or("/health");
    if (is_http_url(health))
        s.health_url = health;
    else if (starts_with(health, "/"))
        s.health_url = origin_of(s.url) + health;
    else
        throw cdphub::ConfigError("\"health_path\" must start with '/' or be an http(s) URL");
    if (auto t = config.find("timeout_ms"); t != config.end()) {
        if (!t->is_number_integer() || t->get<int64_t>() < 100 || t->get<int64_t>() > 300000)
            throw cdphub::ConfigError("\"timeout_ms\" must be an integer from 100 to 300000");
        s.timeout_ms = static_cast<uint32_t>(t->get<int64_t>());
    }
    return s;
}

class WebhookDestination : public cdphub::Destination {
  public:
    WebhookDestination(cdphub::Host& host, const json& config)
        : Destination(host), settings_(parse_settings(config)) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "example-webhook-destination";
        i.version = "1.0.0";
        i.name = "Webhook (example)";
        i.kind = cdphub::Kind::destination;
        i.category = cdphub::Category::other;
        // "writeOnly" marks the secret: the hub insists on a secret reference for it and
        // redacts its value everywhere.
        i.config_spec = json::parse(R"json({
          "$schema": "http://json-schema.org/draft-07/schema#",
          "title": "Webhook (example)",
          "type": "object",
          "additionalProperties": false,
          "required": ["url", "api_token"],
          "properties": {
            "url": {
              "type": "string", "format": "uri", "pattern": "^https?://",
              "description": "Endpoint that receives each batch as a POST."
            },
            "api_token": {
              "type": "string", "minLength": 1, "writeOnly": true,
              "description": "Sent as 'Authorization: Bearer <token>'."
            },
            "health_path": {
              "type": "string", "minLength": 1, "default": "/health",
              "description": "GET by check(): a path on the url's host, or an absolute URL."
            },
            "timeout_ms": {
              "type": "integer", "minimum": 100, "maximum": 300000, "default": 10000,
              "description": "Per-request timeout."
            }
          }
        })json");
        i.capabilities = {
            {"record_types", json::array({"identify", "track", "order", "alias", "consent"})},
            {"batch", {{"max_records", kMaxBatchRecords}, {"max_bytes", 1048576}}},
            {"rate_limit", {{"requests", 10}, {"per_seconds", 1}}},
        };
        return i;
    }

    void check(cdphub::Call& call) override {
        cdphub::HttpRequest req;
        req.method = "GET";
        req.url = settings_.health_url;
        req.timeout_ms = settings_.timeout_ms;
        req.retry_safe = true;  // a GET may be repeated
        authorize(req);
        auto resp = call.http(req);
        int status = resp.status();
        if (resp.ok()) return;
        if (status == 401 || status == 403)
            throw cdphub::AuthError("the endpoint refused the api_token (HTTP " +
                                    std::to_string(status) + " from GET " + display_url(req.url) +
                                    "): " + excerpt(resp.body()));
        if (status == 429)
            throw cdphub::RateLimitedError(
                "GET " + display_url(req.url) + " was throttled (HTTP 429)", resp.retry_after_ms());
        if (status >= 500)
            throw cdphub::RetryableError("GET " + display_url(req.url) + " failed with HTTP " +
                                             std::to_string(status) + ": " + excerpt(resp.body()),
                                         resp.retry_after_ms());
        throw cdphub::ConfigError("GET " + display_url(req.url) + " answered HTTP " +
                                  std::to_string(status) +
                                  "; check \"health_path\" and \"url\": " + excerpt(resp.body()));
    }

    void write(cdphub::Call& call, const json& batch) override {
        if (!batch.is_array())
            throw cdphub::FatalError("expected the batch as a JSON array, got a(n) " +
                                     std::string(batch.type_name()));
        if (batch.empty()) return;
        std::vector<size_t> all(batch.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        if (deliver(call, batch, all, false)) return;
        // The endpoint refused the batch as a whole without saying which record it objects
        // to: send each record alone, so only the bad ones go to the rejected store. Each
        // outcome is reported as it happens: if a later request throws (429, outage), the
        // records already delivered stay delivered and only the rest take the thrown status.
        host().warn("the endpoint refused a batch of " + std::to_string(batch.size()) +
                    " records (" + last_refusal_ + "); sending them one by one");
        for (size_t i = 0; i < batch.size(); ++i) {
            call.throw_if_cancelled();
            deliver(call, batch, {i}, true);
        }
    }

  private:
    void authorize(cdphub::HttpRequest& req) const {
        req.header("Authorization", "Bearer " + settings_.api_token);
    }

    // POSTs batch[indices]. Returns true when every record's fate is known (2xx, or a 4xx for a
    // single record, which makes it invalid), false when a 4xx refused several records at once
    // (reason in last_refusal_). Throws for everything that is not about the records. With
    // report_ok, delivered records are reported as such instead of left to the return status.
    bool deliver(cdphub::Call& call, const json& batch, const std::vector<size_t>& indices,
                 bool report_ok) {
        json records = json::array();
        for (size_t i : indices) records.push_back(batch[i]);
        cdphub::HttpRequest req;
        req.method = "POST";
        req.url = settings_.url;
        req.timeout_ms = settings_.timeout_ms;
        // Not retry_safe: the hub's client must not repeat a POST on its own. The outbox retries
        // the batch after a RetryableError, with the same Idempotency-Key.
        req.body = json{{"records", std::move(records)}}.dump(-1, ' ', false,
                                                              json::error_handler_t::replace);
        authorize(req);
        req.header("Content-Type", "application/json");
        req.header("Idempotency-Key", fnv1a_hex(req.body));
        auto resp = call.http(req);
        int status = resp.status();
        std::string what =
            "POST " + display_url(settings_.url) + " answered HTTP " + std::to_string(status);

        if (status >= 200 && status < 300) {
            report_results(call, resp, indices, report_ok);
            return true;
        }
        if (status == 401 || status == 403)
            throw cdphub::AuthError(what + ": the api_token was refused; " + excerpt(resp.body()));
        if (status == 429)
            throw cdphub::RateLimitedError(what + " (throttled)", resp.retry_after_ms());
        if (status == 408 || status >= 500)
            throw cdphub::RetryableError(what + ": " + excerpt(resp.body()), resp.retry_after_ms());
        if (status == 404 || status == 405 || status == 410 || (status >= 300 && status < 400))
            throw cdphub::ConfigError(what + "; check \"url\"" +
                                      (status < 400 ? " (redirects are not followed)" : "") + ": " +
                                      excerpt(resp.body()));
        if (status >= 400 && status < 500) {
            last_refusal_ = what + ": " + excerpt(resp.body());
            if (indices.size() > 1) return false;
            call.report_record(indices[0], cdphub::Status::invalid_record, last_refusal_);
            return true;
        }
        throw cdphub::FatalError(what + ", which this plugin does not understand");
    }

    // Reads the optional per-record outcomes of a 2xx answer. The endpoint's indices are into
    // the records it received (`sent`), which may be a part of the hub's batch.
    void report_results(cdphub::Call& call, const cdphub::HttpResponse& resp,
                        const std::vector<size_t>& sent, bool report_ok) const {
        std::vector<bool> reported(sent.size(), false);
        auto body = resp.body();
        json answer = json::parse(body.begin(), body.end(), nullptr, false);
        const json* results = nullptr;
        if (answer.is_object() && answer.contains("results")) {
            results = &answer["results"];
            if (!results->is_array()) {
                host().warn("ignoring the answer's \"results\": not an array");
                results = nullptr;
            }
        }
        for (const auto& r : results != nullptr ? *results : json::array()) {
            if (!r.is_object() || !r.contains("index") || !r["index"].is_number_unsigned() ||
                r["index"].get<size_t>() >= sent.size()) {
                host().warn("ignoring a malformed entry in the answer's \"results\": " +
                            r.dump().substr(0, 200));
                continue;
            }
            size_t position = r["index"].get<size_t>();
            size_t index = sent[position];
            reported[position] = true;
            int status = r.contains("status") && r["status"].is_number_integer()
                             ? r["status"].get<int>()
                             : 200;
            std::string message = r.contains("message") && r["message"].is_string()
                                      ? r["message"].get<std::string>()
                                      : "HTTP " + std::to_string(status) + " for this record";
            call.report_record(index, record_status(status), message);
        }
        if (report_ok)
            for (size_t i = 0; i < sent.size(); ++i)
                if (!reported[i]) call.report_record(sent[i], cdphub::Status::ok);
    }

    static cdphub::Status record_status(int http_status) {
        if (http_status >= 200 && http_status < 300) return cdphub::Status::ok;
        if (http_status == 429) return cdphub::Status::rate_limited;
        if (http_status == 401 || http_status == 403) return cdphub::Status::auth_error;
        if (http_status == 408 || http_status >= 500) return cdphub::Status::retryable;
        return cdphub::Status::invalid_record;
    }

    Settings settings_;
    std::string last_refusal_;
};

}  // namespace

CDPHUB_PLUGIN(WebhookDestination)

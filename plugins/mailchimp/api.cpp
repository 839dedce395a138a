#include "api.hpp"

#include <algorithm>

#include "crypto.hpp"

namespace cdphub::mailchimp {

// Mailchimp's errors are application/problem+json: {"type","title","status","detail",
// "instance"}. Returns "title: detail" for messages, or "" if the body is not such a document
// (a bare 403 from the throttle, an HTML page from a load balancer).
std::string Api::problem_text(const HttpResponse& r) {
    auto b = r.body();
    json j = cdphub::parse_untrusted_json(b);
    if (!j.is_object() || !j.contains("title")) return {};
    std::string out = j.value("title", std::string());
    if (auto d = j.find("detail"); d != j.end() && d->is_string() && !d->get<std::string>().empty())
        out += ": " + d->get<std::string>();
    if (auto e = j.find("errors"); e != j.end() && e->is_array())
        for (const auto& f : *e)
            if (f.is_object())
                out += " [" + f.value("field", std::string()) + ": " +
                       f.value("message", std::string()) + "]";
    if (out.size() > 300) out = out.substr(0, 300) + "...";
    return out;
}

HttpResponse Api::send(const Call& call, HttpRequest req) const {
    req.url = config_.base_url + "/3.0" + req.url;
    req.timeout_ms = config_.timeout_ms;
    req.header("Authorization", authorization_).header("Accept", "application/json");
    if (!req.body.empty()) req.header("Content-Type", "application/json");
    return call.http(req);
}

void Api::fail(const std::string& what, const HttpResponse& r) const {
    const int s = r.status();
    const auto problem = problem_text(r);
    const auto msg = "Mailchimp answered " + what + " with HTTP " + std::to_string(s) +
                     (problem.empty() ? std::string() : " (" + problem + ")");
    if (s == 401)
        throw AuthError(msg + ": check api_key and that base_url matches its data center");
    if (s == 403 && !problem.empty())
        throw AuthError(msg + ": the key's user needs access to audience " + config_.list_id);
    if (s == 429 || s == 403)
        // More than 10 simultaneous connections with this key (or, at very high volume, a bare
        // 403 from the edge). Mailchimp never says when to come back: the hub backs off.
        throw RateLimitedError(msg, -1);
    if (s == 404) throw ConfigError(msg + ": check list_id");
    if (s == 408 || s >= 500) throw RetryableError(msg);
    throw FatalError(msg);
}

Api::Api(const Config& config)
    : config_(config), authorization_("Basic " + base64("cdphub:" + config.api_key)) {}

json Api::get(const Call& call, const std::string& target, std::string_view what) const {
    int64_t pause = config_.retry_backoff_ms;
    for (int attempt = 1;; ++attempt) {
        call.throw_if_cancelled();
        bool throttled = false;
        std::string failure;
        try {
            HttpRequest req;
            req.method = "GET";
            req.url = config_.base_url + "/3.0" + target;
            req.header("Authorization", authorization_).header("Accept", "application/json");
            req.retry_safe = true;  // a GET: the hub may repeat it on 429/5xx/network errors
            auto r = call.http(req);
            const int s = r.status();
            if (s >= 200 && s < 300) return r.json_body();
            const auto problem = problem_text(r);
            const auto said = " (HTTP " + std::to_string(s) +
                              (problem.empty() ? std::string() : " " + problem) + ")";
            if (s == 401)
                throw AuthError("Mailchimp refused the API key" + said +
                                ": check api_key (a key revoked in Account > Extras > API keys "
                                "stops working at once) and that base_url matches its data "
                                "center");
            if (s == 403 && !problem.empty())
                throw AuthError("Mailchimp forbids reading " + std::string(what) + said +
                                ": the key's user needs access to audience " + config_.list_id);
            if (s == 404)
                throw ConfigError("Mailchimp has no audience '" + config_.list_id + "'" + said +
                                  ": check list_id (Audience > Settings > Audience name and "
                                  "defaults)");
            if (s == 429 || s == 403) {
                // 429: more than 10 simultaneous connections with this key; a bare 403 is what
                // Mailchimp's edge answers under very high volume. Neither says when to retry.
                throttled = true;
                failure = "Mailchimp throttled reading " + std::string(what) + said;
            } else if (s >= 500) {
                failure = "Mailchimp failed reading " + std::string(what) + said;
            } else {
                throw FatalError("Mailchimp rejected the request for " + std::string(what) + said);
            }
        } catch (const Error& e) {
            if (e.status() != Status::retryable && e.status() != Status::rate_limited) throw;
            throttled = e.status() == Status::rate_limited;
            failure = "reading " + std::string(what) + " from Mailchimp failed: " +
                      (dynamic_cast<const ReportedError*>(&e) != nullptr
                           ? std::string("no answer (network error or timeout)")
                           : std::string(e.what()));
        }
        if (attempt >= config_.max_attempts) {
            failure += " (" + std::to_string(attempt) + " attempts); the next read resumes here";
            if (throttled) throw RateLimitedError(failure, config_.retry_backoff_ms);
            throw RetryableError(failure, config_.retry_backoff_ms);
        }
        call.host().warn(failure + "; retrying in " + std::to_string(pause) + " ms");
        call.sleep_ms(pause);
        pause = std::min<int64_t>(std::max<int64_t>(pause * 2, 1), 60'000);
    }
}

}  // namespace cdphub::mailchimp

// SFMC's REST API as the plugin uses it: one cached OAuth2 client-credentials token per instance
// (SFMC asks clients not to fetch a token per call), refreshed when it is about to expire or when
// a call answers 401; every error mapped to the SDK's statuses with SFMC's own answer quoted.
#pragma once

#include <cdphub/sdk.hpp>

#include <string>

#include "settings.hpp"

namespace cdphub::sfmc {

// The start of an answer for messages: enough to recognise SFMC's reason.
inline std::string excerpt(std::string_view body) {
    std::string cut(body.substr(0, 300));
    cut = json::parse(json(cut).dump(-1, ' ', false, json::error_handler_t::replace))
              .get<std::string>();
    return cut.empty() ? "(empty body)" : cut;
}

// Retry-After from the header, else SFMC's "retryAfter" body field (seconds); -1 if neither.
inline int64_t retry_after_ms(const HttpResponse& r) {
    if (auto ms = r.retry_after_ms(); ms >= 0) return ms;
    auto j = cdphub::parse_untrusted_json(r.body());
    if (j.is_object() && j.contains("retryAfter") && j["retryAfter"].is_number())
        return static_cast<int64_t>(j["retryAfter"].get<double>() * 1000);
    return -1;
}

class Api {
  public:
    Api(const Host& host, const Settings& s) : host_(host), s_(s) {}

    // Sends `req` (a path relative to rest_instance_url) with the bearer token. A 401 means the
    // token expired early (or was revoked): one new token, one more try.
    HttpResponse send(const Call& call, HttpRequest req) {
        const std::string path = req.url;
        for (int attempt = 0;; ++attempt) {
            token(call, attempt > 0);
            HttpRequest r = req;
            r.url = rest_url_ + path;
            r.timeout_ms = s_.timeout_ms;
            r.header("Authorization", "Bearer " + token_);
            if (!r.body.empty()) r.header("Content-Type", "application/json");
            auto resp = call.http(r);
            if (resp.status() != 401 || attempt > 0) return resp;
            host_.info("SFMC answered 401 to " + req.method + " " + path +
                       "; fetching a new access token");
        }
    }

    // Throws the SDK error for a non-2xx answer that is not about individual rows.
    [[noreturn]] static void fail(const std::string& what, const HttpResponse& r) {
        const int s = r.status();
        const std::string msg =
            what + " answered HTTP " + std::to_string(s) + ": " + excerpt(r.body());
        if (s == 401 || s == 403)
            throw AuthError(msg +
                            " (check the installed package's client id/secret, its scopes "
                            "and the account_id)");
        if (s == 429) throw RateLimitedError(msg, retry_after_ms(r));
        if (s == 404) throw ConfigError(msg + " (check data_extension_key / journey_event_key)");
        if (s == 408 || s >= 500) throw RetryableError(msg, retry_after_ms(r));
        throw FatalError(msg);
    }

    void check(const Call& call) { token(call, true); }

  private:
    // A token valid for at least another minute, from the cache unless `renew`.
    void token(const Call& call, bool renew) {
        const int64_t now = host_.now_ms();
        if (!renew && !token_.empty() && now < expires_at_ms_) return;
        json body = {{"grant_type", "client_credentials"},
                     {"client_id", s_.client_id},
                     {"client_secret", s_.client_secret}};
        if (!s_.account_id.empty()) body["account_id"] = s_.account_id;
        if (!s_.scope.empty()) body["scope"] = s_.scope;
        HttpRequest req;
        req.method = "POST";
        req.url = s_.auth_url + "/v2/token";
        req.body = body.dump();
        req.timeout_ms = s_.timeout_ms;
        req.header("Content-Type", "application/json");
        auto r = call.http(req);
        if (r.status() == 400 || r.status() == 401 || r.status() == 403)
            throw AuthError("SFMC refused the client credentials (POST /v2/token answered HTTP " +
                            std::to_string(r.status()) + ": " + excerpt(r.body()) +
                            "); check client_id, client_secret and account_id of the installed "
                            "package");
        if (!r.ok()) fail("POST /v2/token", r);
        auto j = r.json_body();
        if (!j.contains("access_token") || !j.contains("rest_instance_url"))
            throw RetryableError("SFMC's token answer has no access_token/rest_instance_url: " +
                                 excerpt(r.body()));
        token_ = j["access_token"].get<std::string>();
        rest_url_ = j["rest_instance_url"].get<std::string>();
        if (rest_url_.empty() || rest_url_.back() != '/') rest_url_ += '/';
        const int64_t lifetime_s = j.value("expires_in", 1079);
        // Renew a minute early (or at half-life for short tokens) so no call carries a token
        // that expires in flight.
        expires_at_ms_ = now + std::max<int64_t>(lifetime_s * 1000 / 2, lifetime_s * 1000 - 60000);
        ++tokens_fetched_;
    }

    const Host& host_;
    const Settings& s_;
    std::string token_, rest_url_;
    int64_t expires_at_ms_ = 0;
    int tokens_fetched_ = 0;
};

}  // namespace cdphub::sfmc

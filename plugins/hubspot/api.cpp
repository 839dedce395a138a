#include "api.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <optional>

namespace cdphub_hubspot {

std::string describe(const cdphub::HttpResponse& r) {
    std::string out = "HTTP " + std::to_string(r.status());
    auto body = r.body();
    json j = cdphub::parse_untrusted_json(body);
    if (j.is_object()) {
        // API errors carry "category"; OAuth errors put their code in "status".
        std::string code = j.value("category", "");
        if (code.empty() && j.value("status", "") != "error") code = j.value("status", "");
        if (j.contains("policyName") && j["policyName"].is_string())
            code = j["policyName"].get<std::string>();
        if (!code.empty()) out += " " + code;
        if (j.contains("message") && j["message"].is_string())
            out += ": " + j["message"].get<std::string>().substr(0, 300);
    } else if (!body.empty()) {
        out += ": " + std::string(body.substr(0, 120));
    }
    return out;
}

Api::Api(const Settings& settings, const cdphub::Host& host)
    : settings_(settings), host_(host), refresh_token_(settings.refresh_token) {
    if (!settings_.oauth()) token_ = settings_.access_token;
}

int64_t Api::backoff_ms(int attempt) const {
    const int64_t base = std::max<int64_t>(1, settings_.retry_wait_ms / 8);
    return std::min<int64_t>(settings_.retry_wait_ms, base << std::min(attempt, 10));
}

void Api::pace_search(const cdphub::Call& call) {
    if (settings_.search_requests_per_second <= 0) return;
    const auto interval = static_cast<int64_t>(1000.0 / settings_.search_requests_per_second);
    const int64_t now = host_.now_ms();
    if (last_search_ms_ != 0 && now < last_search_ms_ + interval)
        call.sleep_ms(last_search_ms_ + interval - now);
    last_search_ms_ = host_.now_ms();
}

void Api::ensure_token(const cdphub::Call& call) {
    if (!settings_.oauth()) return;
    // HubSpot's guidelines: refresh from expires_in; a 401 is not the signal to refresh.
    if (token_.empty() || host_.now_ms() >= expires_at_ms_ - refresh_margin_ms_) refresh(call);
}

void Api::refresh(const cdphub::Call& call) {
    const std::string body =
        cdphub::plugins::form_encode({{"grant_type", "refresh_token"},
                                      {"client_id", settings_.client_id},
                                      {"client_secret", settings_.client_secret},
                                      {"refresh_token", refresh_token_}});
    for (int attempt = 0;; ++attempt) {
        cdphub::HttpRequest req;
        req.method = "POST";
        req.url = settings_.token_url;
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        req.body = body;
        // A refresh is not repeated blindly by the hub: the plugin decides below.
        req.retry_safe = false;
        std::optional<cdphub::HttpResponse> r;
        try {
            r.emplace(call.http(req));
        } catch (const cdphub::ReportedError& e) {
            if (e.status() != cdphub::Status::retryable || attempt >= settings_.max_retries) throw;
            call.sleep_ms(backoff_ms(attempt));
            continue;
        }
        const int status = r->status();
        if (status == 200) {
            json j = r->json_body();
            if (!j.contains("access_token") || !j["access_token"].is_string())
                throw cdphub::RetryableError(
                    "HubSpot's token endpoint answered without an access_token");
            const int64_t now = host_.now_ms();
            const int64_t ttl_ms = j.value("expires_in", int64_t{1800}) * 1000;
            token_ = j["access_token"].get<std::string>();
            expires_at_ms_ = now + ttl_ms;
            // Refresh well ahead (at most 5 minutes, a quarter of the lifetime for short ones).
            refresh_margin_ms_ = std::min<int64_t>(300000, ttl_ms / 4);
            ++refreshes_;
            if (j.contains("refresh_token") && j["refresh_token"].is_string() &&
                j["refresh_token"].get<std::string>() != refresh_token_) {
                refresh_token_ = j["refresh_token"].get<std::string>();
                host_.info(
                    "HubSpot issued a new refresh token; this instance uses it from now on. "
                    "Update the refresh_token secret if HubSpot stops accepting the old one.");
            }
            return;
        }
        if (status == 400 || status == 401 || status == 403)
            throw cdphub::AuthError(
                "HubSpot refused to refresh the OAuth access token at " + settings_.token_url +
                " (" + describe(*r) +
                "): check client_id, client_secret and refresh_token; if the app was uninstalled "
                "or its access revoked, reconnect it and store the new refresh token");
        if ((status == 429 || status >= 500) && attempt < settings_.max_retries) {
            call.sleep_ms(r->retry_after_ms() >= 0 ? r->retry_after_ms() : backoff_ms(attempt));
            continue;
        }
        throw cdphub::RetryableError("HubSpot's token endpoint failed (" + describe(*r) + ")");
    }
}

cdphub::HttpResponse Api::send(const cdphub::Call& call, const std::string& method,
                               const std::string& url, const std::string& json_body,
                               const std::string& what) {
    bool reauthenticated = false;
    for (int attempt = 0;; ++attempt) {
        ensure_token(call);
        cdphub::HttpRequest req;
        req.method = method;
        req.url = url;
        req.header("Authorization", "Bearer " + token_).header("Accept", "application/json");
        if (!json_body.empty()) {
            req.header("Content-Type", "application/json");
            req.body = json_body;
        }
        // Lists and searches only read: the hub may repeat them on 429/502/503/504 and network
        // errors, honouring Retry-After.
        req.retry_safe = true;
        std::optional<cdphub::HttpResponse> r;
        try {
            r.emplace(call.http(req));
        } catch (const cdphub::ReportedError& e) {
            if (e.status() != cdphub::Status::retryable || attempt >= settings_.max_retries) throw;
            call.sleep_ms(backoff_ms(attempt));
            continue;
        }
        const int status = r->status();
        if (status == 401) {
            // Not a refresh signal by HubSpot's rules, but a token revoked early (or a clock
            // that ran slow) deserves one fresh token before giving up.
            if (settings_.oauth() && !reauthenticated) {
                reauthenticated = true;
                host_.info("HubSpot refused the access token before its expiry (" + describe(*r) +
                           "); refreshing it once");
                token_.clear();
                --attempt;
                continue;
            }
            throw cdphub::AuthError(
                "HubSpot refused the " +
                std::string(settings_.oauth() ? "freshly refreshed OAuth access token"
                                              : "private app access token") +
                " for " + what + " (" + describe(*r) + "): " +
                (settings_.oauth() ? "reconnect the OAuth app and store its new refresh token"
                                   : "check the access_token secret; the private app may have "
                                     "been deleted or its token rotated"));
        }
        if (status == 403)
            throw cdphub::AuthError("HubSpot denied " + what + " (" + describe(*r) +
                                    "): give the app the read scope for this object type "
                                    "(e.g. crm.objects.contacts.read)");
        if (status == 429) {
            auto b = r->body();
            json j = cdphub::parse_untrusted_json(b);
            const std::string policy = j.is_object() ? j.value("policyName", "") : "";
            const int64_t after = r->retry_after_ms();
            if (policy == "DAILY")
                throw cdphub::RateLimitedError("HubSpot's daily API limit is used up (" +
                                                   describe(*r) + "); reading resumes later",
                                               after >= 0 ? after : 3600000);
            if (attempt >= settings_.max_retries)
                throw cdphub::RateLimitedError(
                    "HubSpot kept throttling " + what + " (" + describe(*r) + ")",
                    after >= 0 ? after : settings_.retry_wait_ms);
            // Without Retry-After, wait out the rolling window HubSpot counts in.
            call.sleep_ms(after >= 0 ? after : settings_.retry_wait_ms);
            continue;
        }
        if (status >= 500) {
            if (attempt >= settings_.max_retries)
                throw cdphub::RetryableError("HubSpot failed " + what + " (" + describe(*r) + ")");
            call.sleep_ms(backoff_ms(attempt));
            continue;
        }
        return std::move(*r);
    }
}

}  // namespace cdphub_hubspot

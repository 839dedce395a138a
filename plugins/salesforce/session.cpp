#include "session.hpp"

#include <cdphub_plugins/web.hpp>

namespace cdphub::salesforce {
namespace {

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The path of a request for messages: the query string holds SOQL, which is long, and nothing
// an admin needs to read the error.
std::string short_path(const std::string& path) {
    return path.substr(0, path.find('?'));
}

}  // namespace

ApiError parse_api_error(int status, std::string_view body) {
    json j = cdphub::parse_untrusted_json(body);
    if (j.is_array() && !j.empty() && j[0].is_object())
        return {str(j[0], "errorCode"), str(j[0], "message")};
    if (j.is_object() && j.contains("errorCode")) return {str(j, "errorCode"), str(j, "message")};
    std::string excerpt(body.substr(0, 120));
    return {"HTTP_" + std::to_string(status), excerpt.empty() ? "(empty body)" : excerpt};
}

void Session::authenticate(Call& call) {
    token_.clear();
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", config_.grant_type},
                                                          {"client_id", config_.client_id},
                                                          {"client_secret", config_.client_secret}};
    if (config_.grant_type == "refresh_token")
        form.emplace_back("refresh_token", config_.refresh_token);
    HttpRequest req;
    req.method = "POST";
    req.url = config_.login_url + "/services/oauth2/token";
    req.header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    req.body = plugins::form_encode(form);
    // Asking for a token twice only issues a second token, so the hub may repeat the request.
    req.retry_safe = true;
    auto r = call.http(req);
    if (r.status() >= 500)
        throw RetryableError("the Salesforce token endpoint answered HTTP " +
                             std::to_string(r.status()) + "; the read will be retried");
    json body = cdphub::parse_untrusted_json(r.body());
    if (r.status() != 200) {
        // OAuth errors are {"error", "error_description"}, not the REST error array.
        const auto error = body.is_object() ? str(body, "error") : std::string();
        const auto what = body.is_object() ? str(body, "error_description") : std::string();
        std::string hint =
            config_.grant_type == "refresh_token"
                ? "check client_id and client_secret, and that the refresh token is still valid "
                  "(reconnect the integration user if it was revoked)"
                : "check client_id and client_secret of the external client app, and that the "
                  "client credentials flow is enabled with a run-as user";
        throw AuthError("Salesforce refused the " + config_.grant_type + " token request (HTTP " +
                        std::to_string(r.status()) + " " + (error.empty() ? "?" : error) +
                        (what.empty() ? "" : ": " + what) + "); " + hint);
    }
    token_ = str(body, "access_token");
    instance_url_ = str(body, "instance_url");
    while (!instance_url_.empty() && instance_url_.back() == '/') instance_url_.pop_back();
    if (token_.empty() ||
        (instance_url_.rfind("https://", 0) != 0 && instance_url_.rfind("http://", 0) != 0)) {
        token_.clear();
        throw RetryableError(
            "the Salesforce token response lacks access_token or a valid instance_url");
    }
}

json Session::get(Call& call, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers) {
    for (int renewals = 0;; ++renewals) {
        if (token_.empty()) authenticate(call);
        HttpRequest req;
        req.url = instance_url_ + path;
        req.header("Authorization", "Bearer " + token_).header("Accept", "application/json");
        for (const auto& [n, v] : headers) req.header(n, v);
        req.retry_safe = true;  // a GET; the hub repeats it on 502/503/504 and network errors
        auto r = call.http(req);
        if (auto li = r.header("Sforce-Limit-Info"); !li.empty()) limit_info_ = std::string(li);
        if (r.status() == 200) return r.json_body();
        if (r.status() == 401) {
            // INVALID_SESSION_ID: the session timed out or was revoked. Fetch a new one and
            // repeat this same request; a new token refused again and again is no expiry.
            token_.clear();
            if (renewals < config_.max_session_renewals) continue;
            const auto e = parse_api_error(r.status(), r.body());
            throw AuthError("Salesforce rejected " + std::to_string(renewals + 1) +
                            " fresh sessions in a row (" + e.code + ": " + e.message +
                            "); check the integration user is active and allowed to use the API");
        }
        fail(r, short_path(path));
    }
}

void Session::fail(const HttpResponse& r, const std::string& what) const {
    const int status = r.status();
    const auto e = parse_api_error(status, r.body());
    const std::string detail = e.code + ": " + e.message;
    const std::string usage = limit_info_.empty() ? "" : " (" + limit_info_ + ")";
    if (e.code == "INVALID_QUERY_LOCATOR") throw QueryLocatorExpired(detail);
    if (e.code == "REQUEST_LIMIT_EXCEEDED") {
        // TotalRequests is the org's rolling 24-hour API allowance, shared with every other
        // integration; the concurrent-request limits clear within seconds.
        const bool daily = e.message.find("TotalRequests") != std::string::npos;
        throw RateLimitedError(
            daily ? "the Salesforce org has used up its daily API request limit (" + detail + ")" +
                        usage +
                        "; the read resumes from its checkpoint once the 24-hour window frees "
                        "requests, or raise the org's limit"
                  : "Salesforce refused the request for a concurrency limit (" + detail +
                        "); the read resumes from its checkpoint",
            daily ? config_.daily_limit_retry_after_ms : config_.concurrency_retry_after_ms);
    }
    if (status == 429)
        throw RateLimitedError("Salesforce throttled " + what + " (HTTP 429)", r.retry_after_ms());
    if (status >= 500)
        throw RetryableError("Salesforce answered HTTP " + std::to_string(status) + " for " + what +
                                 " (" + detail + "); the read resumes from its checkpoint",
                             r.retry_after_ms());
    if (status == 403)
        throw AuthError("Salesforce refused " + what + " (" + detail +
                        "); check the integration user's permissions (API Enabled, read access "
                        "to the configured objects and fields)");
    if (e.code == "INVALID_FIELD" || e.code == "INVALID_TYPE" || e.code == "NOT_FOUND" ||
        status == 404)
        throw ConfigError("Salesforce rejected " + what + " (" + detail +
                          "); fix the objects and field names in the connector config, or check "
                          "the field-level security of the integration user");
    throw FatalError("Salesforce answered HTTP " + std::to_string(status) + " for " + what + " (" +
                     detail + ")");
}

}  // namespace cdphub::salesforce

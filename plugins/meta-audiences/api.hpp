// The Graph API as this plugin uses it: bearer-token requests (the token never goes into a URL,
// so it cannot reach a log line), and Graph's error object mapped to the SDK's statuses:
//   {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}
// Meta throttles with codes 4/17/32/613 and 80000-80014 (business use case), always without
// Retry-After; the X-Business-Use-Case-Usage header may carry estimated_time_to_regain_access
// (minutes), which becomes the wait.
#pragma once

#include <cdphub/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "settings.hpp"

namespace cdphub::meta {

// Graph's error object, or an empty one (code 0) for a body that is not one.
struct GraphError {
    int http = 0;
    int code = 0, subcode = 0;
    std::string message, type, fbtrace_id;

    std::string describe() const {
        std::string d = "HTTP " + std::to_string(http);
        if (code != 0) {
            d += ", code " + std::to_string(code);
            if (subcode != 0) d += "/" + std::to_string(subcode);
        }
        if (!type.empty()) d += " " + type;
        d += ": " + (message.empty() ? std::string("(no message)") : message);
        if (!fbtrace_id.empty()) d += " (fbtrace_id " + fbtrace_id + ")";
        return d;
    }
    bool throttled() const {
        return code == 4 || code == 17 || code == 32 || code == 613 ||
               (code >= 80000 && code <= 80014);
    }
    // The call carried more users (or bytes) than Meta takes in one request.
    bool too_large() const {
        if (http == 413) return true;
        if (code != 100) return false;
        std::string m = message;
        std::transform(m.begin(), m.end(), m.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return m.find("too many") != std::string::npos;
    }
};

inline std::string printable(std::string_view s, std::size_t max = 300) {
    std::string cut(s.substr(0, max));
    return json::parse(json(cut).dump(-1, ' ', false, json::error_handler_t::replace))
        .get<std::string>();
}

inline GraphError graph_error(const HttpResponse& r) {
    GraphError e;
    e.http = r.status();
    auto j = cdphub::parse_untrusted_json(r.body());
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
        const auto& o = j["error"];
        auto num = [&](const char* k) {
            auto it = o.find(k);
            return it != o.end() && it->is_number_integer() ? it->get<int>() : 0;
        };
        e.code = num("code");
        e.subcode = num("error_subcode");
        e.message = printable(o.value("message", ""));
        e.type = printable(o.value("type", ""), 60);
        e.fbtrace_id = printable(o.value("fbtrace_id", ""), 60);
    } else {
        e.message = printable(r.body());
        if (e.message.empty()) e.message = "(empty body)";
    }
    return e;
}

// The wait Meta suggests in X-Business-Use-Case-Usage (largest estimated_time_to_regain_access,
// in minutes), in ms; -1 if it suggests none (or zero).
inline int64_t regain_access_ms(const HttpResponse& r) {
    auto h = r.header("X-Business-Use-Case-Usage");
    if (h.empty()) return -1;
    auto j = cdphub::parse_untrusted_json(h);
    if (!j.is_object()) return -1;
    int64_t minutes = -1;
    for (const auto& [biz, usages] : j.items()) {
        if (!usages.is_array()) continue;
        for (const auto& u : usages)
            if (u.is_object() && u.contains("estimated_time_to_regain_access") &&
                u["estimated_time_to_regain_access"].is_number())
                minutes =
                    std::max<int64_t>(minutes, u["estimated_time_to_regain_access"].get<int64_t>());
    }
    // 0 means "now" only in theory: while throttled, fall back to the hub's backoff instead.
    return minutes <= 0 ? -1 : minutes * 60000;
}

// Throws the SDK error for a Graph error that is not about the request's size.
[[noreturn]] inline void fail(const std::string& what, const HttpResponse& r, const GraphError& e) {
    const std::string msg = "Meta answered " + what + " with " + e.describe();
    if (e.code == 190 || e.code == 102 || e.http == 401)
        throw AuthError(msg +
                        "; the access token is invalid or expired: issue a new system-user "
                        "token and update the connector's access_token secret");
    if (e.code == 10 || (e.code >= 200 && e.code <= 299))
        throw AuthError(msg +
                        "; the token lacks a permission (ads_management) or the audience's "
                        "ad account is not shared with its system user");
    if (e.throttled()) throw RateLimitedError(msg, regain_access_ms(r));
    if (e.code == 1 || e.code == 2 || e.http >= 500 || e.http == 408) throw RetryableError(msg);
    if (e.code == 100 && e.subcode == 1713230)
        throw ConfigError(msg + "; the audience was flagged by Meta and takes no more users");
    if (e.code == 100 || e.code == 803 || e.http == 404)
        throw ConfigError(msg + "; check audience_id, api_version and schema");
    throw FatalError(msg);
}

}  // namespace cdphub::meta

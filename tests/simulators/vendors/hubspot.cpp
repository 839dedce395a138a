// HubSpot CRM v3 simulator: private-app and OAuth bearer tokens (POST /oauth/v1/token, tokens
// that expire, optional refresh-token rotation), the objects list API (GET /crm/v3/objects/{type})
// and search API (POST /crm/v3/objects/{type}/search) with their real paging shapes, the search
// result ceiling (400 once after + limit exceeds it), the 10-second burst limit and the lower
// search limit with HubSpot's 429 body, and faults in HubSpot's error shape.
//
// Settings (VendorOptions::settings), all optional:
//   access_token        private-app token accepted as is ("pat-na1-sim")
//   client_id, client_secret, refresh_token   the OAuth app ("sim-client", "sim-secret",
//   "sim-refresh") token_ttl_s         expires_in of issued access tokens (1800)
//   rotate_refresh_token  every refresh answers a new refresh token (false); old ones stay valid,
//                       as HubSpot's do until the app is uninstalled
//   companies           number of companies (records / 5); `records` is the number of contacts
//   big_tie             contacts sharing one lastmodifieddate (0)
//   search_ceiling      results a search can page through (10000)
//   search_lag_ms       how long a change takes to become searchable (1000)
//   burst_limit, burst_window_ms   requests per rolling window (100 per 10000 ms; 0: off)
//   search_per_second   search requests per second (5; 0: off)
//   retry_after_s       Retry-After of `throttle` answers (1)
//   mutate_count        objects changed per mutate_rows fault (3)
//
// state(): {"objects": {"contacts": [{"id", "modified", "versions", "properties"}], ...},
//           "counters": {"list", "search", "token", "refreshes", "mutations", "ceiling_400",
//                        "rate_limited", "auth_401"}}
#include <chrono>
#include <deque>
#include <mutex>

#include "hubspot_crm.hpp"
#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

using hubspot::Crm;
using hubspot::SearchQuery;

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        auto comma = s.find(',', start);
        auto part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!part.empty()) out.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

class HubSpotVendor : public Vendor {
  public:
    explicit HubSpotVendor(const VendorOptions& o)
        : Vendor(o),
          crm_(o.seed, o.records, o.settings.value("companies", o.records / 5),
               o.settings.value("big_tie", size_t{0})) {
        const auto& s = o.settings;
        private_token_ = s.value("access_token", "pat-na1-sim");
        client_id_ = s.value("client_id", "sim-client");
        client_secret_ = s.value("client_secret", "sim-secret");
        refresh_tokens_.push_back(s.value("refresh_token", "sim-refresh"));
        ttl_s_ = s.value("token_ttl_s", 1800);
        rotate_ = s.value("rotate_refresh_token", false);
        ceiling_ = s.value("search_ceiling", size_t{10000});
        lag_ms_ = s.value("search_lag_ms", int64_t{1000});
        burst_limit_ = s.value("burst_limit", size_t{100});
        burst_window_ms_ = s.value("burst_window_ms", int64_t{10000});
        search_per_second_ = s.value("search_per_second", size_t{5});
        retry_after_s_ = s.value("retry_after_s", 1);
        mutate_count_ = s.value("mutate_count", size_t{3});
    }

    HttpResponse handle(const HttpRequest& r) override {
        std::lock_guard lock(mu_);
        const std::string path(r.path());
        if (r.method == "POST" && path == "/oauth/v1/token") return token(r);
        const std::string prefix = "/crm/v3/objects/";
        if (path.rfind(prefix, 0) != 0) return error(404, "Not found: " + path, "OBJECT_NOT_FOUND");
        std::string rest = path.substr(prefix.size());
        const bool is_search = rest.size() > 7 && rest.compare(rest.size() - 7, 7, "/search") == 0;
        if (is_search) rest.resize(rest.size() - 7);
        if (rest.empty() || rest.find('/') != std::string::npos)
            return error(404, "Not found: " + path, "OBJECT_NOT_FOUND");
        if (is_search && r.method != "POST")
            return error(405, "Method not allowed", "VALIDATION_ERROR");
        if (!is_search && r.method != "GET")
            return error(405, "Method not allowed", "VALIDATION_ERROR");

        const std::string token = bearer(r);
        const bool oauth = tokens_.count(token) != 0;
        const bool has_after = is_search ? r.body.find("\"after\"") != std::string::npos
                                         : !form_value(r.query(), "after").empty();
        std::vector<Fault> allowed{
            Fault::throttle, Fault::throttle_silent, Fault::server_error, Fault::hang_up,
            Fault::slow,     Fault::short_page,      Fault::mutate_rows};
        if (oauth) allowed.push_back(Fault::expire_token);
        if (has_after) allowed.push_back(Fault::invalidate_cursor);
        const Fault f = faults().next(is_search ? "search" : "list", allowed);
        if (auto early = transport_fault(f)) return *early;

        if (auto denied = authenticate(token, f)) return *denied;
        if (auto limited = rate_limit(is_search)) return *limited;
        if (f == Fault::mutate_rows)
            counters_["mutations"] += crm_.mutate(mutate_count_, wall_ms());

        auto* type = crm_.type(rest);
        if (type == nullptr)
            return error(400, "Unable to infer object type from: " + rest, "VALIDATION_ERROR");
        const size_t short_to = f == Fault::short_page ? 3 : SIZE_MAX;
        HttpResponse out = is_search ? search(*type, r, f, short_to) : list(*type, r, f, short_to);
        if (!is_search && out.status == 200) add_rate_headers(out);
        if (f == Fault::slow) out.delay = std::chrono::milliseconds(faults().plan().slow_ms);
        return out;
    }

    json state() const override {
        std::lock_guard lock(mu_);
        return {{"objects", crm_.state()}, {"counters", counters_}};
    }

  private:
    // ---- Error bodies ------------------------------------------------------------------------

    HttpResponse error(int status, const std::string& message, const std::string& category) {
        json body = {{"status", "error"},
                     {"message", message},
                     {"correlationId", correlation()},
                     {"category", category}};
        return HttpResponse::json(status, body.dump());
    }
    std::string correlation() {
        char buf[64];
        std::snprintf(buf, sizeof buf, "5c1a%04x-0000-4000-8000-%012llx", 0x1234,
                      static_cast<unsigned long long>(++correlation_));
        return buf;
    }
    HttpResponse too_many(const std::string& policy, bool retry_after) {
        ++counters_["rate_limited"];
        json body = {
            {"status", "error"},
            {"message", "You have reached your " +
                            std::string(policy == "DAILY" ? "daily" : "secondly") + " limit."},
            {"errorType", "RATE_LIMIT"},
            {"correlationId", correlation()},
            {"policyName", policy},
            {"groupName", "sim-portal"}};
        auto out = HttpResponse::json(429, body.dump());
        if (retry_after) out.headers.emplace_back("Retry-After", std::to_string(retry_after_s_));
        return out;
    }

    // Faults that are about the transport or the server, not the request.
    std::optional<HttpResponse> transport_fault(Fault f) {
        switch (f) {
            case Fault::hang_up: {
                HttpResponse out;
                out.close_without_answer = true;
                return out;
            }
            case Fault::server_error: {
                // Gateway errors come from HubSpot's edge as HTML, timeouts as JSON.
                if (++gateway_ % 2 == 0)
                    return HttpResponse::text(
                        502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
                return error(504, "The request timed out.", "GATEWAY_TIMEOUT");
            }
            case Fault::throttle:
                return too_many("TEN_SECONDLY_ROLLING", true);
            case Fault::throttle_silent:
                return too_many("TEN_SECONDLY_ROLLING", false);
            default:
                return std::nullopt;
        }
    }

    // ---- Auth --------------------------------------------------------------------------------

    static std::string bearer(const HttpRequest& r) {
        auto h = std::string(r.header("Authorization"));
        return h.rfind("Bearer ", 0) == 0 ? h.substr(7) : std::string();
    }

    std::optional<HttpResponse> authenticate(const std::string& token, Fault f) {
        if (!token.empty() && token == private_token_) return std::nullopt;
        auto it = tokens_.find(token);
        if (it == tokens_.end()) {
            ++counters_["auth_401"];
            return error(401,
                         "Authentication credentials not found. This API supports OAuth 2.0 "
                         "authentication and you can find more details at "
                         "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                         "INVALID_AUTHENTICATION");
        }
        if (f == Fault::expire_token) it->second = wall_ms() - 1;  // revoked now
        const int64_t now = wall_ms();
        if (now >= it->second) {
            ++counters_["auth_401"];
            return error(401,
                         "The OAuth token used to make this call expired " +
                             std::to_string((now - it->second) / 1000) + " second(s) ago.",
                         "EXPIRED_AUTHENTICATION");
        }
        return std::nullopt;
    }

    HttpResponse token(const HttpRequest& r) {
        ++counters_["token"];
        const Fault f = faults().next("token", {Fault::server_error, Fault::hang_up, Fault::slow});
        if (auto early = transport_fault(f)) return *early;
        HttpResponse out = token_answer(r);
        if (f == Fault::slow) out.delay = std::chrono::milliseconds(faults().plan().slow_ms);
        return out;
    }

    HttpResponse token_answer(const HttpRequest& r) {
        auto oauth_error = [&](const std::string& status, const std::string& message) {
            json body = {{"status", status},
                         {"message", message},
                         {"correlationId", correlation()},
                         {"requestId", correlation()}};
            return HttpResponse::json(400, body.dump());
        };
        if (r.header("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0)
            return oauth_error("BAD_REQUEST",
                               "Content-Type must be application/x-www-form-urlencoded");
        const auto body = r.body;
        if (form_value(body, "grant_type") != "refresh_token")
            return oauth_error("BAD_GRANT_TYPE", "missing or unknown grant type");
        if (form_value(body, "client_id") != client_id_)
            return oauth_error("BAD_CLIENT_ID", "missing or unknown client id");
        if (form_value(body, "client_secret") != client_secret_)
            return oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret");
        const auto rt = form_value(body, "refresh_token");
        if (std::find(refresh_tokens_.begin(), refresh_tokens_.end(), rt) == refresh_tokens_.end())
            return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token");
        ++counters_["refreshes"];
        const std::string access = "sim-at-" + std::to_string(++issued_);
        tokens_[access] = wall_ms() + int64_t{ttl_s_} * 1000;
        std::string next_rt = rt;
        if (rotate_) {
            next_rt = "sim-refresh-" + std::to_string(issued_);
            refresh_tokens_.push_back(next_rt);
        }
        json out = {{"token_type", "bearer"},
                    {"refresh_token", next_rt},
                    {"access_token", access},
                    {"expires_in", ttl_s_}};
        return HttpResponse::json(200, out.dump());
    }

    // ---- Rate limits -------------------------------------------------------------------------

    std::optional<HttpResponse> rate_limit(bool is_search) {
        const int64_t now = wall_ms();
        while (!burst_.empty() && burst_.front() <= now - burst_window_ms_) burst_.pop_front();
        while (!searches_.empty() && searches_.front() <= now - 1000) searches_.pop_front();
        // HubSpot sends Retry-After only sometimes; its enforcement answers here never do.
        if (burst_limit_ > 0 && burst_.size() >= burst_limit_)
            return too_many("TEN_SECONDLY_ROLLING", false);
        if (is_search && search_per_second_ > 0 && searches_.size() >= search_per_second_)
            return too_many("SECONDLY", false);  // policy name for search: inferred
        burst_.push_back(now);
        if (is_search) searches_.push_back(now);
        return std::nullopt;
    }

    void add_rate_headers(HttpResponse& out) const {
        if (burst_limit_ == 0) return;
        out.headers.emplace_back("X-HubSpot-RateLimit-Interval-Milliseconds",
                                 std::to_string(burst_window_ms_));
        out.headers.emplace_back("X-HubSpot-RateLimit-Max", std::to_string(burst_limit_));
        out.headers.emplace_back("X-HubSpot-RateLimit-Remaining",
                                 std::to_string(burst_limit_ - burst_.size()));
    }

    // ---- List and search ---------------------------------------------------------------------

    HttpResponse list(const hubspot::ObjectType& t, const HttpRequest& r, Fault f,
                      size_t short_to) {
        ++counters_["list"];
        const auto q = r.query();
        const auto limit_s = form_value(q, "limit");
        const size_t limit = limit_s.empty() ? 10 : std::stoul(limit_s);
        if (limit < 1 || limit > 100)
            return error(400, "limit must be between 1 and 100", "VALIDATION_ERROR");
        if (form_value(q, "archived") == "true")
            return HttpResponse::json(200, R"({"results":[]})");
        const auto after_s = form_value(q, "after");
        if (f == Fault::invalidate_cursor)
            return error(400, "Invalid after: " + after_s, "VALIDATION_ERROR");
        uint64_t after = 0;
        if (!after_s.empty()) {
            if (after_s.find_first_not_of("0123456789") != std::string::npos)
                return error(400, "Invalid after: " + after_s, "VALIDATION_ERROR");
            after = std::stoull(after_s);
        }
        auto body = crm_.list(t, after, limit, split_commas(form_value(q, "properties")), short_to,
                              base_url());
        return HttpResponse::json(200, body.dump());
    }

    HttpResponse search(const hubspot::ObjectType& t, const HttpRequest& r, Fault f,
                        size_t short_to) {
        ++counters_["search"];
        if (r.header("Content-Type").rfind("application/json", 0) != 0)
            return error(415, "Content-Type must be application/json", "VALIDATION_ERROR");
        json body = json::parse(r.body, nullptr, false);
        if (!body.is_object()) return error(400, "Invalid input JSON", "VALIDATION_ERROR");
        SearchQuery q;
        size_t total_filters = 0;
        try {
            for (const auto& g : body.value("filterGroups", json::array())) {
                std::vector<SearchQuery::Filter> group;
                for (const auto& fl : g.at("filters")) {
                    group.push_back({fl.at("propertyName").get<std::string>(),
                                     fl.at("operator").get<std::string>(),
                                     fl.value("value", std::string())});
                    static const std::vector<std::string> ops{
                        "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "HAS_PROPERTY", "NOT_HAS_PROPERTY"};
                    if (std::find(ops.begin(), ops.end(), group.back().op) == ops.end())
                        return error(400, "Unknown operator " + group.back().op,
                                     "VALIDATION_ERROR");
                }
                if (group.size() > 10)
                    return error(400, "Too many filters in a filter group (max 10)",
                                 "VALIDATION_ERROR");
                total_filters += group.size();
                q.groups.push_back(std::move(group));
            }
            const auto sorts = body.value("sorts", json::array());
            if (sorts.size() > 1)  // one sort per search (inferred from HubSpot's docs)
                return error(400, "Only one sort is supported", "VALIDATION_ERROR");
            if (!sorts.empty()) {
                q.sort_property = sorts[0].at("propertyName").get<std::string>();
                q.descending = sorts[0].value("direction", "ASCENDING") == "DESCENDING";
            }
            for (const auto& p : body.value("properties", json::array()))
                q.properties.push_back(p.get<std::string>());
            q.limit = body.value("limit", size_t{10});
            const auto after = body.value("after", std::string("0"));
            if (after.empty() || after.find_first_not_of("0123456789") != std::string::npos)
                return error(400, "Invalid after: " + after, "VALIDATION_ERROR");
            q.after = std::stoull(after);
        } catch (const json::exception& e) {
            return error(400, std::string("Invalid input JSON: ") + e.what(), "VALIDATION_ERROR");
        }
        if (q.groups.size() > 5 || total_filters > 25)
            return error(400, "Too many filter groups or filters (max 5 groups, 25 filters)",
                         "VALIDATION_ERROR");
        if (q.limit < 1 || q.limit > 200)
            return error(400, "limit must be between 1 and 200", "VALIDATION_ERROR");
        if (q.after + q.limit > ceiling_) {
            ++counters_["ceiling_400"];
            return error(400,
                         "Cannot page beyond " + std::to_string(ceiling_) +
                             " results; narrow the search",  // exact wording: inferred
                         "VALIDATION_ERROR");
        }
        if (f == Fault::invalidate_cursor)
            return error(400, "Invalid after: " + std::to_string(q.after), "VALIDATION_ERROR");
        auto out = crm_.search(t, q, wall_ms(), lag_ms_, short_to);
        return HttpResponse::json(200, out.dump());
    }

    mutable std::mutex mu_;
    Crm crm_;
    std::string private_token_, client_id_, client_secret_;
    std::vector<std::string> refresh_tokens_;
    std::map<std::string, int64_t> tokens_;  // access token -> expiry (wall ms)
    int ttl_s_ = 1800;
    bool rotate_ = false;
    size_t ceiling_ = 10000;
    int64_t lag_ms_ = 1000;
    size_t burst_limit_ = 100;
    int64_t burst_window_ms_ = 10000;
    size_t search_per_second_ = 5;
    int retry_after_s_ = 1;
    size_t mutate_count_ = 3;
    std::deque<int64_t> burst_, searches_;
    uint64_t issued_ = 0, correlation_ = 0, gateway_ = 0;
    std::map<std::string, uint64_t> counters_;
};

CDPHUB_SIM_VENDOR("hubspot", HubSpotVendor);

}  // namespace
}  // namespace cdphub::sim

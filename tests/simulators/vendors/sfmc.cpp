// Salesforce Marketing Cloud simulator (vendor "sfmc"): the OAuth2 token route, Data Extension
// rowset upserts, the asynchronous rows API (jobs Pending for a few polls, then Complete with
// per-row results, or Error), and Journey entry events, in SFMC's wire shapes
// (reference/vendor-wire-protocols.md section 1). Auth and REST share one port; the token answer
// names it as rest_instance_url, as SFMC names the tenant's REST host.
//
// settings: client_id, client_secret ("sim-id"/"sim-secret"), account_id (checked if set),
//   data_extension_key ("CDP_Members"), key_column ("ContactKey"), token_ttl_s (1079),
//   max_rowset_bytes (5 MB), max_async_items (32000), pending_polls (2), retry_after_s (1),
//   failed_row_share (0.1, of a partial_failure job), partial_every (0: every Nth async request
//   is a partial failure besides the scheduled ones), max_key_length (254),
//   journey_keys (["cdp-entered"]).
// /_sim/state: {"rows": {key: {column: value}}, "journeys": {contact: injections},
//   "tokens_issued", "async_requests", "rowset_requests", "oversize_refused", "partial_jobs"}
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

using Clock = std::chrono::steady_clock;

HttpResponse error(int status, const std::string& message, int code) {
    return HttpResponse::json(
        status, json{{"message", message},
                     {"errorcode", code},
                     {"documentation",
                      "https://developer.salesforce.com/docs/marketing/marketing-cloud/guide/"
                      "error-handling.html"}}
                    .dump());
}

struct Job {
    json items;
    bool insert_only = false;
    int polls_left = 0;
    bool partial = false;  // a partial_failure fault: some valid rows fail
    bool done = false;
    json results = json::array();
    bool has_errors = false;
};

class Sfmc final : public Vendor {
  public:
    explicit Sfmc(const VendorOptions& o) : Vendor(o), rng_(o.seed) {
        const auto& s = o.settings;
        client_id_ = s.value("client_id", "sim-id");
        client_secret_ = s.value("client_secret", "sim-secret");
        account_id_ = s.value("account_id", "");
        de_key_ = s.value("data_extension_key", "CDP_Members");
        key_column_ = s.value("key_column", "ContactKey");
        ttl_s_ = s.value("token_ttl_s", 1079);
        max_rowset_bytes_ = s.value("max_rowset_bytes", std::size_t{5u << 20});
        max_async_items_ = s.value("max_async_items", std::size_t{32000});
        pending_polls_ = s.value("pending_polls", 2);
        retry_after_s_ = s.value("retry_after_s", 1);
        failed_share_ = s.value("failed_row_share", 0.1);
        partial_every_ = s.value("partial_every", 0);
        max_key_length_ = s.value("max_key_length", std::size_t{254});
        for (const auto& k : s.value("journey_keys", json::array({"cdp-entered"})))
            journey_keys_.insert(k.get<std::string>());
    }

    HttpResponse handle(const HttpRequest& r) override {
        const std::string path(r.path());
        if (r.method == "POST" && path == "/v2/token") return token(r);
        const auto op = operation(r.method, path);
        const auto f = faults().next(
            op, {Fault::expire_token, Fault::throttle, Fault::throttle_silent, Fault::server_error,
                 Fault::hang_up, Fault::slow, Fault::partial_failure});
        std::lock_guard lock(mu_);
        if (!authorized(r)) return error(401, "Not Authorized", 0);
        switch (f) {
            case Fault::expire_token:
                tokens_.clear();
                return error(401, "Not Authorized", 0);
            case Fault::throttle: {
                auto resp =
                    HttpResponse::json(429, json{{"message", "Rate limit exceeded"},
                                                 {"errorcode", 50100},
                                                 {"retryAfter", retry_after_s_},
                                                 {"documentation", "rate-limiting-errors.htm"}}
                                                .dump());
                resp.headers.emplace_back("Retry-After", std::to_string(retry_after_s_));
                return resp;
            }
            case Fault::throttle_silent:
                return error(429, "Your requests are temporarily blocked.", 50200);
            case Fault::server_error:
                return error(rng_() % 2 ? 500 : 503, "Internal Server Error", 0);
            case Fault::hang_up: {
                HttpResponse h;
                h.close_without_answer = true;
                return h;
            }
            default:
                break;
        }
        auto resp = route(r, path, f == Fault::partial_failure);
        if (f == Fault::slow) resp.delay = std::chrono::milliseconds(options().faults.slow_ms);
        return resp;
    }

    json state() const override {
        std::lock_guard lock(mu_);
        return {{"rows", rows_},
                {"journeys", journeys_},
                {"tokens_issued", tokens_issued_},
                {"async_requests", async_requests_},
                {"rowset_requests", rowset_requests_},
                {"oversize_refused", oversize_},
                {"partial_jobs", partial_jobs_}};
    }

  private:
    static std::string operation(const std::string& method, const std::string& path) {
        if (path.find("/rowset") != std::string::npos) return "rowset";
        if (path.find("/status") != std::string::npos) return "async_status";
        if (path.find("/results") != std::string::npos) return "async_results";
        if (path.find("/data/v1/async/") == 0) return "async_" + method;
        if (path == "/interaction/v1/events") return "journey_event";
        return "other";
    }

    HttpResponse token(const HttpRequest& r) {
        const auto f = faults().next("token", {Fault::server_error, Fault::hang_up});
        if (f == Fault::server_error) return error(500, "Internal Server Error", 0);
        if (f == Fault::hang_up) {
            HttpResponse h;
            h.close_without_answer = true;
            return h;
        }
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object() || !r.header("Content-Type").starts_with("application/json"))
            return HttpResponse::json(
                400,
                R"({"error":"invalid_request","error_description":"The request body must be JSON."})");
        if (body.value("grant_type", "") != "client_credentials")
            return HttpResponse::json(
                400,
                R"({"error":"unsupported_grant_type","error_description":"Use client_credentials."})");
        if (body.value("client_id", "") != client_id_ ||
            body.value("client_secret", "") != client_secret_ ||
            (!account_id_.empty() && body.value("account_id", account_id_) != account_id_))
            return HttpResponse::json(
                401,
                R"({"error":"invalid_client","error_description":"Client authentication failed.","error_uri":"https://developer.salesforce.com/docs"})");
        std::lock_guard lock(mu_);
        const auto t = "sim-token-" + std::to_string(++tokens_issued_);
        tokens_[t] = Clock::now() + std::chrono::seconds(ttl_s_);
        const auto base = base_url() + "/";
        return HttpResponse::json(
            200, json{{"access_token", t},
                      {"token_type", "Bearer"},
                      {"expires_in", ttl_s_},
                      {"scope", "data_extensions_read data_extensions_write journeys_execute"},
                      {"soap_instance_url", base},
                      {"rest_instance_url", base}}
                     .dump());
    }

    bool authorized(const HttpRequest& r) {
        auto h = std::string(r.header("Authorization"));
        if (h.rfind("Bearer ", 0) != 0) return false;
        auto it = tokens_.find(h.substr(7));
        return it != tokens_.end() && it->second > Clock::now();
    }

    HttpResponse route(const HttpRequest& r, const std::string& path, bool partial) {
        const std::string de_prefix_sync = "/hub/v1/dataevents/key:";
        const std::string de_prefix_async = "/data/v1/async/dataextensions/key:";
        if (r.method == "POST" && path.rfind(de_prefix_sync, 0) == 0 && path.ends_with("/rowset"))
            return rowset(
                r, path.substr(de_prefix_sync.size(), path.size() - de_prefix_sync.size() - 7));
        if ((r.method == "PUT" || r.method == "POST") && path.rfind(de_prefix_async, 0) == 0 &&
            path.ends_with("/rows"))
            return async_rows(
                r, path.substr(de_prefix_async.size(), path.size() - de_prefix_async.size() - 5),
                partial);
        if (r.method == "GET" && path.rfind("/data/v1/async/", 0) == 0) {
            auto rest = path.substr(15);
            auto slash = rest.find('/');
            if (slash != std::string::npos) {
                auto id = rest.substr(0, slash), what = rest.substr(slash + 1);
                if (what == "status") return status(id);
                if (what == "results") return results(id, r.query());
            }
        }
        if (r.method == "POST" && path == "/interaction/v1/events") return journey(r);
        return error(404, "Not Found: " + r.method + " " + path, 0);
    }

    // Why a row cannot be stored; "" if it can.
    std::string invalid(const json& key) const {
        if (!key.is_string() || key.get<std::string>().empty())
            return "The primary key column " + key_column_ + " is required";
        if (key.get<std::string>().size() > max_key_length_)
            return "The value for " + key_column_ + " exceeds the column length of " +
                   std::to_string(max_key_length_);
        return {};
    }

    HttpResponse rowset(const HttpRequest& r, const std::string& key) {
        ++rowset_requests_;
        if (key != de_key_) return error(404, "Data extension " + key + " not found", 10000);
        if (r.body.size() > max_rowset_bytes_) {
            ++oversize_;
            return error(413, "Request entity too large", 0);
        }
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_array()) return error(400, "The request body must be an array of rows", 10000);
        for (const auto& row : body) {
            const auto k = row.value("keys", json::object()).value(key_column_, json());
            if (auto why = invalid(k); !why.empty()) return error(400, why, 10006);
        }
        for (const auto& row : body) {
            auto& stored = rows_[row["keys"][key_column_].get<std::string>()];
            if (stored.is_null()) stored = json::object();
            const json values = row.value("values", json::object());
            for (const auto& [c, v] : values.items()) stored[c] = v;
        }
        return HttpResponse::json(200, body.dump());
    }

    HttpResponse async_rows(const HttpRequest& r, const std::string& key, bool partial) {
        if (key != de_key_) return error(404, "Data extension " + key + " not found", 10000);
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
            return error(400, "items is required", 10000);
        if (body["items"].size() > max_async_items_)
            return error(
                400, "A request may hold at most " + std::to_string(max_async_items_) + " items",
                10000);
        ++async_requests_;
        Job j;
        j.items = std::move(body["items"]);
        j.insert_only = r.method == "POST";
        j.polls_left = pending_polls_;
        j.partial = partial || (partial_every_ > 0 && async_requests_ % partial_every_ == 0);
        if (j.partial) ++partial_jobs_;
        const auto id = uuid();
        jobs_[id] = std::move(j);
        return HttpResponse::json(
            202, json{{"requestId", id}, {"resultMessages", json::array()}}.dump());
    }

    void complete(Job& j) {
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        for (auto& item : j.items) {
            std::string why = invalid(item.value(key_column_, json()));
            if (why.empty() && j.partial && coin(rng_) < failed_share_)
                why =
                    "Transaction (Process ID 73) was deadlocked on lock resources with another "
                    "process and has been chosen as the deadlock victim. Rerun the transaction.";
            const auto k = item.value(key_column_, json());
            if (why.empty() && j.insert_only && rows_.contains(k.get<std::string>()))
                why = "Violation of PRIMARY KEY constraint. Cannot insert duplicate key (" +
                      k.get<std::string>() + ").";
            if (!why.empty()) {
                j.has_errors = true;
                j.results.push_back(
                    {{"errorCode", "UnexpectedError"}, {"message", why}, {"status", "Error"}});
                continue;
            }
            auto& stored = rows_[k.get<std::string>()];
            if (stored.is_null()) stored = json::object();
            for (const auto& [c, v] : item.items())
                if (c != key_column_) stored[c] = v;
            j.results.push_back({{"status", "OK"}});
        }
        j.done = true;
    }

    HttpResponse status(const std::string& id) {
        auto it = jobs_.find(id);
        if (it == jobs_.end()) return error(404, "Request " + id + " not found", 10000);
        auto& j = it->second;
        if (!j.done && j.polls_left-- <= 0) complete(j);
        json st = {{"callDateTime", "2026-01-01T00:00:00.00"},
                   {"hasErrors", j.has_errors},
                   {"requestStatus", j.done ? "Complete" : "Pending"},
                   {"resultStatus", j.done ? (j.has_errors ? "Error" : "OK") : ""},
                   {"requestId", id}};
        if (j.done) {
            st["pickupDateTime"] = "2026-01-01T00:00:01.00";
            st["completionDateTime"] = "2026-01-01T00:00:02.00";
        }
        return HttpResponse::json(200, json{{"status", st}, {"requestId", uuid()}}.dump());
    }

    HttpResponse results(const std::string& id, std::string_view query) {
        auto it = jobs_.find(id);
        if (it == jobs_.end() || !it->second.done)
            return error(404, "Results for " + id + " are not available", 10000);
        std::size_t page = 1, size = 50;
        if (auto p = form_value(query, "page"); !p.empty()) page = std::max(1, std::stoi(p));
        if (auto p = form_value(query, "pageSize"); !p.empty()) size = std::max(1, std::stoi(p));
        const auto& all = it->second.results;
        json items = json::array();
        for (std::size_t i = (page - 1) * size; i < all.size() && i < page * size; ++i)
            items.push_back(all[i]);
        return HttpResponse::json(200, json{{"page", page},
                                            {"pageSize", size},
                                            {"count", all.size()},
                                            {"requestId", id},
                                            {"items", items}}
                                           .dump());
    }

    HttpResponse journey(const HttpRequest& r) {
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object() || !body.contains("ContactKey") || !body["ContactKey"].is_string())
            return error(400, "ContactKey is required", 10000);
        if (!journey_keys_.contains(body.value("EventDefinitionKey", "")))
            return error(400, "Event definition key not found", 30000);
        ++journeys_[body["ContactKey"].get<std::string>()];
        return HttpResponse::json(201, json{{"eventInstanceId", uuid()}}.dump());
    }

    std::string uuid() {
        static const char* hex = "0123456789abcdef";
        std::string s = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
        for (auto& c : s)
            if (c == 'x' || c == 'y') c = hex[rng_() % 16];
        return s;
    }

    std::string client_id_, client_secret_, account_id_, de_key_, key_column_;
    int ttl_s_ = 1079, pending_polls_ = 2, retry_after_s_ = 1, partial_every_ = 0;
    std::size_t max_rowset_bytes_, max_async_items_, max_key_length_;
    double failed_share_ = 0.1;
    std::set<std::string> journey_keys_;

    mutable std::mutex mu_;
    std::mt19937_64 rng_;
    std::map<std::string, Clock::time_point> tokens_;
    json rows_ = json::object();
    std::map<std::string, std::int64_t> journeys_;
    std::map<std::string, Job> jobs_;
    std::int64_t tokens_issued_ = 0, async_requests_ = 0, rowset_requests_ = 0, oversize_ = 0,
                 partial_jobs_ = 0;
};

}  // namespace

CDPHUB_SIM_VENDOR("sfmc", Sfmc);

}  // namespace cdphub::sim

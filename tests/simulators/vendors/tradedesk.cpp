// The Trade Desk Data API simulator (vendor "tradedesk"): POST /data/advertiser with a TTD-Auth
// token, items carrying one user id (TDID, UID2, UID2Token, EUID, DAID, IDL) and segment Data
// with TtlInMinutes, answered 200 with per-line FailedLines (reference/vendor-wire-protocols.md
// section 4). It holds each segment's members per id, so tests can compare them exactly.
//
// Inferred, not documented in the notes: TtlInMinutes 0 removes the user from the segment;
// ItemNumber counts from `item_number_base` (1); a TDID must be a UUID.
//
// settings: auth_tokens (["sim-ttd-token"]), advertiser_id ("adv1"), max_body_bytes (1 MiB:
//   larger bodies get 413 MaxRequestSizeExceeded), max_ttl_minutes (259200), item_number_base (1),
//   unmapped (ids TTD does not know: line UserNotMapped), max_segments_per_user (100:
//   TargetingDataCountLimitExceeded), retry_after_s (1), failed_line_share (0.2 of a
//   partial_failure request's lines fail with a transient InternalError).
// Faults: expire_token (the token in use stops working: 401 InvalidToken), throttle (429 with
//   Retry-After), throttle_silent (429 without), server_error (503/500 bursts), hang_up, slow,
//   partial_failure.
// /_sim/state: {"segments": {name: [ids, sorted]}, "requests", "items", "failed_lines",
//   "oversize_refused", "trace_ids": [DataLoadTraceId...], "revoked_tokens"}
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

const std::vector<std::string> kIdKeys{"TDID", "UID2", "UID2Token", "EUID", "DAID", "IDL"};

bool uuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

class TradeDesk final : public Vendor {
  public:
    explicit TradeDesk(const VendorOptions& o) : Vendor(o), rng_(o.seed) {
        const auto& s = o.settings;
        for (const auto& t : s.value("auth_tokens", json::array({"sim-ttd-token"})))
            tokens_.insert(t.get<std::string>());
        advertiser_ = s.value("advertiser_id", "adv1");
        max_body_ = s.value("max_body_bytes", std::size_t{1u << 20});
        max_ttl_ = s.value("max_ttl_minutes", std::int64_t{259200});
        base_ = s.value("item_number_base", 1);
        for (const auto& u : s.value("unmapped", json::array()))
            unmapped_.insert(u.get<std::string>());
        max_segments_ = s.value("max_segments_per_user", std::size_t{100});
        retry_after_s_ = s.value("retry_after_s", 1);
        failed_share_ = s.value("failed_line_share", 0.2);
    }

    HttpResponse handle(const HttpRequest& r) override {
        const std::string path(r.path());
        const auto f =
            faults().next("data_advertiser", {Fault::expire_token, Fault::throttle,
                                              Fault::throttle_silent, Fault::server_error,
                                              Fault::hang_up, Fault::slow, Fault::partial_failure});
        std::lock_guard lock(mu_);
        ++requests_;
        const std::string token(r.header("TTD-Auth"));
        if (token.empty() || !tokens_.count(token))
            return error(401, "AuthenticationFailed",
                         "The provided credentials could not be authenticated.");
        switch (f) {
            case Fault::expire_token:
                tokens_.erase(token);
                ++revoked_;
                return error(401, "InvalidToken", "The provided token is invalid or expired.");
            case Fault::throttle: {
                auto resp = error(429, "TooManyRequests", "Rate limit exceeded.");
                resp.headers.emplace_back("Retry-After", std::to_string(retry_after_s_));
                return resp;
            }
            case Fault::throttle_silent:
                return error(429, "TooManyRequests", "Rate limit exceeded.");
            case Fault::server_error:
                return (rng_() % 2) ? HttpResponse::text(503, "Service Unavailable")
                                    : error(500, "InternalServerError", "Unexpected error.");
            case Fault::hang_up: {
                HttpResponse h;
                h.close_without_answer = true;
                return h;
            }
            default:
                break;
        }
        HttpResponse resp;
        if (r.method != "POST" || path != "/data/advertiser")
            resp =
                error(404, "EndpointNotConfigured", "No such endpoint: " + r.method + " " + path);
        else
            resp = advertiser_data(r, f == Fault::partial_failure);
        if (f == Fault::slow) resp.delay = std::chrono::milliseconds(options().faults.slow_ms);
        return resp;
    }

    json state() const override {
        std::lock_guard lock(mu_);
        json segments = json::object();
        for (const auto& [name, ids] : segments_) segments[name] = ids;
        return {{"segments", segments},
                {"requests", requests_},
                {"items", items_},
                {"failed_lines", failed_lines_},
                {"oversize_refused", oversize_},
                {"trace_ids", trace_ids_},
                {"revoked_tokens", revoked_}};
    }

  private:
    static HttpResponse error(int status, const std::string& code, const std::string& message) {
        return HttpResponse::json(status, json{{"ErrorCode", code}, {"Message", message}}.dump());
    }

    HttpResponse advertiser_data(const HttpRequest& r, bool partial) {
        if (r.body.size() > max_body_) {
            ++oversize_;
            return error(413, "MaxRequestSizeExceeded",
                         "Request payload exceeds the maximum allowed size.");
        }
        auto body = json::parse(r.body, nullptr, false);
        if (!body.is_object())
            return error(400, "SerializationFailed", "Request body could not be deserialized.");
        if (!body.contains("AdvertiserId") || !body["AdvertiserId"].is_string())
            return error(400, "MissingData", "AdvertiserId is required.");
        if (body["AdvertiserId"] != advertiser_)
            return error(403, "AdvertiserMisconfigured",
                         "The provided AdvertiserId is not configured to send data.");
        if (!body.contains("Items") || !body["Items"].is_array())
            return error(400, "MissingData", "Items is required.");
        if (body.contains("DataLoadTraceId")) trace_ids_.push_back(body["DataLoadTraceId"]);
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        json failed = json::array();
        const auto& items = body["Items"];
        for (std::size_t n = 0; n < items.size(); ++n) {
            ++items_;
            auto why = line(items[n], partial && coin(rng_) < failed_share_);
            if (why.first.empty()) continue;
            ++failed_lines_;
            failed.push_back({{"ItemNumber", std::to_string(n + base_)},
                              {"ErrorCode", why.first},
                              {"Message", why.second}});
        }
        return HttpResponse::json(200, json{{"FailedLines", failed}}.dump());
    }

    // Applies one item; {code, message} of its failure, or empty.
    std::pair<std::string, std::string> line(const json& item, bool transient) {
        if (!item.is_object()) return {"MissingUserId", "The item is not an object."};
        std::string key, id;
        for (const auto& k : kIdKeys)
            if (item.contains(k) && item[k].is_string() && !item[k].get<std::string>().empty()) {
                if (!key.empty()) return {"IncorrectContent", "An item carries one user id."};
                key = k;
                id = item[k].get<std::string>();
            }
        if (key.empty()) return {"MissingUserId", "The item has no user id."};
        if (key == "TDID" && !uuid(id)) return {"UserNotMapped", "TDID is not a valid id."};
        if (unmapped_.count(id)) return {"UserNotMapped", "The user id is not mapped."};
        const auto data = item.value("Data", json());
        if (!data.is_array() || data.empty()) return {"MissingData", "Data is required."};
        for (const auto& d : data) {
            const auto ttl = d.value("TtlInMinutes", std::int64_t{-1});
            if (!d.contains("Name") || !d["Name"].is_string() ||
                d["Name"].get<std::string>().empty())
                return {"MissingData", "Data Name is required."};
            if (ttl < 0 || ttl > max_ttl_)
                return {"InvalidTtlInMinutes",
                        "TtlInMinutes must be between 0 and " + std::to_string(max_ttl_) + "."};
        }
        if (transient) return {"InternalError", "The line could not be processed; retry it."};
        const auto user = key + ":" + id;
        for (const auto& d : data) {
            auto& members = segments_[d["Name"].get<std::string>()];
            if (d["TtlInMinutes"].get<std::int64_t>() == 0) {
                if (members.erase(user) > 0) --per_user_[user];
                continue;
            }
            if (!members.count(user) && per_user_[user] >= static_cast<std::int64_t>(max_segments_))
                return {"TargetingDataCountLimitExceeded",
                        "The user is in too many segments of this advertiser."};
            if (members.insert(user).second) ++per_user_[user];
        }
        return {};
    }

    std::set<std::string> tokens_, unmapped_;
    std::string advertiser_;
    std::size_t max_body_, max_segments_;
    std::int64_t max_ttl_;
    int base_ = 1, retry_after_s_ = 1;
    double failed_share_ = 0.2;

    mutable std::mutex mu_;
    std::mt19937_64 rng_;
    std::map<std::string, std::set<std::string>> segments_;
    std::map<std::string, std::int64_t> per_user_;
    json trace_ids_ = json::array();
    std::int64_t requests_ = 0, items_ = 0, failed_lines_ = 0, oversize_ = 0, revoked_ = 0;
};

}  // namespace

CDPHUB_SIM_VENDOR("tradedesk", TradeDesk);

}  // namespace cdphub::sim

// tradedesk: keeps a first-party segment at The Trade Desk in step with a hub segment. Each
// member's TTD ids (TDID, UID2, ...) are posted to the Data API (POST /data/advertiser, TTD-Auth
// header) as items carrying the segment's Data Name with TtlInMinutes; a member that leaves is
// posted with TtlInMinutes 0. Per-line FailedLines become per-record outcomes. See README.md.
#include <cdphub/sdk.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "settings.hpp"

namespace cdphub::ttd {
namespace {

struct Item {
    std::size_t row = 0;  // index in the hub's batch
    json body;            // {"TDID": "...", "Data": [{"Name", "TtlInMinutes"}]}
};

// What happened to one record's items so far.
struct RowState {
    std::size_t items = 0, settled = 0, accepted = 0;
    std::string data_error, retry_error;
    bool reported = false;
};

std::string printable(std::string_view s, std::size_t max = 300) {
    std::string cut(s.substr(0, max));
    cut = json::parse(json(cut).dump(-1, ' ', false, json::error_handler_t::replace))
              .get<std::string>();
    return cut.empty() ? "(empty body)" : cut;
}

// A FailedLines code about the user or the line's data, not about the call: rejected, never
// retried. Other codes are retried per record.
bool data_error(const std::string& code) {
    return code == "MissingUserId" || code == "UserNotMapped" ||
           code == "TargetingDataCountLimitExceeded" || code == "InvalidUserId" ||
           code == "MissingData" || code == "IncorrectContent";
}

class TradeDeskDestination : public Destination {
  public:
    TradeDeskDestination(Host& host, const json& config)
        : Destination(host), s_(parse_settings(config)), chunk_(s_.max_items) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "tradedesk";
        i.version = "0.1.0";
        i.name = "The Trade Desk (first-party data)";
        i.kind = Kind::destination;
        i.category = Category::dmp;
        i.config_spec = config_spec();
        // The rate limit is a conservative default: TTD publishes none for the data endpoints
        // and answers 429 when throttling.
        i.capabilities = {{"batch", {{"max_records", 5000}, {"max_bytes", 16 << 20}}},
                          {"rate_limit", {{"requests", 20}, {"per_seconds", 1}}},
                          {"identifier_types",
                           json::array({"tdid", "uid2", "uid2_token", "euid", "daid", "idl"})}};
        return i;
    }

    // The Data API has no read-only route; an empty item list checks the token and advertiser.
    void check(Call& call) override {
        auto r = post(call, json::array(), "cdphub-check");
        if (!r.ok()) fail("POST /data/advertiser", r);
    }

    void write(Call& call, const json& batch) override {
        std::vector<Item> items;
        std::vector<RowState> rows(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& op = batch[i];
            const auto fields = op.value("fields", json::object());
            const bool remove = op.value("op", "upsert") == "remove";
            const std::string name = !s_.data_name.empty()
                                         ? s_.data_name
                                         : s_.data_name_prefix + op.value("segment", "segment");
            for (const auto& type : s_.id_types) {
                for (const auto& [field, v] : fields.items()) {
                    if (!detail::iequals(field, type) || !v.is_string() ||
                        v.get<std::string>().empty())
                        continue;
                    items.push_back(
                        {i,
                         {{type, v.get<std::string>()},
                          {"Data",
                           {{{"Name", name}, {"TtlInMinutes", remove ? 0 : s_.ttl_minutes}}}}}});
                    ++rows[i].items;
                    break;
                }
            }
            if (rows[i].items == 0) {
                rows[i].reported = true;
                call.report_record(i, Status::invalid_record,
                                   "no TTD id for this profile: none of " +
                                       json(s_.id_types).dump() +
                                       " has a value; map them in the binding or filter such "
                                       "profiles out");
            }
        }
        const std::string trace =
            batch.empty() ? std::string("cdphub")
                          : "cdphub-" + batch[0].value("binding", std::string("batch")) + "-" +
                                std::to_string(batch[0].value("change_id", std::int64_t{0}));
        std::size_t part = 0;
        for (std::size_t pos = 0; pos < items.size();) {
            call.throw_if_cancelled();
            const std::size_t take = std::min(chunk_, items.size() - pos);
            if (!send(call, items, pos, take, rows, trace + "-" + std::to_string(++part))) {
                chunk_ = std::max<std::size_t>(1, take / 2);
                host().info("TTD refused " + std::to_string(take) +
                            " items as too large (413); sending at most " + std::to_string(chunk_) +
                            " per request from now on");
                continue;
            }
            pos += take;
            report(call, rows);
        }
        // Items a split request left unanswered: their records go again later.
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (!rows[i].reported)
                call.report_record(i, Status::retryable, "TTD did not answer for all its ids");
    }

  private:
    HttpResponse post(const Call& call, json items, const std::string& trace) const {
        HttpRequest req;
        req.method = "POST";
        req.url = s_.base_url + "/data/advertiser";
        req.timeout_ms = s_.timeout_ms;
        req.retry_safe = true;  // the same membership and TTL twice is the same state
        req.header("TTD-Auth", s_.auth_token);
        req.header("Content-Type", "application/json");
        req.body = json{{"AdvertiserId", s_.advertiser_id},
                        {"DataLoadTraceId", trace},
                        {"Items", std::move(items)}}
                       .dump(-1, ' ', false, json::error_handler_t::replace);
        return call.http(req);
    }

    // Sends items[pos, pos+take). False: refused as too large with more than one item.
    bool send(const Call& call, const std::vector<Item>& items, std::size_t pos, std::size_t take,
              std::vector<RowState>& rows, const std::string& trace) {
        json body = json::array();
        for (std::size_t k = pos; k < pos + take; ++k) body.push_back(items[k].body);
        auto r = post(call, std::move(body), trace);
        if (r.status() == 413 && take > 1) return false;
        if ((r.status() == 400 || r.status() == 413) && take == 1) {
            auto& st = rows[items[pos].row];
            ++st.settled;
            st.data_error = "TTD refused the item (" + answer(r) + ")";
            return true;
        }
        if (r.status() == 400) {
            // Refused as a whole: halves find the items at fault.
            const auto half = take / 2;
            send(call, items, pos, half, rows, trace + "a");
            send(call, items, pos + half, take - half, rows, trace + "b");
            return true;
        }
        if (!r.ok()) fail("POST /data/advertiser", r);
        auto j = r.json_body();
        std::vector<std::string> failed(take);
        std::vector<bool> is_data(take, false);
        for (const auto& line : j.value("FailedLines", json::array())) {
            const auto code = line.value("ErrorCode", std::string("Unknown"));
            const auto msg = code + ": " + printable(line.value("Message", ""));
            if (code == "InvalidTtlInMinutes")
                throw ConfigError("TTD refused TtlInMinutes " + std::to_string(s_.ttl_minutes) +
                                  " (" + msg + "); lower ttl_minutes");
            long n = -1;
            const auto num = line.value("ItemNumber", json());
            if (num.is_string()) n = std::strtol(num.get<std::string>().c_str(), nullptr, 10);
            if (num.is_number_integer()) n = num.get<long>();
            n -= s_.item_number_base;
            if (n < 0 || static_cast<std::size_t>(n) >= take) {
                host().warn("TTD reported a failed line with an ItemNumber outside the request (" +
                            printable(line.dump()) + ")");
                continue;
            }
            failed[n] = msg;
            is_data[n] = data_error(code);
        }
        for (std::size_t k = 0; k < take; ++k) {
            auto& st = rows[items[pos + k].row];
            ++st.settled;
            if (failed[k].empty())
                ++st.accepted;
            else if (is_data[k])
                st.data_error = failed[k];
            else
                st.retry_error = failed[k];
        }
        return true;
    }

    // Reports every record whose items have all been answered: delivered if TTD took at least
    // one of its ids (the member is reachable), retried if a line failed for another reason,
    // rejected if every id was refused as data.
    void report(const Call& call, std::vector<RowState>& rows) const {
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto& st = rows[i];
            if (st.reported || st.items == 0 || st.settled < st.items) continue;
            st.reported = true;
            if (!st.retry_error.empty())
                call.report_record(i, Status::retryable, "TTD failed the line: " + st.retry_error);
            else if (st.accepted > 0)
                call.report_record(i, Status::ok);
            else
                call.report_record(i, Status::invalid_record,
                                   "TTD refused every id of this profile: " + st.data_error);
        }
    }

    static std::string answer(const HttpResponse& r) {
        auto j = cdphub::parse_untrusted_json(r.body());
        std::string out = "HTTP " + std::to_string(r.status());
        if (j.is_object() && (j.contains("ErrorCode") || j.contains("Message")))
            return out + " " + printable(j.value("ErrorCode", "")) + ": " +
                   printable(j.value("Message", ""));
        return out + ": " + printable(r.body());
    }

    [[noreturn]] static void fail(const std::string& what, const HttpResponse& r) {
        const int s = r.status();
        const std::string msg = what + " answered " + answer(r);
        auto j = cdphub::parse_untrusted_json(r.body());
        const std::string code = j.is_object() ? j.value("ErrorCode", "") : "";
        if (s == 401)
            throw AuthError(msg +
                            " (the TTD-Auth token is invalid or expired: put a new data "
                            "API token into auth_token)");
        if (s == 403) {
            if (code.find("Misconfigured") != std::string::npos ||
                code == "TargetingDataLimitReached")
                throw ConfigError(msg + " (check advertiser_id and the advertiser's data setup)");
            throw AuthError(msg + " (the token has no permission for this advertiser)");
        }
        if (s == 404) throw ConfigError(msg + " (check base_url: the region's data server)");
        if (s == 429) throw RateLimitedError(msg, r.retry_after_ms());
        if (s == 408 || s >= 500) throw RetryableError(msg, r.retry_after_ms());
        throw FatalError(msg);
    }

    Settings s_;
    std::size_t chunk_;
};

}  // namespace
}  // namespace cdphub::ttd

CDPHUB_PLUGIN(cdphub::ttd::TradeDeskDestination)

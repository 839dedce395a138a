// sfmc: Salesforce Marketing Cloud destination. Keeps a Data Extension in step with a segment
// (one row per member, keyed by a mapped field; a membership column flips to false when a profile
// leaves) and fires a Journey entry event when a profile enters the segment. See README.md.
#include <cdphub/sdk.hpp>

#include <vector>

#include "api.hpp"
#include "data_extension.hpp"
#include "rows.hpp"
#include "settings.hpp"

namespace cdphub::sfmc {
namespace {

class SfmcDestination : public Destination {
  public:
    SfmcDestination(Host& host, const json& config)
        : Destination(host), s_(parse_settings(config)), api_(host, s_), de_(api_, s_) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "sfmc";
        i.version = "0.1.0";
        i.name = "Salesforce Marketing Cloud";
        i.kind = Kind::destination;
        i.category = Category::sfmc;
        i.config_spec = config_spec();
        // One hub batch becomes rowset chunks of 50 rows, or one async request (32,000 max).
        // The rate limit is a conservative default, not an SFMC-published figure: SFMC throttles
        // with 429 (Retry-After) per tenant; override it with the manifest's rate_limit.
        i.capabilities = {{"batch", {{"max_records", 10000}, {"max_bytes", 32 << 20}}},
                          {"rate_limit", {{"requests", 50}, {"per_seconds", 1}}},
                          {"identifier_types", json::array({"email", "hashed_email", "user_id"})}};
        return i;
    }

    void check(Call& call) override { api_.check(call); }

    void write(Call& call, const json& batch) override {
        std::vector<Row> rows;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            std::string why;
            if (auto r = make_row(s_, batch[i], i, why))
                rows.push_back(std::move(*r));
            else
                call.report_record(i, Status::invalid_record, why);
        }
        std::vector<RowOutcome> out(rows.size());
        try {
            de_.upsert(call, rows, out);
        } catch (...) {
            // Rows already in the Data Extension whose journey step is not due are done.
            report_done(call, rows, out, false);
            throw;
        }
        report_done(call, rows, out, false);
        // Journey entries last, each reported as soon as SFMC accepted it: an entry event is not
        // idempotent (every POST injects again), so an accepted one must never be retried even
        // if a later one fails.
        for (std::size_t k = 0; k < rows.size(); ++k) {
            if (!rows[k].enter || out[k].state != RowState::upserted ||
                s_.journey_event_key.empty())
                continue;
            call.throw_if_cancelled();
            enter_journey(call, rows[k]);
        }
    }

  private:
    void report_done(const Call& call, const std::vector<Row>& rows,
                     const std::vector<RowOutcome>& out, bool) {
        for (std::size_t k = 0; k < rows.size(); ++k) {
            if (out[k].state == RowState::invalid)
                call.report_record(rows[k].index, Status::invalid_record, out[k].message);
            else if (out[k].state == RowState::upserted &&
                     (!rows[k].enter || s_.journey_event_key.empty()))
                call.report_record(rows[k].index, Status::ok);
        }
    }

    void enter_journey(const Call& call, const Row& row) {
        json data = row.values;
        data.erase(s_.membership_column);
        HttpRequest req;
        req.method = "POST";
        req.url = "interaction/v1/events";
        req.body = json{
            {"ContactKey", row.key},
            {"EventDefinitionKey", s_.journey_event_key},
            {"Data",
             data}}.dump(-1, ' ', false, json::error_handler_t::replace);
        // Never retry_safe: a repeated POST is a second journey entry.
        auto r = api_.send(call, req);
        if (r.ok()) {
            call.report_record(row.index, Status::ok);
            return;
        }
        if (r.status() == 400) {
            // Unknown definition or an inactive contact: about this entry, not an outage. The row
            // is in the Data Extension; the entry is what failed.
            call.report_record(row.index, Status::invalid_record,
                               "SFMC refused the journey entry for " + row.key +
                                   " (HTTP 400): " + excerpt(r.body()));
            return;
        }
        Api::fail("POST /interaction/v1/events", r);
    }

    Settings s_;
    Api api_;
    DataExtension de_;
};

}  // namespace
}  // namespace cdphub::sfmc

CDPHUB_PLUGIN(cdphub::sfmc::SfmcDestination)

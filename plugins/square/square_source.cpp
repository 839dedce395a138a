// square: a source of orders from the Square Orders API (POST /v2/orders/search), read
// incrementally by updated_at and checkpointed per page. See README.md.
#include <cdphub/sdk.hpp>

#include <cdphub_plugins/web.hpp>
#include <string>

#include "order_mapping.hpp"
#include "search_request.hpp"
#include "sync_state.hpp"

namespace {

using cdphub::json;
using namespace cdphub::square;

// Square's error object, first of `errors`: "CODE: detail (field)".
struct SquareError {
    std::string category, code, detail, field;
    std::string text() const {
        std::string t = code.empty() ? std::string("no error code") : code;
        if (!detail.empty()) t += ": " + detail;
        if (!field.empty()) t += " (field " + field + ")";
        return t;
    }
};

SquareError square_error(const cdphub::HttpResponse& r) {
    SquareError e;
    auto b = r.body();
    json j = cdphub::parse_untrusted_json(b);
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
        const json& f = j["errors"][0];
        e.category = f.value("category", "");
        e.code = f.value("code", "");
        e.detail = f.value("detail", "");
        e.field = f.value("field", "");
    } else {
        e.detail = std::string(b.substr(0, 200));
    }
    return e;
}

class SquareOrdersSource : public cdphub::Source {
  public:
    SquareOrdersSource(cdphub::Host& host, const json& config)
        : Source(host), s_(Settings::parse(config)) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "square";
        i.version = "1.0.0";
        i.name = "Square orders";
        i.kind = cdphub::Kind::source;
        i.category = cdphub::Category::pos;
        i.config_spec = json::parse(R"json({
          "type": "object", "additionalProperties": false,
          "required": ["access_token", "location_ids"],
          "properties": {
            "base_url": {"type": "string", "format": "uri", "default": "https://connect.squareup.com",
              "description": "https://connect.squareup.com, or https://connect.squareupsandbox.com for a sandbox token."},
            "access_token": {"type": "string", "writeOnly": true,
              "description": "Access token with ORDERS_READ."},
            "square_version": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "default": "2024-05-15",
              "description": "Square-Version header: the API version the mapping was written for."},
            "location_ids": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string", "minLength": 1},
              "description": "Locations to read (SearchOrders takes 1 to 10)."},
            "states": {"type": "array", "items": {"enum": ["OPEN", "COMPLETED", "CANCELED", "DRAFT"]},
              "default": ["OPEN", "COMPLETED", "CANCELED"]},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
            "start_at": {"type": "string", "format": "date-time", "default": "2010-01-01T00:00:00Z",
              "description": "First read: orders updated at or after this instant."},
            "max_retries": {"type": "integer", "minimum": 0, "maximum": 20, "default": 4},
            "retry_backoff_ms": {"type": "integer", "minimum": 0, "maximum": 600000, "default": 2000},
            "max_runs": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5,
              "description": "Paging runs per read while runs still find new order versions."}
          }})json");
        i.capabilities = {{"incremental", true},
                          {"record_types", {"order"}},
                          {"identifier_types", {"pos_customer_id"}},
                          {"rate_limit", {{"requests", 10}, {"per_seconds", 1}}}};
        return i;
    }

    void check(cdphub::Call& call) override {
        auto r = post(call, search_body(s_, s_.start_at, "", 1));
        throw_for_status(r, false);
        host().info("Square accepted the token and location_ids " + json(s_.location_ids).dump());
    }

    void read(cdphub::Call& call) override {
        SyncState st = SyncState::parse(call.cursor_json(), s_.start_at);
        uint64_t total = 0;
        int restarts = 0;
        for (int64_t run = 0; run < s_.max_runs; ++run) {
            if (st.page.empty()) st.start_at = st.watermark.empty() ? s_.start_at : st.watermark;
            uint64_t new_in_run = 0;
            for (;;) {
                call.throw_if_cancelled();
                auto r = post(call, search_body(s_, st.start_at, st.page, s_.page_size));
                if (!st.page.empty() && r.status() == 400 &&
                    square_error(r).code == "INVALID_CURSOR") {
                    // Square no longer takes the cursor: a new run from the watermark loses
                    // nothing (start_at is inclusive; `seen` skips what is stored).
                    if (++restarts > 5)
                        throw cdphub::RetryableError(
                            "Square rejected the page cursor five times in a row; try later");
                    host().info("Square no longer accepts the page cursor (" +
                                square_error(r).text() + "); searching again from " + st.watermark);
                    st.page.clear();
                    st.start_at = st.watermark.empty() ? s_.start_at : st.watermark;
                    continue;
                }
                throw_for_status(r, !st.page.empty());
                json page = r.json_body();
                json records = json::array();
                auto wm_ms = cdphub::plugins::parse_utc_ms(st.watermark);
                for (const auto& o : page.value("orders", json::array())) {
                    if (!o.is_object() || !o.contains("id") || !o["id"].is_string())
                        throw cdphub::RetryableError("Square returned an order without an id");
                    const std::string ts = o.value("updated_at", "");
                    const std::string key =
                        o["id"].get<std::string>() + "@v" + std::to_string(o.value("version", 0));
                    auto ms = cdphub::plugins::parse_utc_ms(ts);
                    if (!ms)
                        throw cdphub::RetryableError("Square returned order " + key +
                                                     " with an unreadable updated_at: " + ts);
                    if (wm_ms && *ms == *wm_ms && st.seen.count(key)) continue;
                    records.push_back(map_order(o));
                    if (!wm_ms || *ms > *wm_ms) {
                        st.watermark = ts;
                        st.seen.clear();
                        wm_ms = ms;
                    }
                    if (*ms == *wm_ms) st.seen.insert(key);
                }
                st.page = page.value("cursor", std::string());
                // The records and the cursor past them are stored together: a kill after this
                // resumes at the next page, a kill before it repeats only this page.
                call.emit(records, st.to_json());
                new_in_run += records.size();
                restarts = 0;
                if (st.page.empty()) break;
            }
            total += new_in_run;
            // Orders updated while the run paged left it (their updated_at moved past the run's
            // end): another run from the watermark picks them up; stop once a run finds nothing.
            if (new_in_run == 0) break;
        }
        host().log(
            total == 0 ? cdphub::LogLevel::debug : cdphub::LogLevel::info,
            "read " + std::to_string(total) + " order version(s); watermark " + st.watermark);
    }

  private:
    // One SearchOrders call. The hub retries it on network errors, 429 and 5xx (it is a read,
    // so retry_safe); when those attempts are used up the plugin waits and tries a few more
    // times itself, since Square sends no Retry-After and advises backoff with jitter.
    cdphub::HttpResponse post(cdphub::Call& call, const json& body) {
        for (int64_t attempt = 0;; ++attempt) {
            cdphub::HttpRequest req;
            req.method = "POST";
            req.url = s_.base_url + "/v2/orders/search";
            req.header("Authorization", "Bearer " + s_.access_token)
                .header("Square-Version", s_.square_version)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json");
            req.body = body.dump();
            req.retry_safe = true;
            std::string why;
            try {
                auto r = call.http(req);
                if (r.status() != 429 && r.status() < 500) return r;
                if (attempt >= s_.max_retries) return r;
                why = "HTTP " + std::to_string(r.status()) + " " + square_error(r).code;
            } catch (const cdphub::ReportedError& e) {
                if (e.status() != cdphub::Status::retryable || attempt >= s_.max_retries) throw;
                why = "network error";
            }
            const int64_t wait = s_.retry_backoff_ms << std::min<int64_t>(attempt, 10);
            const int64_t jitter = wait > 0 ? host().now_ms() % (wait / 2 + 1) : 0;
            host().warn("Square SearchOrders failed (" + why + "); retrying in " +
                        std::to_string(wait + jitter) + " ms");
            call.sleep_ms(wait + jitter);
        }
    }

    void throw_for_status(const cdphub::HttpResponse& r, bool paging) {
        const int st = r.status();
        if (st >= 200 && st < 300) return;
        const SquareError e = square_error(r);
        if (st == 401)
            throw cdphub::AuthError(
                "Square refused the access token (" + e.text() +
                "): check the access_token secret, that it has not expired or been revoked, "
                "and that base_url matches it (production tokens: connect.squareup.com, sandbox "
                "tokens: connect.squareupsandbox.com)");
        if (st == 403)
            throw cdphub::AuthError("Square denied access (" + e.text() +
                                    "): the token needs ORDERS_READ and access to location_ids " +
                                    json(s_.location_ids).dump());
        if (st == 429)
            throw cdphub::RateLimitedError("Square kept answering 429 RATE_LIMITED after " +
                                           std::to_string(s_.max_retries + 1) + " attempts");
        if (st >= 500)
            throw cdphub::RetryableError("Square answered HTTP " + std::to_string(st) + " (" +
                                         e.text() + ") after " +
                                         std::to_string(s_.max_retries + 1) + " attempts");
        throw cdphub::ConfigError("Square rejected the " +
                                  std::string(paging ? "page request" : "search") + " (HTTP " +
                                  std::to_string(st) + " " + e.text() +
                                  "): check location_ids, states and square_version");
    }

    Settings s_;
};

}  // namespace

CDPHUB_PLUGIN(SquareOrdersSource)

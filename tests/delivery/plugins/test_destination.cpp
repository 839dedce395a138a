// delivery-test-destination: a minimal destination for the delivery tests. POSTs each batch of
// operations to config.url as {"ops": [...]} and maps the answer the way a real vendor plugin
// would, so the tests drive every outcome from an HttpTestServer:
//   2xx                         delivered, except records named in {"results": [{"index", "status",
//                               "message"}]} (4xx: invalid record, 5xx: retryable, 429: throttled)
//   401                         auth error        429  rate limited (Retry-After honoured)
//   5xx / no answer             retryable         other 4xx  invalid (whole batch)
#include <cdphub/sdk.hpp>

#include <string>

namespace {

using cdphub::json;

class TestDestination : public cdphub::Destination {
  public:
    TestDestination(cdphub::Host& host, const json& config)
        : Destination(host),
          url_(config.at("url").get<std::string>()),
          timeout_ms_(config.value("timeout_ms", 10000u)) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "delivery-test-destination";
        i.version = "1.0.0";
        i.name = "Delivery test destination";
        i.kind = cdphub::Kind::destination;
        i.config_spec = json::parse(R"({"type": "object", "required": ["url"],
            "properties": {"url": {"type": "string"}, "timeout_ms": {"type": "integer"},
                           "max_records": {"type": "integer"}}})");
        i.capabilities = {{"batch", {{"max_records", 40}, {"max_bytes", 1 << 20}}}};
        return i;
    }

    void check(cdphub::Call&) override {}

    void write(cdphub::Call& call, const json& batch) override {
        cdphub::HttpRequest req;
        req.method = "POST";
        req.url = url_;
        req.timeout_ms = timeout_ms_;
        req.body = json{{"ops", batch}}.dump();
        req.header("Content-Type", "application/json");
        auto r = call.http(req);
        const int s = r.status();
        const std::string what = "HTTP " + std::to_string(s) + ": " + std::string(r.body());
        if (s == 401) throw cdphub::AuthError("the test endpoint refused the token (" + what + ")");
        if (s == 429) throw cdphub::RateLimitedError(what, r.retry_after_ms());
        if (s >= 500) throw cdphub::RetryableError(what, r.retry_after_ms());
        if (s >= 400) throw cdphub::InvalidRecordError(what);
        auto answer = json::parse(r.body(), nullptr, false);
        if (!answer.is_object() || !answer.contains("results")) return;
        for (const auto& x : answer["results"]) {
            const int st = x.value("status", 200);
            const auto msg = x.value("message", std::string("refused"));
            const auto i = x.at("index").get<size_t>();
            if (st == 429)
                call.report_record(i, cdphub::Status::rate_limited, msg, 0);
            else if (st >= 500)
                call.report_record(i, cdphub::Status::retryable, msg);
            else if (st >= 400)
                call.report_record(i, cdphub::Status::invalid_record, msg);
        }
    }

  private:
    std::string url_;
    uint32_t timeout_ms_;
};

}  // namespace

CDPHUB_PLUGIN(TestDestination)

// A well-behaved plugin built on the C++ SDK whose behaviour the tests steer through its config,
// to exercise every host service and every status path of the plugin host.
#include <cdphub/sdk.hpp>

namespace {

using cdphub::json;

class TestConnector : public cdphub::SourceDestination {
  public:
    TestConnector(cdphub::Host& host, const json& config)
        : SourceDestination(host), config_(config) {
        if (config_.value("fail_create", false))
            throw cdphub::ConfigError("fail_create is set: refusing this configuration");
    }

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "test-connector";
        i.version = "2.3.4";
        i.name = "Test connector";
        i.kind = cdphub::Kind::both;
        i.category = cdphub::Category::crm;
        i.config_spec = json::parse(R"({
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "records": {"type": "integer", "minimum": 0},
            "batch_size": {"type": "integer", "minimum": 1},
            "check": {"enum": ["ok", "auth", "retry", "throw", "http", "secret"]},
            "url": {"type": "string"},
            "token": {"type": "string", "writeOnly": true},
            "fail_record_every": {"type": "integer", "minimum": 1},
            "block_until_cancelled": {"type": "boolean"},
            "log_token": {"type": "boolean"},
            "fail_create": {"type": "boolean"},
            "bad_emit": {"type": "boolean"},
            "deep_emit": {"type": "boolean"}
          }
        })");
        i.capabilities = {{"incremental", true},
                          {"webhook", true},
                          {"record_types", {"identify"}},
                          {"rate_limit", {{"requests", 50}, {"per_seconds", 1}}}};
        return i;
    }

    void check(cdphub::Call& call) override {
        auto mode = config_.value("check", std::string("ok"));
        if (config_.value("log_token", false))
            host().info("connecting with token " + config_.value("token", std::string()));
        if (mode == "auth") throw cdphub::AuthError("the vendor refused the API token (HTTP 401)");
        if (mode == "retry") throw cdphub::RetryableError("vendor unavailable", 1500);
        if (mode == "throw") throw std::logic_error("unexpected state in check");
        if (mode == "secret" && call.secret("token") != config_.value("token", std::string()))
            throw cdphub::FatalError("secret() and config disagree");
        if (mode == "http") {
            cdphub::HttpRequest req;
            req.url = config_.at("url").get<std::string>();
            req.retry_safe = true;
            req.header("Authorization", "Bearer " + config_.value("token", std::string()));
            auto resp = call.http(req);
            if (resp.status() == 401) throw cdphub::AuthError("HTTP 401 from " + req.url);
            if (!resp.ok()) throw cdphub::RetryableError("HTTP " + std::to_string(resp.status()));
            if (resp.json_body().value("ok", false) != true)
                throw cdphub::FatalError("bad health body");
        }
    }

    void read(cdphub::Call& call) override {
        if (config_.value("bad_emit", false)) {
            call.emit_raw("{\"not\": \"an array\"}", "");
            return;
        }
        if (config_.value("deep_emit", false)) {
            call.emit_raw("[{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}]",
                          "");
            return;
        }
        if (config_.value("block_until_cancelled", false)) {
            for (;;) call.sleep_ms(10'000);
        }
        const int total = config_.value("records", 0);
        const int batch = config_.value("batch_size", 10);
        auto cursor = call.cursor_json();
        int next = cursor.is_object() ? cursor.value("next", 0) : 0;
        while (next < total) {
            json records = json::array();
            int end = std::min(total, next + batch);
            for (int i = next; i < end; ++i)
                records.push_back({{"type", "identify"},
                                   {"record_id", "r" + std::to_string(i)},
                                   {"identifiers", {{"user_id", std::to_string(i)}}}});
            call.emit(records, {{"next", end}});
            next = end;
            call.throw_if_cancelled();
        }
    }

    void write(cdphub::Call& call, const json& batch) override {
        const int every = config_.value("fail_record_every", 0);
        for (size_t i = 0; i < batch.size(); ++i) {
            if (every > 0 && (i + 1) % static_cast<size_t>(every) == 0)
                call.report_record(i, cdphub::Status::invalid_record, "email is not valid");
            else
                call.report_record(i, cdphub::Status::ok);
        }
    }

    void receive(cdphub::Call& call, const cdphub::WebhookRequest& req) override {
        if (req.header("X-Signature") != "good") {
            call.respond(401, "text/plain", "bad signature\n");
            throw cdphub::AuthError("webhook signature mismatch");
        }
        auto body = json::parse(req.body);
        call.emit(json::array({{{"type", "track"}, {"event", body.value("event", "")}}}));
        call.respond(202, "application/json", R"({"accepted":1})");
    }

  private:
    json config_;
};

}  // namespace

CDPHUB_PLUGIN(TestConnector)

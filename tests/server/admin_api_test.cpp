// The admin API over real loopback HTTP: the token check, every route's answer on a real store,
// rejected-record replay after the cause was fixed, and /metrics in the Prometheus text format.
// The daemon's live state is a fake HubView here; tests/cli/admin_cli_test.cpp drives the whole
// `cdphub run` daemon.
#include <gmock/gmock.h>

#include <cstring>
#include <set>
#include <sstream>

#include "admin/admin_api.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/segments.hpp"
#include "segment/parser.hpp"
#include "server_fixture.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::server::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "adm_0123456789abcdef";

class FakeHub final : public admin::HubView {
  public:
    std::vector<admin::ConnectorInfo> connectors() override {
        return {{"crm", "hubspot", "1.2.0", true, false, "every 15m", "the CRM"},
                {"esp", "sfmc", "1.0.0", false, true, "manual", ""}};
    }
    std::vector<scheduler::TaskStatus> tasks() override {
        scheduler::TaskStatus t;
        t.name = "crm";
        t.runs = 3;
        t.failures = 1;
        t.items = 42;
        return {t};
    }
    bool run_now(const std::string& task) override {
        asked.push_back(task);
        return task == "crm";
    }
    Diagnostics validate_manifests() override {
        Diagnostic d;
        d.severity = Diagnostic::Severity::error;
        d.file = "segments/vip.json";
        d.pointer = "/expression";
        d.message = "expected an operand";
        return {d};
    }
    const IngestService* ingest() override { return nullptr; }

    std::vector<std::string> asked;
};

class AdminApiTest : public ServerTest {
  protected:
    void SetUp() override {
        start_server({}, [this](const plugin_host::WebhookRequest& r) { return api_->handle(r); });
        ingestor_ = std::make_unique<pipeline::Ingestor>(*store_, normalizer_, resolver_);
        const std::string pro = R"(traits.plan == "pro")";
        std::vector<pipeline::SegmentDefinition> defs;
        defs.push_back({"pros", pro, *segment::parse_segment(pro).value});
        segments_ = std::make_unique<pipeline::SegmentEngine>(*store_, segment::ComputedTraits{},
                                                              std::move(defs));
        segments_->sync_definitions();
        make_api(false);
    }
    void TearDown() override {
        stop_server();
        api_.reset();
    }

    // The API as the daemon makes it; `admin_normalizer` is the one a reload would bring.
    void make_api(bool metrics_public, const normalize::Normalizer* admin_normalizer = nullptr) {
        const auto& n = admin_normalizer ? *admin_normalizer : normalizer_;
        admin_ingestor_ = std::make_unique<pipeline::Ingestor>(*store_, n, resolver_);
        api_ = std::make_unique<admin::AdminApi>(
            admin::AdminDeps{*store_, n, *segments_, *admin_ingestor_, hub_}, kToken,
            metrics_public);
    }

    http::Result call(const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& token = kToken) {
        http::Request r;
        r.method = method;
        r.url = base_ + path;
        r.body = body;
        if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
        if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
        r.rate_limited = false;
        return client_.perform(r);
    }
    // The JSON answer of a call that must answer `status`.
    json answer(const std::string& method, const std::string& path, long status,
                const std::string& body = "") {
        auto r = call(method, path, body);
        EXPECT_TRUE(r.ok()) << path;
        if (!r.ok()) return json();
        EXPECT_EQ(r.response().status, status)
            << method << ' ' << path << ": " << r.response().body;
        auto j = json::parse(r.response().body, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.response().body;
        return j;
    }

    json rec(const std::string& id, json identifiers, json traits = json::object()) {
        return {{"type", "identify"},
                {"record_id", id},
                {"occurred_at", "2024-05-01T10:00:00Z"},
                {"identifiers", std::move(identifiers)},
                {"traits", std::move(traits)}};
    }

    void seed() {
        auto res = ingestor_->ingest(
            "crm", json::array({rec("a1", {{"email", "ann@shop.io"}}, {{"plan", "pro"}}),
                                rec("b1", {{"email", "bob@shop.io"}}, {{"plan", "free"}}),
                                rec("c1", {{"user_id", "u-cy"}}, {{"plan", "pro"}})}));
        ASSERT_EQ(res.inserted, 3u);
        segments_->evaluate_all("2024-05-02T00:00:00.000Z");
    }

    FakeHub hub_;
    std::unique_ptr<pipeline::Ingestor> ingestor_, admin_ingestor_;
    std::unique_ptr<pipeline::SegmentEngine> segments_;
    std::unique_ptr<admin::AdminApi> api_;
};

TEST_F(AdminApiTest, WithoutTheRightTokenEveryRouteIs401) {
    for (const std::string token : {"", "wrong", "adm_0123456789abcdeX", "adm_0123456789abcde"}) {
        for (const std::string path : {"/admin/v1/status", "/admin/v1/profiles/1", "/metrics"}) {
            auto r = call("GET", path, "", token);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(r.response().status, 401) << path << " with '" << token << "'";
            EXPECT_THAT(r.response().body, HasSubstr("Authorization: Bearer"));
            EXPECT_THAT(r.response().body, Not(HasSubstr(kToken)));
            bool challenged = false;
            for (const auto& [k, v] : r.response().headers)
                challenged |= k == "WWW-Authenticate" && v.starts_with("Bearer");
            EXPECT_TRUE(challenged) << path;
        }
    }
    // A write key is not an admin token.
    auto r = call("GET", "/admin/v1/status", "", kWriteKey);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.response().status, 401);
    // Nothing ran.
    EXPECT_TRUE(hub_.asked.empty());
}

TEST_F(AdminApiTest, StatusCountsWhatTheStoreHolds) {
    seed();
    auto s = answer("GET", "/admin/v1/status", 200);
    EXPECT_EQ(s["profiles"]["live"], 3);
    EXPECT_EQ(s["records"], 3);
    EXPECT_EQ(s["rejected_records"], 0);
    EXPECT_EQ(s["connectors"], 2);
    EXPECT_GE(s["schema_version"].get<int>(), 6);
}

TEST_F(AdminApiTest, ProfilesByIdAndByAnyIdentifierInAnySpelling) {
    seed();
    // The lookup cleans the identifier as ingestion does.
    auto p = answer("GET", "/admin/v1/profiles?identifier=email%3A%20ANN%40Shop.io%20", 200);
    ASSERT_TRUE(p.contains("id"));
    EXPECT_EQ(p["traits"]["plan"]["value"], "pro");
    EXPECT_EQ(p["traits"]["plan"]["source"], "crm");
    EXPECT_EQ(p["identifiers"][0]["value"], "ann@shop.io");
    EXPECT_EQ(p["segments"][0]["segment"], "pros");
    auto by_id = answer("GET", "/admin/v1/profiles/" + std::to_string(p["id"].get<int>()), 200);
    EXPECT_EQ(by_id["identifiers"], p["identifiers"]);

    auto missing = answer("GET", "/admin/v1/profiles?identifier=email:nobody@shop.io", 404);
    EXPECT_EQ(missing["error"]["code"], "not_found");
    EXPECT_EQ(answer("GET", "/admin/v1/profiles/99999", 404)["error"]["code"], "not_found");
    auto bad = answer("GET", "/admin/v1/profiles/abc", 400);
    EXPECT_THAT(bad["error"]["message"].get<std::string>(), HasSubstr("identifier=TYPE:VALUE"));
    EXPECT_EQ(answer("GET", "/admin/v1/profiles?identifier=nocolon", 400)["error"]["code"],
              "bad_parameter");
}

TEST_F(AdminApiTest, SegmentsListOneAndPreview) {
    seed();
    auto list = answer("GET", "/admin/v1/segments", 200);
    ASSERT_EQ(list["segments"].size(), 1u);
    EXPECT_EQ(list["segments"][0]["name"], "pros");
    EXPECT_EQ(list["segments"][0]["members"], 2);

    auto one = answer("GET", "/admin/v1/segments/pros?limit=1", 200);
    EXPECT_EQ(one["members"], 2);
    EXPECT_EQ(one["sample"].size(), 1u);
    EXPECT_EQ(answer("GET", "/admin/v1/segments/nope", 404)["error"]["code"], "not_found");
    EXPECT_EQ(answer("GET", "/admin/v1/segments/pros?limit=0", 400)["error"]["code"],
              "bad_parameter");

    auto preview = answer("POST", "/admin/v1/segments/preview", 200,
                          R"({"expression": "traits.plan == \"free\"", "limit": 5})");
    EXPECT_EQ(preview["count"], 1);
    EXPECT_EQ(preview["of_live_profiles"], 3);
    EXPECT_EQ(preview["saved"], false);
    auto wrong = answer("POST", "/admin/v1/segments/preview", 400,
                        R"({"expression": "traits.plan = \"free\""})");
    EXPECT_EQ(wrong["error"]["code"], "bad_expression");
    EXPECT_THAT(wrong["error"]["message"].get<std::string>(), HasSubstr("column"));
    EXPECT_EQ(answer("POST", "/admin/v1/segments/preview", 400, "[1,2]")["error"]["code"],
              "bad_body");
    auto deep =
        answer("POST", "/admin/v1/segments/preview", 400,
               R"({"expression": )" + std::string(100000, '[') + std::string(100000, ']') + "}");
    EXPECT_EQ(deep["error"]["code"], "bad_body");
    EXPECT_THAT(deep["error"]["message"].get<std::string>(), HasSubstr("deeper than 512"));
    // Preview saved nothing.
    EXPECT_EQ(answer("GET", "/admin/v1/segments", 200)["segments"].size(), 1u);
}

TEST_F(AdminApiTest, ConnectorsTheirSyncAndTheirRuns) {
    seed();
    store::SyncRun run;
    run.source = "crm";
    run.trigger = "daemon";
    run.started_at = "2024-05-01T10:00:00.000Z";
    run.finished_at = "2024-05-01T10:00:02.000Z";
    run.status = "ok";
    run.inserted = 3;
    store::SqliteOperations(*store_).record_sync_run(run);

    auto list = answer("GET", "/admin/v1/connectors", 200);
    ASSERT_EQ(list["connectors"].size(), 2u);
    const auto& crm = list["connectors"][0];
    EXPECT_EQ(crm["id"], "crm");
    EXPECT_EQ(crm["schedule"], "every 15m");
    EXPECT_EQ(crm["records"], 3);
    EXPECT_EQ(crm["sync"]["runs"], 3);
    EXPECT_EQ(list["connectors"][1]["destination"], true);

    auto one = answer("GET", "/admin/v1/connectors/crm", 200);
    ASSERT_EQ(one["recent_runs"].size(), 1u);
    EXPECT_EQ(one["recent_runs"][0]["inserted"], 3);
    EXPECT_EQ(one["recent_runs"][0]["trigger"], "daemon");

    auto queued = answer("POST", "/admin/v1/connectors/crm/sync", 202);
    EXPECT_EQ(queued["queued"], true);
    EXPECT_EQ(hub_.asked, std::vector<std::string>{"crm"});
    // A destination cannot be read; an unknown instance does not exist; GET is not a sync.
    EXPECT_EQ(answer("POST", "/admin/v1/connectors/esp/sync", 409)["error"]["code"],
              "not_a_source");
    EXPECT_EQ(answer("POST", "/admin/v1/connectors/nope/sync", 404)["error"]["code"], "not_found");
    EXPECT_EQ(answer("GET", "/admin/v1/connectors/crm/sync", 405)["error"]["code"],
              "method_not_allowed");

    auto runs = answer("GET", "/admin/v1/sync-runs?source=crm", 200);
    ASSERT_EQ(runs["runs"].size(), 1u);
    EXPECT_EQ(runs["runs"][0]["status"], "ok");
    EXPECT_EQ(answer("GET", "/admin/v1/sync-runs?source=other", 200)["runs"].size(), 0u);
}

TEST_F(AdminApiTest, RejectedRecordsReplayOnceTheCauseIsFixed) {
    // A German number written without +49: under the default region US it is no phone at all,
    // so the record has no identifier and is rejected.
    auto res = ingestor_->ingest(
        "pos", json::array({rec("p1", {{"phone", "030 23125000"}}),
                            json{{"type", "identify"}, {"record_id", "p2"}},  // never usable
                            rec("p3", {{"email", "dan@shop.io"}})}));
    ASSERT_EQ(res.rejected, 2u);
    auto listed = answer("GET", "/admin/v1/rejected?source=pos", 200);
    ASSERT_EQ(listed["rejected"].size(), 2u);
    EXPECT_EQ(listed["rejected"][0]["replayed"], nullptr);
    EXPECT_THAT(listed["rejected"][0].dump(), HasSubstr("no usable identifier"));

    // The admin fixes the cause (default region DE) and replays.
    normalize::Options de;
    de.default_region = "DE";
    normalize::Normalizer fixed(de);
    make_api(false, &fixed);
    auto replay = answer("POST", "/admin/v1/rejected/replay", 200, R"({"source": "pos"})");
    EXPECT_EQ(replay["considered"], 2);
    EXPECT_EQ(replay["accepted"], 1);
    EXPECT_EQ(replay["still_rejected"], 1);
    EXPECT_TRUE(store_->find_profile("phone", "+493023125000").has_value());

    auto after = answer("GET", "/admin/v1/rejected?source=pos", 200);
    ASSERT_EQ(after["rejected"].size(), 2u);  // the history stays, marked
    EXPECT_EQ(after["rejected"][0]["replayed"]["outcome"], "accepted");
    EXPECT_EQ(after["rejected"][1]["replayed"], nullptr);

    // Again: the accepted one is not considered twice, nothing new is stored.
    auto again = answer("POST", "/admin/v1/rejected/replay", 200, R"({"source": "pos"})");
    EXPECT_EQ(again["considered"], 1);
    EXPECT_EQ(again["accepted"], 0);
    EXPECT_EQ(store_->counts("pos").records, 2);
    EXPECT_EQ(answer("POST", "/admin/v1/rejected/replay", 400, R"({"ids": []})")["error"]["code"],
              "bad_body");
}

TEST_F(AdminApiTest, ActivationsAndManifestValidation) {
    auto a = answer("GET", "/admin/v1/activations", 200);
    EXPECT_TRUE(a["activations"].is_array());
    EXPECT_EQ(answer("POST", "/admin/v1/activations/nope/sync", 404)["error"]["code"], "not_found");
    EXPECT_EQ(hub_.asked, std::vector<std::string>{"activation nope"});
    EXPECT_EQ(answer("GET", "/admin/v1/activations/nope/failures", 404)["error"]["code"],
              "not_found");

    auto v = answer("POST", "/admin/v1/manifests/validate", 200);
    EXPECT_EQ(v["valid"], false);
    ASSERT_EQ(v["problems"].size(), 1u);
    EXPECT_THAT(v["problems"][0].dump(), HasSubstr("segments/vip.json"));

    EXPECT_EQ(answer("GET", "/admin/v1/no/such/route", 404)["error"]["code"], "not_found");
    EXPECT_EQ(answer("DELETE", "/admin/v1/status", 405)["error"]["code"], "method_not_allowed");
}

TEST_F(AdminApiTest, MetricsAreInThePrometheusTextFormat) {
    seed();
    for (const char* source : {"crm", "shop"}) {
        store::SyncRun run;
        run.source = source;
        run.trigger = "cli";
        run.started_at = run.finished_at = "2024-05-01T10:00:00.000Z";
        run.status = "ok";
        run.inserted = 2;
        run.rejected = 1;
        store::SqliteOperations(*store_).record_sync_run(run);
    }
    auto r = call("GET", "/metrics");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r.response().status, 200) << r.response().body;
    const auto& text = r.response().body;
    EXPECT_THAT(text, HasSubstr("# TYPE cdphub_profiles gauge"));
    EXPECT_THAT(text, HasSubstr("cdphub_profiles{state=\"live\"} 3"));
    EXPECT_THAT(text, HasSubstr("cdphub_task_runs_total{task=\"crm\"} 3"));
    EXPECT_THAT(text, HasSubstr("cdphub_task_failures_total{task=\"crm\"} 1"));
    EXPECT_THAT(text, HasSubstr("cdphub_sync_records_rejected_total{source=\"shop\"} 1"));
    // Every sample line belongs to the family announced last (samples of a family are grouped
    // after its HELP and TYPE), no family is announced twice, and a sample is "name value".
    std::set<std::string> families;
    std::string current;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# TYPE ")) {
            auto rest = line.substr(7);
            current = rest.substr(0, rest.find(' '));
            EXPECT_TRUE(families.insert(current).second) << "announced twice: " << current;
            continue;
        }
        if (line.empty() || line.starts_with("#")) continue;
        auto name = line.substr(0, line.find_first_of("{ "));
        bool known = name == current;
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (name.ends_with(suffix))
                known |= name.substr(0, name.size() - std::strlen(suffix)) == current;
        EXPECT_TRUE(known) << line << " (after # TYPE " << current << ")";
        auto value = line.substr(line.rfind(' ') + 1);
        EXPECT_NO_THROW((void)std::stod(value)) << line;
    }
    // Public metrics need no token; the admin routes still do.
    make_api(true);
    auto open = call("GET", "/metrics", "", "");
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(open.response().status, 200);
    EXPECT_EQ(call("GET", "/admin/v1/status", "", "").response().status, 401);
}

}  // namespace
}  // namespace cdphub::server::test

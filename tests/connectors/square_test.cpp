// The square plugin against the Square Orders simulator, into a real store: every fault Square
// shows, version bumps mid-sync, a kill mid-sync, a bad token, and the exact wire format.
#include <gtest/gtest.h>

#include <set>

#include "connectors/connector_harness.hpp"
#include "http/client.hpp"
#include "simulators/vendors/square.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using sim::Fault;

constexpr const char* kToken = "sq-test-token-7f3a";

struct SquareRig {
    explicit SquareRig(std::size_t records, sim::FaultPlan faults = {}, json settings = {})
        : server(std::make_unique<sim::SquareVendor>([&] {
              sim::VendorOptions o;
              o.seed = 42;
              o.records = records;
              o.faults = std::move(faults);
              o.settings = settings.is_object() ? settings : json::object();
              o.settings["access_token"] = kToken;
              return o;
          }())),
          harness("square", "square-pos") {}

    sim::SquareVendor& vendor() { return static_cast<sim::SquareVendor&>(server.vendor()); }

    void configure(int page_size, const std::string& token = kToken) {
        plugin_host::HostOptions h;
        h.http.backoff_base = std::chrono::milliseconds(1);
        h.http.backoff_max = std::chrono::milliseconds(5);
        h.http.timeout = std::chrono::milliseconds(5000);
        h.http.rate_limit = {};
        harness.configure({{"base_url", server.base_url()},
                           {"access_token", token},
                           {"location_ids", {"L1", "L2", "L3"}},
                           {"page_size", page_size},
                           {"retry_backoff_ms", 1},
                           {"max_retries", 6}},
                          {{"access_token", token}}, h);
    }

    // Syncs until one read succeeds (a read may end retryable when faults pile up).
    void sync_until_ok(int attempts = 15) {
        for (int i = 0; i < attempts; ++i) {
            auto r = harness.sync();
            if (r.status.ok()) return;
            ASSERT_TRUE(r.status.code == StatusCode::retryable ||
                        r.status.code == StatusCode::rate_limited)
                << r.status.to_string();
        }
        FAIL() << "no successful sync in " << attempts << " attempts";
    }

    // The store holds exactly the latest version of every order (accepted, or rejected as
    // no_identifier when it has no customer), and no version Square never had.
    void expect_store_matches_square() {
        auto orders = vendor().orders();
        auto state = vendor().state()["orders"];
        auto stored = harness.records();
        std::set<std::string> rejected_ids;
        for (const auto& [reason, raw] : harness.rejected()) {
            auto j = json::parse(raw);
            EXPECT_EQ(reason, "no_identifier") << raw;
            rejected_ids.insert(j["record_id"].get<std::string>());
        }
        std::size_t latest_found = 0;
        for (const auto& [id, o] : orders) {
            const std::string key = id + "@v" + std::to_string(o["version"].get<int>());
            const bool has_customer = o.contains("customer_id");
            if (has_customer) {
                auto it = stored.find(key);
                ASSERT_NE(it, stored.end()) << "latest version missing: " << key;
                ++latest_found;
                const json& rec = it->second;
                EXPECT_EQ(rec["identifiers"]["pos_customer_id"], o["customer_id"]);
                EXPECT_EQ(rec["order"]["currency"], o["total_money"]["currency"]);
                int64_t total = o["total_money"]["amount"].get<int64_t>();
                if (o.contains("return_amounts"))
                    total -= o["return_amounts"]["total_money"]["amount"].get<int64_t>();
                EXPECT_EQ(rec["order"]["total_minor"].get<int64_t>(), total) << key;
            } else {
                EXPECT_TRUE(rejected_ids.count(key)) << "walk-in order not passed on: " << key;
            }
        }
        EXPECT_GT(latest_found, orders.size() * 9 / 10);
        // Nothing that never existed: every stored id is a version Square had.
        for (const auto& [rid, rec] : stored) {
            auto at = rid.find("@v");
            ASSERT_NE(at, std::string::npos) << rid;
            const std::string id = rid.substr(0, at);
            const int v = std::stoi(rid.substr(at + 2));
            ASSERT_TRUE(state.contains(id)) << rid;
            auto versions = state[id]["versions"].get<std::vector<int>>();
            EXPECT_NE(std::find(versions.begin(), versions.end(), v), versions.end()) << rid;
        }
        // The cursor ends at Square's newest updated_at with no page open.
        auto c = json::parse(harness.cursor());
        std::string newest;
        for (const auto& [id, o] : orders)
            newest = std::max(newest, o["updated_at"].get<std::string>());
        EXPECT_EQ(c["watermark"], newest);
        EXPECT_FALSE(c.contains("page"));
    }

    sim::SimulatorServer server;
    ConnectorHarness harness;
};

TEST(SquareConnector, SyncsEveryOrderThroughEveryFault) {
    sim::FaultPlan plan{
        .seed = 11,
        .rate = 0.2,
        .kinds = {Fault::throttle, Fault::throttle_silent, Fault::server_error, Fault::hang_up,
                  Fault::short_page, Fault::invalidate_cursor, Fault::mutate_rows, Fault::slow},
        .burst = 2,
        .slow_ms = 20};
    SquareRig rig(3000, plan, {{"mutate_count", 40}});  // a bulk edit: 40 orders per bump
    // Every kind at least once, whatever the draw.
    int n = 4;
    for (Fault f : {Fault::invalidate_cursor, Fault::mutate_rows, Fault::throttle_silent,
                    Fault::throttle, Fault::server_error, Fault::hang_up, Fault::short_page})
        rig.vendor().faults().script(static_cast<std::uint64_t>(n += 4), f);
    rig.configure(40);
    rig.sync_until_ok();
    // Orders bumped mid-sync after their first version was stored are there at both versions.
    std::map<std::string, int> versions_stored;
    for (const auto& [rid, rec] : rig.harness.records())
        ++versions_stored[rid.substr(0, rid.find("@v"))];
    EXPECT_TRUE(std::any_of(versions_stored.begin(), versions_stored.end(),
                            [](const auto& kv) { return kv.second > 1; }));
    // Orders change after the sync, then a quiet sync must bring exactly the new versions.
    rig.vendor().mutate(25);
    rig.vendor().set_faults_enabled(false);
    ASSERT_TRUE(rig.harness.sync().status.ok());
    rig.expect_store_matches_square();
    auto injected = rig.vendor().faults().injected();
    for (const char* k : {"throttle", "throttle_silent", "server_error", "hang_up", "short_page",
                          "invalidate_cursor", "mutate_rows"})
        EXPECT_GT(injected[k], 0u) << k;
    // Version bumps happened, so some orders are stored at more than one version.
    std::set<std::string> ids;
    auto stored = rig.harness.records();
    for (const auto& [rid, rec] : stored) ids.insert(rid.substr(0, rid.find("@v")));
    EXPECT_LT(ids.size(), stored.size());
    // A further read finds nothing new and moves nothing.
    const auto before = rig.harness.cursor();
    auto again = rig.harness.sync();
    ASSERT_TRUE(again.status.ok());
    EXPECT_EQ(rig.harness.records().size(), stored.size());
    EXPECT_EQ(rig.harness.cursor(), before);
}

TEST(SquareConnector, KilledMidSyncResumesWithoutLossOrRepeats) {
    SquareRig rig(2000,
                  sim::FaultPlan{.seed = 3, .rate = 0.05, .kinds = {Fault::slow}, .slow_ms = 5});
    rig.configure(20);
    bool killed = rig.harness.sync_killed_when([&] {
        try {
            auto c = rig.harness.cursor();
            return !c.empty() && json::parse(c).contains("page") &&
                   rig.harness.records().size() > 400;
        } catch (const std::exception&) {
            return false;  // the child is still creating the store
        }
    });
    EXPECT_TRUE(killed);
    const auto partial = rig.harness.records().size();
    EXPECT_GT(partial, 400u);
    EXPECT_LT(partial, 1900u);
    // The resumed read continues from the stored page cursor: the first request carries it.
    rig.server.http().clear_requests();
    rig.sync_until_ok();
    auto reqs = rig.server.http().requests();
    ASSERT_FALSE(reqs.empty());
    EXPECT_TRUE(json::parse(reqs.front().body).contains("cursor"));
    rig.vendor().set_faults_enabled(false);
    rig.expect_store_matches_square();
}

TEST(SquareConnector, BadTokenIsAnAuthErrorWithoutRetries) {
    SquareRig rig(50);
    rig.configure(10, "sq-wrong-token-1234");
    auto r = rig.harness.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
    EXPECT_NE(r.status.message.find("Square refused the access token (UNAUTHORIZED"),
              std::string::npos)
        << r.status.message;
    EXPECT_NE(r.status.message.find("access_token"), std::string::npos);
    EXPECT_EQ(r.status.message.find("sq-wrong-token-1234"), std::string::npos);
    EXPECT_EQ(rig.server.http().request_count(), 1u);
    EXPECT_EQ(rig.harness.check().code, StatusCode::auth_error);
    EXPECT_TRUE(rig.harness.records().empty());
}

TEST(SquareConnector, SendsSquaresWireFormatAndTheSameQueryOnEveryPage) {
    SquareRig rig(300, sim::FaultPlan{.seed = 5, .rate = 0.3, .kinds = {Fault::short_page}});
    rig.configure(25);
    ASSERT_TRUE(rig.harness.sync().status.ok());
    auto reqs = rig.server.http().requests();
    ASSERT_GT(reqs.size(), 12u);
    json first_query;
    for (const auto& r : reqs) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/v2/orders/search");
        EXPECT_EQ(r.header("Authorization"), std::string("Bearer ") + kToken);
        EXPECT_EQ(r.header("Square-Version"), "2024-05-15");
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        json b = json::parse(r.body);
        EXPECT_EQ(b["location_ids"], json({"L1", "L2", "L3"}));
        EXPECT_EQ(b["limit"], 25);
        EXPECT_EQ(b["return_entries"], false);
        EXPECT_EQ(b["query"]["sort"], json({{"sort_field", "UPDATED_AT"}, {"sort_order", "ASC"}}));
        ASSERT_TRUE(b["query"]["filter"]["date_time_filter"]["updated_at"].contains("start_at"));
        if (!b.contains("cursor"))
            first_query = b["query"];
        else
            EXPECT_EQ(b["query"], first_query) << "a cursor page changed the query";
    }
    // The first run starts at the configured start; the closing run at the watermark.
    EXPECT_EQ(
        json::parse(
            reqs.front().body)["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"],
        "2010-01-01T00:00:00Z");
    EXPECT_EQ(
        json::parse(
            reqs.back().body)["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"],
        json::parse(rig.harness.cursor())["watermark"]);
}

TEST(SquareConnector, MapsMoneyReturnsAndCustomers) {
    SquareRig rig(600);
    rig.configure(200);
    ASSERT_TRUE(rig.harness.sync().status.ok());
    auto orders = rig.vendor().orders();
    int jpy = 0, returns = 0, fractional = 0;
    for (const auto& [rid, rec] : rig.harness.records()) {
        const json& o = orders.at(rid.substr(0, rid.find("@v")));
        EXPECT_EQ(rec["type"], "order");
        EXPECT_EQ(rec["occurred_at"].get<std::string>().substr(0, 19),
                  o["created_at"].get<std::string>().substr(0, 19));
        EXPECT_EQ(rec["properties"]["location_id"], o["location_id"]);
        if (rec["order"]["currency"] == "JPY") {
            ++jpy;  // yen have no minor unit: Square's amount is the yen amount
            if (o.contains("line_items") && o["line_items"][0]["quantity"] != "0.5") {
                EXPECT_EQ(rec["order"]["lines"][0]["price_minor"],
                          o["line_items"][0]["base_price_money"]["amount"]);
            }
        }
        if (o.contains("returns")) {
            ++returns;
            EXPECT_EQ(rec["order"]["status"], "returned");
            EXPECT_LT(rec["order"]["total_minor"].get<int64_t>(), 0);
            EXPECT_LT(rec["order"]["lines"][0]["quantity"].get<int>(), 0);
            EXPECT_EQ(rec["properties"]["source_order_ids"][0], o["returns"][0]["source_order_id"]);
        } else {
            EXPECT_EQ(rec["order"]["status"], o["state"] == "COMPLETED"
                                                  ? "completed"
                                                  : (o["state"] == "OPEN" ? "open" : "canceled"));
        }
        if (rec["properties"].contains("fractional_quantities")) ++fractional;
    }
    EXPECT_GT(jpy, 50);
    EXPECT_GT(returns, 5);
    EXPECT_GT(fractional, 5);
}

TEST(SquareSimulator, RejectsASortFieldThatDiffersFromTheFilterAndAChangedQuery) {
    SquareRig rig(100);
    http::Client client;
    auto post = [&](const json& body) {
        http::Request r;
        r.method = "POST";
        r.url = rig.server.base_url() + "/v2/orders/search";
        r.headers = {{"Authorization", std::string("Bearer ") + kToken},
                     {"Square-Version", "2024-05-15"},
                     {"Content-Type", "application/json"}};
        r.body = body.dump();
        auto res = client.perform(r);
        EXPECT_TRUE(res.ok());
        return std::make_pair(res.response().status, json::parse(res.response().body));
    };
    json body = {
        {"location_ids", {"L1"}},
        {"limit", 10},
        {"query",
         {{"filter",
           {{"date_time_filter", {{"updated_at", {{"start_at", "2024-01-01T00:00:00Z"}}}}}}},
          {"sort", {{"sort_field", "CREATED_AT"}, {"sort_order", "ASC"}}}}}};
    auto [st, err] = post(body);
    EXPECT_EQ(st, 400);
    EXPECT_EQ(err["errors"][0]["category"], "INVALID_REQUEST_ERROR");
    EXPECT_EQ(err["errors"][0]["field"], "query.sort.sort_field");
    body["query"]["sort"]["sort_field"] = "UPDATED_AT";
    auto [st2, page] = post(body);
    ASSERT_EQ(st2, 200);
    ASSERT_TRUE(page.contains("cursor"));
    body["cursor"] = page["cursor"];
    body["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"] = "2024-02-01T00:00:00Z";
    auto [st3, err3] = post(body);
    EXPECT_EQ(st3, 400);
    EXPECT_EQ(err3["errors"][0]["field"], "cursor");
    body["limit"] = 1001;
    body.erase("cursor");
    EXPECT_EQ(post(body).first, 400);
    body["limit"] = 10;
    body["location_ids"] = json::array();
    EXPECT_EQ(post(body).first, 400);
}

}  // namespace
}  // namespace cdphub::test

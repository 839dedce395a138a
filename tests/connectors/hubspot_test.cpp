// The hubspot plugin against the HubSpot simulator, into a real store: full loads and incremental
// reads through every fault HubSpot shows, the search ceiling and ties, a kill mid-sync, bad
// credentials, the rate limits, and the exact requests on the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "connectors/connector_harness.hpp"
#include "simulators/simulator.hpp"

namespace cdphub {
namespace {

using json = nlohmann::json;
using sim::Fault;
using sim::FaultPlan;
using sim::SimulatorServer;
using sim::VendorOptions;
using test::ConnectorHarness;

const std::vector<Fault> kAllFaults{
    Fault::expire_token, Fault::throttle,          Fault::throttle_silent,
    Fault::server_error, Fault::hang_up,           Fault::slow,
    Fault::short_page,   Fault::invalidate_cursor, Fault::mutate_rows};

VendorOptions vendor(size_t contacts, json settings, FaultPlan faults = {}) {
    VendorOptions o;
    o.seed = 42;
    o.records = contacts;
    o.faults = std::move(faults);
    json base = {{"search_lag_ms", 150},
                 {"burst_limit", 0},
                 {"search_per_second", 0},
                 {"retry_after_s", 0},
                 {"token_ttl_s", 1800}};
    base.update(settings);
    o.settings = base;
    return o;
}

// Fast retries: the hub's own backoff and the plugin's waits are shortened, never skipped.
plugin_host::HostOptions fast_host() {
    plugin_host::HostOptions h;
    h.http.backoff_base = std::chrono::milliseconds(2);
    h.http.backoff_max = std::chrono::milliseconds(20);
    h.http.timeout = std::chrono::milliseconds(5000);
    return h;
}

json oauth_config(const SimulatorServer& s, json extra = json::object()) {
    json c = {{"base_url", const_cast<SimulatorServer&>(s).base_url()},
              {"client_id", "sim-client"},
              {"client_secret", "sim-secret"},
              {"refresh_token", "sim-refresh"},
              {"page_size", 50},
              {"search_page_size", 50},
              {"search_requests_per_second", 0},
              {"index_lag_ms", 400},
              {"max_retries", 6},
              {"retry_wait_ms", 20}};
    c.update(extra);
    return c;
}

ConnectorHarness::Secrets oauth_secrets() {
    return {{"client_secret", "sim-secret"}, {"refresh_token", "sim-refresh"}};
}

std::string record_id(const std::string& type, const json& o, const std::string& version) {
    (void)o;
    return type + "/" + o["id"].get<std::string>() + "@" + version;
}

// What the simulator holds: the current version of every object, and every version it ever had.
struct Expected {
    std::set<std::string> current, all;
    std::map<std::string, json> current_props;  // record_id -> properties
};
Expected expected(SimulatorServer& s) {
    Expected e;
    json st = s.vendor().state()["objects"];
    for (const auto& [type, objects] : st.items()) {
        for (const auto& o : objects) {
            const auto id = record_id(type, o, o["modified"].get<std::string>());
            e.current.insert(id);
            e.current_props[id] = o["properties"];
            for (const auto& v : o["versions"])
                e.all.insert(record_id(type, o, v.get<std::string>()));
        }
    }
    return e;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// The store holds every current version (with its data), nothing the simulator never had, and
// nothing was rejected.
void expect_store_matches(ConnectorHarness& h, SimulatorServer& s) {
    const auto e = expected(s);
    const auto stored = h.records();
    size_t missing = 0, foreign = 0;
    for (const auto& id : e.current) {
        auto it = stored.find(id);
        if (it == stored.end()) {
            if (++missing <= 5) ADD_FAILURE() << "not in the store: " << id;
            continue;
        }
        const auto& props = e.current_props.at(id);
        const auto& r = it->second;
        if (id.rfind("contacts/", 0) == 0) {
            EXPECT_EQ(r["identifiers"]["hubspot_id"], props["hs_object_id"]) << id;
            if (props["email"].is_string()) {
                EXPECT_EQ(r["identifiers"]["email"], lower(props["email"].get<std::string>()))
                    << id;
            }
            EXPECT_EQ(r["traits"]["first_name"], props["firstname"]) << id;
        } else {
            EXPECT_EQ(r["identifiers"]["hubspot_company_id"], props["hs_object_id"]) << id;
            EXPECT_EQ(r["traits"]["company_name"], props["name"]) << id;
        }
        EXPECT_EQ(r["occurred_at"], id.substr(id.find('@') + 1)) << id;
    }
    for (const auto& [id, r] : stored)
        if (e.all.count(id) == 0 && ++foreign <= 5) ADD_FAILURE() << "never in HubSpot: " << id;
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(foreign, 0u);
    EXPECT_TRUE(h.rejected().empty())
        << h.rejected().front().first << ": " << h.rejected().front().second;
}

// Syncs until a read ends ok (the hub's scheduler would retry a read that ended retryable).
plugin_host::ReadResult sync_until_ok(ConnectorHarness& h, int max_runs = 30) {
    plugin_host::ReadResult r;
    for (int i = 0; i < max_runs; ++i) {
        r = h.sync();
        if (r.status.ok()) return r;
        EXPECT_TRUE(r.status.code == StatusCode::retryable ||
                    r.status.code == StatusCode::rate_limited)
            << r.status.to_string();
        if (r.status.code != StatusCode::retryable && r.status.code != StatusCode::rate_limited)
            return r;
    }
    ADD_FAILURE() << "no read ended ok in " << max_runs << " runs: " << r.status.to_string();
    return r;
}

// Incremental reads until the store has every current version: a read may itself meet a
// mutate_rows fault, whose changes the next read picks up once they are older than the lag.
void converge(ConnectorHarness& h, SimulatorServer& s, int rounds = 10) {
    for (int i = 0; i < rounds; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(450));  // index_lag_ms
        ASSERT_TRUE(sync_until_ok(h).status.ok());
        const auto e = expected(s);
        const auto stored = h.records();
        if (std::all_of(e.current.begin(), e.current.end(),
                        [&](const std::string& id) { return stored.count(id) != 0; }))
            return;
    }
}

std::vector<test::HttpRequest> requests_to(SimulatorServer& s, std::string_view path_part) {
    std::vector<test::HttpRequest> out;
    for (auto& r : s.http().requests())
        if (r.path().find(path_part) != std::string_view::npos) out.push_back(r);
    return out;
}

// ---- Full load and incremental reads through every fault --------------------------------------

TEST(HubSpot, ListsThenSearchesThroughEveryFault) {
    FaultPlan plan{.seed = 7, .rate = 0.2, .kinds = kAllFaults, .burst = 2, .slow_ms = 50};
    SimulatorServer s("hubspot", vendor(1500,
                                        {{"companies", 300},
                                         {"token_ttl_s", 2},
                                         {"rotate_refresh_token", true},
                                         {"mutate_count", 4}},
                                        plan));
    // Every kind at least once, whatever the draws: scripted early in the list phase.
    for (std::size_t i = 0; i < kAllFaults.size(); ++i)
        s.vendor().faults().script(4 + 3 * i, kAllFaults[i]);
    ConnectorHarness h("hubspot");
    h.configure(oauth_config(s), oauth_secrets(), fast_host());
    sync_until_ok(h);
    converge(h, s);
    expect_store_matches(h, s);

    const json cursor = json::parse(h.cursor());
    for (const auto* type : {"contacts", "companies"}) {
        const auto& st = cursor["objects"][type];
        EXPECT_EQ(st["phase"], "search") << cursor;
        EXPECT_FALSE(st.contains("tie_after"));
    }
    const auto injected = s.vendor().faults().injected();
    for (auto f : kAllFaults)
        EXPECT_GT(injected.count(std::string(sim::fault_name(f))), 0u) << sim::fault_name(f);
    const auto counters = s.vendor().state()["counters"];
    EXPECT_GT(counters["mutations"].get<int>(), 0);
    EXPECT_GT(counters["auth_401"].get<int>(), 0);   // expire_token answered, re-authenticated
    EXPECT_GT(counters["refreshes"].get<int>(), 2);  // proactive refreshes (2 s tokens)
}

// ---- The search ceiling and stamps shared by more objects than a search returns -----------------

TEST(HubSpot, SearchReWindowsAtTheCeilingAndPagesThroughTiesById) {
    // 1200 contacts, 600 of them at one stamp; a search pages through at most 500 results.
    FaultPlan plan{.seed = 3,
                   .rate = 0.1,
                   .kinds = {Fault::short_page, Fault::invalidate_cursor, Fault::mutate_rows,
                             Fault::throttle_silent}};
    SimulatorServer s(
        "hubspot",
        vendor(1200, {{"companies", 100}, {"big_tie", 600}, {"search_ceiling", 500}}, plan));
    ConnectorHarness h("hubspot");
    h.configure(oauth_config(s, {{"start_date", "2020-01-01T00:00:00Z"}}), oauth_secrets(),
                fast_host());
    sync_until_ok(h);
    converge(h, s);
    expect_store_matches(h, s);

    // The plugin believes HubSpot's 10,000: it met the simulator's 500 as a 400 and re-windowed.
    EXPECT_GT(s.vendor().state()["counters"]["ceiling_400"].get<int>(), 0);
    bool tie_search = false;
    for (const auto& r : requests_to(s, "/contacts/search")) {
        json b = json::parse(r.body);
        if (b["sorts"][0]["propertyName"] == "hs_object_id") {
            tie_search = true;
            EXPECT_EQ(b["filterGroups"][0]["filters"][0]["operator"], "EQ");
            EXPECT_EQ(b["filterGroups"][0]["filters"][1]["propertyName"], "hs_object_id");
            EXPECT_EQ(b["filterGroups"][0]["filters"][1]["operator"], "GT");
        }
    }
    EXPECT_TRUE(tie_search) << "the 600-object tie was never paged by id";
    EXPECT_EQ(s.vendor().faults().injected().count("invalidate_cursor"), 1u);
}

TEST(HubSpot, KnownCeilingIsNeverHit) {
    SimulatorServer s("hubspot", vendor(900, {{"companies", 50}, {"search_ceiling", 300}}));
    ConnectorHarness h("hubspot");
    h.configure(
        oauth_config(s, {{"start_date", "2020-01-01T00:00:00Z"}, {"search_result_limit", 300}}),
        oauth_secrets(), fast_host());
    ASSERT_TRUE(h.sync().status.ok());
    expect_store_matches(h, s);
    EXPECT_EQ(s.vendor().state()["counters"].value("ceiling_400", 0), 0);
    for (const auto& r : requests_to(s, "/search")) {
        json b = json::parse(r.body);
        if (b.contains("after")) {
            EXPECT_LE(std::stoi(b["after"].get<std::string>()) + b["limit"].get<int>(), 300);
        }
    }
}

// ---- Killed mid-sync ------------------------------------------------------------------------

TEST(HubSpot, KilledMidListAndMidSearchResumesWithoutLossOrRepeats) {
    SimulatorServer s("hubspot", vendor(1200, {{"companies", 200}}));
    ConnectorHarness h("hubspot");
    h.configure(oauth_config(s, {{"page_size", 20}}), oauth_secrets(), fast_host());
    const size_t before = s.http().request_count();
    ASSERT_TRUE(h.sync_killed_when([&] { return s.http().request_count() >= before + 25; }));
    const std::string at_kill = h.cursor();
    ASSERT_FALSE(at_kill.empty()) << "nothing was committed before the kill";
    const json c = json::parse(at_kill);
    ASSERT_EQ(c["objects"]["contacts"]["phase"], "list");
    const auto stored_at_kill = h.records().size();
    EXPECT_GT(stored_at_kill, 0u);

    s.http().clear_requests();
    ASSERT_TRUE(h.sync().status.ok());
    // The restart went on from the committed paging token, not from the start.
    auto lists = requests_to(s, "/crm/v3/objects/contacts");
    ASSERT_FALSE(lists.empty());
    EXPECT_EQ(sim::form_value(lists.front().query(), "after"),
              c["objects"]["contacts"]["after"].get<std::string>());
    expect_store_matches(h, s);

    // Now a kill in the search phase of a second instance reading by search.
    ConnectorHarness h2("hubspot", "src2");
    h2.configure(
        oauth_config(s, {{"start_date", "2020-01-01T00:00:00Z"}, {"search_page_size", 20}}),
        oauth_secrets(), fast_host());
    const size_t at = s.http().request_count();
    ASSERT_TRUE(h2.sync_killed_when([&] { return s.http().request_count() >= at + 30; }));
    const json c2 = json::parse(h2.cursor());
    EXPECT_EQ(c2["objects"]["contacts"]["phase"], "search");
    EXPECT_GT(c2["objects"]["contacts"]["watermark_ms"].get<int64_t>(), 1577836800000);
    ASSERT_TRUE(h2.sync().status.ok());
    expect_store_matches(h2, s);
}

// ---- Bad credentials ------------------------------------------------------------------------

TEST(HubSpot, BadPrivateAppTokenIsAnAuthErrorAfterOneRequest) {
    SimulatorServer s("hubspot", vendor(50, {{"companies", 10}}));
    ConnectorHarness h("hubspot");
    h.configure({{"base_url", s.base_url()}, {"access_token", "pat-na1-wrong"}},
                {{"access_token", "pat-na1-wrong"}}, fast_host());
    auto st = h.check();
    EXPECT_EQ(st.code, StatusCode::auth_error) << st.to_string();
    auto r = h.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
    EXPECT_NE(r.status.message.find("private app access token"), std::string::npos);
    EXPECT_NE(r.status.message.find("INVALID_AUTHENTICATION"), std::string::npos);
    EXPECT_EQ(r.status.message.find("pat-na1-wrong"), std::string::npos);
    EXPECT_EQ(s.http().request_count(), 2u);  // one for check, one for the read: no retry loop
    EXPECT_TRUE(h.records().empty());
}

TEST(HubSpot, RefusedRefreshTokenIsAnAuthErrorAfterOneRequest) {
    SimulatorServer s("hubspot", vendor(50, {{"companies", 10}}));
    ConnectorHarness h("hubspot");
    h.configure(oauth_config(s, {{"refresh_token", "revoked"}}),
                {{"client_secret", "sim-secret"}, {"refresh_token", "revoked"}}, fast_host());
    auto r = h.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
    EXPECT_NE(r.status.message.find("BAD_REFRESH_TOKEN"), std::string::npos);
    EXPECT_NE(r.status.message.find("refresh_token"), std::string::npos);
    EXPECT_EQ(s.http().request_count(), 1u);
    EXPECT_EQ(s.http().requests().front().path(), "/oauth/v1/token");
}

// ---- Rate limits ----------------------------------------------------------------------------

TEST(HubSpot, StaysWithinTheBurstAndSearchLimits) {
    // The simulator enforces 30 requests per second overall and 5 searches per second; the hub
    // applies the connector's limit (scaled down here the way the capability's 100/10 s is) and
    // the plugin paces searches at 4 per second.
    SimulatorServer s("hubspot", vendor(300, {{"companies", 30},
                                              {"burst_limit", 30},
                                              {"burst_window_ms", 1000},
                                              {"search_per_second", 5},
                                              {"token_ttl_s", 2},
                                              {"rotate_refresh_token", true}}));
    ConnectorHarness h("hubspot");
    auto host = fast_host();
    host.http.rate_limit = {25, std::chrono::milliseconds(1000)};
    h.configure(oauth_config(s, {{"start_date", "2020-01-01T00:00:00Z"},
                                 {"search_page_size", 20},
                                 {"search_requests_per_second", 4}}),
                oauth_secrets(), host);
    ASSERT_TRUE(h.sync().status.ok());
    expect_store_matches(h, s);
    const auto counters = s.vendor().state()["counters"];
    EXPECT_EQ(counters.value("rate_limited", 0), 0) << counters;
    EXPECT_GE(counters["search"].get<int>(), 17);

    // Searches were at least 250 ms apart (4 per second).
    // Proactive refresh from expires_in: the ~4 s read needed more than one token, and each
    // refresh presented the refresh token HubSpot had rotated to.
    auto tokens = requests_to(s, "/oauth/v1/token");
    ASSERT_GE(tokens.size(), 2u);
    EXPECT_EQ(sim::form_value(tokens[0].body, "refresh_token"), "sim-refresh");
    for (size_t i = 1; i < tokens.size(); ++i)
        EXPECT_EQ(sim::form_value(tokens[i].body, "refresh_token"),
                  "sim-refresh-" + std::to_string(i));
    EXPECT_EQ(counters.value("auth_401", 0), 0) << "a token was used past its expiry";
}

// ---- The wire -------------------------------------------------------------------------------

TEST(HubSpot, SendsHubSpotsWireFormat) {
    SimulatorServer s("hubspot", vendor(45, {{"companies", 12}}));
    ConnectorHarness h("hubspot");
    h.configure({{"base_url", s.base_url()},
                 {"access_token", "pat-na1-sim"},
                 {"page_size", 20},
                 {"search_page_size", 7},
                 {"index_lag_ms", 0}},
                {{"access_token", "pat-na1-sim"}}, fast_host());
    ASSERT_TRUE(h.sync().status.ok());
    expect_store_matches(h, s);

    for (const auto& r : s.http().requests()) {
        EXPECT_EQ(r.header("Authorization"), "Bearer pat-na1-sim");
        EXPECT_EQ(r.header("Accept"), "application/json");
    }
    auto lists = requests_to(s, "/crm/v3/objects/contacts");
    lists.erase(std::remove_if(lists.begin(), lists.end(),
                               [](const test::HttpRequest& r) { return r.method != "GET"; }),
                lists.end());
    ASSERT_EQ(lists.size(), 3u);  // 45 contacts, 20 a page; the last page has no paging
    std::string previous_after;
    for (size_t i = 0; i < lists.size(); ++i) {
        const auto q = lists[i].query();
        EXPECT_EQ(lists[i].path(), "/crm/v3/objects/contacts");
        EXPECT_EQ(sim::form_value(q, "limit"), "20");
        EXPECT_EQ(sim::form_value(q, "archived"), "false");
        EXPECT_EQ(sim::form_value(q, "properties"),
                  "email,hs_object_id,firstname,lastname,phone,country,lastmodifieddate");
        // The first page has no `after`; later ones carry the id HubSpot named as next.
        const auto after = sim::form_value(q, "after");
        if (i == 0) {
            EXPECT_EQ(q.find("after="), std::string_view::npos);
        } else {
            EXPECT_FALSE(after.empty());
            if (i > 1) {
                EXPECT_GT(std::stoull(after), std::stoull(previous_after));
            }
        }
        previous_after = after;
    }

    auto searches = requests_to(s, "/search");
    ASSERT_EQ(searches.size(), 2u);  // one per type after the list: nothing changed since
    for (const auto& r : searches) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.header("Content-Type"), "application/json");
        const json b = json::parse(r.body);
        const std::string stamp = r.path().find("contacts") != std::string_view::npos
                                      ? "lastmodifieddate"
                                      : "hs_lastmodifieddate";
        ASSERT_EQ(b["filterGroups"].size(), 1u);
        const auto& f = b["filterGroups"][0]["filters"];
        EXPECT_EQ(f[0],
                  (json{{"propertyName", stamp}, {"operator", "GTE"}, {"value", f[0]["value"]}}));
        EXPECT_EQ(f[1]["operator"], "LT");
        EXPECT_TRUE(f[0]["value"].is_string());  // epoch milliseconds as a string
        EXPECT_EQ(f[0]["value"].get<std::string>().find_first_not_of("0123456789"),
                  std::string::npos);
        EXPECT_EQ(b["sorts"],
                  (json::array({{{"propertyName", stamp}, {"direction", "ASCENDING"}}})));
        EXPECT_EQ(b["limit"], 7);
        EXPECT_FALSE(b.contains("after"));
        EXPECT_TRUE(b["properties"].is_array());
    }
}

TEST(HubSpot, RefreshesWithTheRealTokenRequest) {
    SimulatorServer s("hubspot", vendor(10, {{"companies", 3}}));
    ConnectorHarness h("hubspot");
    h.configure(oauth_config(s), oauth_secrets(), fast_host());
    ASSERT_TRUE(h.check().ok());
    auto tokens = requests_to(s, "/oauth/v1/token");
    ASSERT_EQ(tokens.size(), 1u);
    const auto& t = tokens[0];
    EXPECT_EQ(t.method, "POST");
    EXPECT_EQ(t.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(sim::form_value(t.body, "grant_type"), "refresh_token");
    EXPECT_EQ(sim::form_value(t.body, "client_id"), "sim-client");
    EXPECT_EQ(sim::form_value(t.body, "client_secret"), "sim-secret");
    EXPECT_EQ(sim::form_value(t.body, "refresh_token"), "sim-refresh");
    EXPECT_EQ(t.query(), "");  // credentials travel in the body, never in the URL
    auto crm = requests_to(s, "/crm/v3/objects/contacts");
    ASSERT_EQ(crm.size(), 1u);
    EXPECT_EQ(crm[0].header("Authorization"), "Bearer sim-at-1");
}

}  // namespace
}  // namespace cdphub

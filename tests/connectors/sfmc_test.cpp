// The sfmc destination plugin against the SFMC simulator, driven by the hub's delivery workers
// from a real store: a few-thousand-member segment through every fault SFMC produces, updates,
// removals, consent, refused credentials, and the exact wire format.
#include <gtest/gtest.h>

#include <set>

#include "delivery/delivery_world.hpp"
#include "http/client.hpp"
#include "simulators/simulator.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMembers = 3000;

// Profiles whose email is longer than the simulated Data Extension's key column: data errors.
bool too_long(int i) {
    return i % 500 == 7;
}
bool consents(int i) {
    return i % 10 != 3;
}
std::string email_of(int i) {
    return too_long(i) ? "a-very-long-mailbox-name-" + std::to_string(i) + "@acme.io"
                       : DeliveryWorld::email(i);
}

class SfmcTest : public ::testing::Test {
  protected:
    void SetUp() override {
        sim::VendorOptions o;
        o.seed = 11;
        o.settings = {{"client_id", "cid"},      {"client_secret", "csecret"},
                      {"account_id", "5000011"}, {"data_extension_key", "CDP_VIP"},
                      {"pending_polls", 2},      {"retry_after_s", 0},
                      {"max_key_length", 30},    {"failed_row_share", 0.2},
                      {"partial_every", 2},      {"journey_keys", {"vip-entered"}}};
        o.faults = faults_;
        server_ = std::make_unique<sim::SimulatorServer>("sfmc", o);
    }

    // kMembers profiles in segment "vip"; consent for email_marketing per consents(i).
    std::vector<store::ProfileId> members() {
        auto ids = w_.email_members(kMembers, email_of, consents, "email_marketing");
        w_.store().define_binding({"vip_to_sfmc",
                                   "vip",
                                   "sfmc-vip",
                                   {{"contact_key", "identifiers.email"},
                                    {"FirstName", "traits.first_name"},
                                    {"Tier", "traits.tier"}},
                                   "email_marketing"});
        w_.store().plan_diff("vip_to_sfmc");
        return ids;
    }

    json config(json extra = json::object()) {
        json c = {{"auth_base_url", server_->base_url()},
                  {"client_id", "cid"},
                  {"client_secret", "csecret"},
                  {"account_id", "5000011"},
                  {"data_extension_key", "CDP_VIP"},
                  {"key_column", "ContactKey"},
                  {"key_field", "contact_key"},
                  {"journey_event_key", "vip-entered"},
                  {"mode", "auto"},
                  {"async_threshold", 200},
                  {"poll_ms", 5}};
        c.update(extra);
        return c;
    }

    // Delivers until the outbox is settled (or `rounds` runs did not manage it).
    delivery::WorkerReport deliver(json cfg, int rounds = 5) {
        delivery::DeliveryOptions o;
        o.max_records = 500;
        o.max_attempts = 40;  // faults must never exhaust a valid row's budget here
        o.backoff_base = 5ms;
        o.backoff_max = 50ms;
        o.seed = 3;
        plugin_host::HostOptions h;
        h.http.backoff_base = 5ms;
        h.http.backoff_max = 50ms;
        h.http.timeout = 5000ms;
        delivery::WorkerReport last;
        for (int i = 0; i < rounds; ++i) {
            delivery::DeliveryService service(w_.delivery(), o);
            service.add(DeliveryWorld::connector(
                CDPHUB_PLUGIN_DIR, "sfmc", "sfmc-vip", cfg,
                {{"client_secret", cfg["client_secret"].get<std::string>()}}, h));
            last = service.run_until_idle(20s)["sfmc-vip"];
            if (last.pending == 0 || last.state != delivery::DestinationState::running) break;
        }
        return last;
    }

    json sim_state() {
        http::Client c;
        http::Request r;
        r.url = server_->base_url() + "/_sim/state";
        auto res = c.perform(r);
        return json::parse(res.response().body);
    }

    std::int64_t with_status(const std::string& s) {
        return w_.count("SELECT count(*) FROM activation_changes WHERE status = '" + s + "'");
    }

    sim::FaultPlan faults_{
        .seed = 5,
        .rate = 0.06,
        .kinds = {sim::Fault::expire_token, sim::Fault::throttle, sim::Fault::throttle_silent,
                  sim::Fault::server_error, sim::Fault::hang_up, sim::Fault::slow,
                  sim::Fault::partial_failure},
        .burst = 2,
        .slow_ms = 30,
        .quiet_first = 1};
    DeliveryWorld w_;
    std::unique_ptr<sim::SimulatorServer> server_;
};

TEST_F(SfmcTest, ASegmentArrivesExactlyThroughEveryFaultAndStaysInStep) {
    members();
    server_->vendor().faults().script(3, sim::Fault::expire_token);
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);

    auto st = sim_state();
    std::set<std::string> expected;
    for (int i = 0; i < kMembers; ++i)
        if (consents(i) && !too_long(i)) expected.insert(email_of(i));
    std::set<std::string> in_de;
    for (const auto& [key, row] : st["rows"].items()) {
        in_de.insert(key);
        if (!expected.count(key)) continue;
        const int i = std::stoi(key.substr(1, key.find('@') - 1));
        EXPECT_EQ(
            row,
            json({{"FirstName", "F" + std::to_string(i)}, {"Tier", "gold"}, {"InSegment", true}}))
            << key;
    }
    EXPECT_EQ(in_de, expected);  // none lost, nobody without consent, no invalid row
    // One journey entry per member, never two.
    EXPECT_EQ(st["journeys"].size(), expected.size());
    for (const auto& [contact, n] : st["journeys"].items()) EXPECT_EQ(n, 1) << contact;
    // The overlong keys are data errors, kept with SFMC's answer; nothing was dead-lettered.
    EXPECT_EQ(with_status("rejected"), 6);
    EXPECT_EQ(w_.count("SELECT count(*) FROM activation_changes WHERE status = 'rejected' AND "
                       "last_error LIKE '%exceeds the column length%'"),
              with_status("rejected"));
    EXPECT_EQ(with_status("dead"), 0);
    EXPECT_EQ(with_status("delivered"), static_cast<std::int64_t>(expected.size()));
    // Every fault kind happened, and tokens were reused, not fetched per call.
    auto injected = server_->vendor().faults().injected();
    for (auto k : {"expire_token", "throttle", "throttle_silent", "server_error", "hang_up",
                   "partial_failure"})
        EXPECT_GT(injected[k], 0u) << k;
    EXPECT_GT(st["async_requests"].get<int>(), 0);
    EXPECT_GT(st["partial_jobs"].get<int>(), 0);  // rows failed asynchronously, then made it
    EXPECT_GT(st["rowset_requests"].get<int>(), 0);
    EXPECT_LT(st["tokens_issued"].get<int>(), injected["expire_token"] + 10);

    // Updates go through the synchronous rowset (small diff) and inject no journey entry.
    json renamed = json::array();
    for (int i = 0; i < 60; ++i)
        renamed.push_back({{"type", "identify"},
                           {"record_id", "rename" + std::to_string(i)},
                           {"occurred_at", "2024-06-01T10:00:00Z"},
                           {"identifiers", {{"email", email_of(i)}}},
                           {"traits", {{"first_name", "New" + std::to_string(i)}}}});
    w_.ingest(renamed);
    auto d = w_.store().plan_diff("vip_to_sfmc");
    EXPECT_GT(d.changed, 40);
    const auto rowsets_before = sim_state()["rowset_requests"].get<int>();
    EXPECT_EQ(deliver(config()).pending, 0);
    st = sim_state();
    EXPECT_GT(st["rowset_requests"].get<int>(), rowsets_before);
    EXPECT_EQ(st["rows"]["p1@acme.io"]["FirstName"], "New1");
    for (const auto& [contact, n] : st["journeys"].items()) EXPECT_EQ(n, 1) << contact;
}

TEST_F(SfmcTest, LeavingTheSegmentOrWithdrawingConsentClearsTheMembershipFlag) {
    auto ids = members();
    ASSERT_EQ(deliver(config()).pending, 0);
    std::vector<store::ProfileId> leaving(ids.begin(), ids.begin() + 20);
    w_.members("vip", leaving, false);
    w_.ingest(json::array({{{"type", "consent"},
                            {"record_id", "withdraw-100"},
                            {"occurred_at", "2024-06-01T10:00:00Z"},
                            {"identifiers", {{"email", email_of(100)}}},
                            {"consent", {{"purpose", "email_marketing"}, {"granted", false}}}}}));
    auto d = w_.store().plan_diff("vip_to_sfmc");
    EXPECT_EQ(d.exited, 20 - 2 + 1);  // p3 and p13 never consented, so never went out
    ASSERT_EQ(deliver(config()).pending, 0);
    auto st = sim_state();
    for (int i = 0; i < 20; ++i) {
        if (consents(i) && !too_long(i)) {
            EXPECT_EQ(st["rows"][email_of(i)]["InSegment"], false) << i;
        }
    }
    EXPECT_EQ(st["rows"][email_of(100)]["InSegment"], false);
    EXPECT_EQ(st["rows"][email_of(21)]["InSegment"], true);
    for (const auto& [contact, n] : st["journeys"].items()) EXPECT_EQ(n, 1) << contact;
}

TEST_F(SfmcTest, RefusedCredentialsStopTheDestinationAtOnce) {
    members();
    auto cfg = config({{"client_secret", "wrong"}});
    auto r = deliver(cfg);
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("SFMC refused the client credentials"), std::string::npos)
        << r.last_error;
    EXPECT_EQ(r.last_error.find("wrong"), std::string::npos);  // the secret never shows
    EXPECT_LE(server_->http().request_count(), 3u);            // no retry loop
    EXPECT_EQ(with_status("pending"), w_.count("SELECT count(*) FROM activation_changes"));
    EXPECT_EQ(w_.delivery().destination_status("sfmc-vip").state,
              delivery::DestinationState::auth_failed);
}

TEST_F(SfmcTest, RequestsUseSfmcsWireFormat) {
    w_.people(0, 3, [](int i) {
        return json{{"tier", "gold"}, {"first_name", "F" + std::to_string(i)}};
    });
    w_.segment("vip");
    std::vector<store::ProfileId> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(*w_.store().find_profile("email", DeliveryWorld::email(i)));
    w_.members("vip", ids);
    w_.store().define_binding(
        {"vip_to_sfmc",
         "vip",
         "sfmc-vip",
         {{"contact_key", "identifiers.email"}, {"FirstName", "traits.first_name"}},
         std::nullopt});
    w_.store().plan_diff("vip_to_sfmc");
    // This test wants a vendor without faults.
    sim::VendorOptions quiet;
    quiet.settings = {{"client_id", "cid"},
                      {"client_secret", "csecret"},
                      {"data_extension_key", "CDP_VIP"},
                      {"journey_keys", {"vip-entered"}}};
    server_ = std::make_unique<sim::SimulatorServer>("sfmc", quiet);
    ASSERT_EQ(deliver(config({{"mode", "sync"}})).pending, 0);
    w_.members("vip", {ids[0]}, false);
    w_.store().plan_diff("vip_to_sfmc");
    ASSERT_EQ(deliver(config({{"mode", "async"}})).pending, 0);

    auto reqs = server_->http().requests();
    ASSERT_GE(reqs.size(), 6u);
    // The token: JSON client credentials with the MID, once for the run.
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].target, "/v2/token");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
    EXPECT_EQ(json::parse(reqs[0].body), json({{"grant_type", "client_credentials"},
                                               {"client_id", "cid"},
                                               {"client_secret", "csecret"},
                                               {"account_id", "5000011"}}));
    // The rowset: keys + values, bearer token from the token answer.
    EXPECT_EQ(reqs[1].method, "POST");
    EXPECT_EQ(reqs[1].target, "/hub/v1/dataevents/key:CDP_VIP/rowset");
    EXPECT_EQ(reqs[1].header("Authorization"), "Bearer sim-token-1");
    EXPECT_EQ(reqs[1].header("Content-Type"), "application/json");
    auto rows = json::parse(reqs[1].body);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], json({{"keys", {{"ContactKey", "p0@acme.io"}}},
                             {"values", {{"FirstName", "F0"}, {"InSegment", true}}}}));
    // Journey entries: one per entered profile, ContactKey + EventDefinitionKey + Data.
    std::vector<json> events;
    for (const auto& r : reqs)
        if (r.target == "/interaction/v1/events") events.push_back(json::parse(r.body));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0], json({{"ContactKey", "p0@acme.io"},
                               {"EventDefinitionKey", "vip-entered"},
                               {"Data", {{"FirstName", "F0"}}}}));
    // The removal, asynchronously: PUT items, poll status, no results needed without errors.
    std::vector<std::string> async;
    for (const auto& r : reqs)
        if (r.target.rfind("/data/v1/async/", 0) == 0) async.push_back(r.method + " " + r.target);
    ASSERT_GE(async.size(), 3u);
    EXPECT_EQ(async[0], "PUT /data/v1/async/dataextensions/key:CDP_VIP/rows");
    EXPECT_NE(async[1].find("/status"), std::string::npos);
    for (const auto& r : reqs) {
        if (r.method == "PUT") {
            EXPECT_EQ(json::parse(r.body),
                      json({{"items", {{{"ContactKey", "p0@acme.io"}, {"InSegment", false}}}}}));
        }
    }
    EXPECT_EQ(sim_state()["tokens_issued"], 2);  // one per run (two runs)
}

}  // namespace
}  // namespace cdphub::test

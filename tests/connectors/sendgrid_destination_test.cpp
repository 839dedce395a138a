// The sendgrid plugin's destination role against the SendGrid Marketing Contacts simulator,
// driven by the hub's delivery workers from a real store: a segment of ~1200 profiles through
// every fault (429 with X-RateLimit-Reset and bare, 5xx bursts, hang-ups, imports that stay
// pending and then settle partly errored, 413 over the size limit), list removals by search and
// DELETE, refused keys, and the exact wire format.
#include <gtest/gtest.h>

#include <set>

#include "delivery/delivery_world.hpp"
#include "http/client.hpp"
#include "simulators/simulator.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMembers = 1200;

// Addresses SendGrid refuses inside the import job: data errors.
bool invalid(int i) {
    return i % 300 == 11;
}
bool consents(int i) {
    return i % 10 != 3;
}
std::string email_of(int i) {
    return invalid(i) ? "p" + std::to_string(i) + "@invalid.test" : DeliveryWorld::email(i);
}

class SendGridDestinationTest : public ::testing::Test {
  protected:
    void SetUp() override { server_ = make_server(faults_); }

    std::unique_ptr<sim::SimulatorServer> make_server(sim::FaultPlan plan) {
        sim::VendorOptions o;
        o.seed = 9;
        o.settings = {{"api_key", "SG.test-key"},  {"lists", {"list-vip", "list-other"}},
                      {"custom_fields", {"e1_T"}}, {"max_bytes", 20000},
                      {"pending_polls", 2},        {"failed_share", 0.3},
                      {"reset_after_s", 0}};
        o.faults = plan;
        return std::make_unique<sim::SimulatorServer>("sendgrid", o);
    }

    std::vector<store::ProfileId> members() {
        auto ids = w_.email_members(kMembers, email_of, consents, "email_marketing");
        w_.store().define_binding({"vip_to_sendgrid",
                                   "vip",
                                   "sendgrid-vip",
                                   {{"email", "identifiers.email"},
                                    {"first_name", "traits.first_name"},
                                    {"tier", "traits.tier"}},
                                   "email_marketing"});
        w_.store().plan_diff("vip_to_sendgrid");
        return ids;
    }

    json config(json extra = json::object()) {
        json c = {{"api_key", "SG.test-key"},
                  {"base_url", server_->base_url()},
                  {"list_ids", {"list-vip"}},
                  {"fields", {{"first_name", "first_name"}}},
                  {"custom_fields", {{"e1_T", "tier"}}},
                  {"poll_ms", 5},
                  {"retry_backoff_ms", 5},
                  {"max_attempts", 10}};
        c.update(extra);
        return c;
    }

    delivery::WorkerReport deliver(json cfg, int rounds = 5) {
        delivery::DeliveryOptions o;
        o.max_records = 500;
        o.max_attempts = 40;
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
            service.add(DeliveryWorld::connector(CDPHUB_PLUGIN_DIR, "sendgrid", "sendgrid-vip", cfg,
                                                 {{"api_key", cfg["api_key"].get<std::string>()}},
                                                 h));
            last = service.run_until_idle(30s)["sendgrid-vip"];
            if (last.pending == 0 || last.state != delivery::DestinationState::running) break;
        }
        return last;
    }

    json sim_state() {
        http::Client c;
        http::Request r;
        r.url = server_->base_url() + "/_sim/state";
        return json::parse(c.perform(r).response().body);
    }
    static bool in_list(const json& contact, const std::string& list) {
        for (const auto& l : contact["list_ids"])
            if (l == list) return true;
        return false;
    }
    std::int64_t with_status(const std::string& s) {
        return w_.count("SELECT count(*) FROM activation_changes WHERE status = '" + s + "'");
    }

    sim::FaultPlan faults_{
        .seed = 5,
        .rate = 0.15,
        .kinds = {sim::Fault::throttle, sim::Fault::throttle_silent, sim::Fault::server_error,
                  sim::Fault::hang_up, sim::Fault::slow, sim::Fault::partial_failure},
        .burst = 2,
        .slow_ms = 20,
        .quiet_first = 1};
    DeliveryWorld w_;
    std::unique_ptr<sim::SimulatorServer> server_;
};

TEST_F(SendGridDestinationTest, ASegmentArrivesExactlyThroughEveryFaultAndLeavesTheList) {
    auto ids = members();
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);

    auto st = sim_state();
    std::set<std::string> expected;
    for (int i = 0; i < kMembers; ++i)
        if (consents(i) && !invalid(i)) expected.insert(email_of(i));
    std::set<std::string> held, listed;
    for (const auto& [email, c] : st["contacts"].items()) {
        held.insert(email);
        if (in_list(c, "list-vip")) listed.insert(email);
        if (!expected.count(email)) continue;
        const int i = std::stoi(email.substr(1, email.find('@') - 1));
        EXPECT_EQ(c["first_name"], "F" + std::to_string(i)) << email;
        EXPECT_EQ(c["custom_fields"], json({{"e1_T", "gold"}})) << email;
        EXPECT_EQ(c["list_ids"], json::array({"list-vip"})) << email;
    }
    EXPECT_EQ(held, expected);  // nobody without consent, none lost
    EXPECT_EQ(listed, expected);
    // Refused addresses are data errors with SendGrid's message; nothing went dead.
    EXPECT_EQ(with_status("rejected"), 4);
    EXPECT_EQ(w_.count("SELECT count(*) FROM activation_changes WHERE status = 'rejected' AND "
                       "last_error LIKE '%email address is invalid%'"),
              4);
    EXPECT_EQ(with_status("dead"), 0);
    EXPECT_EQ(with_status("delivered"), static_cast<std::int64_t>(expected.size()));
    // Each contact was upserted by exactly one import: a failed poll never resends the job.
    for (const auto& [email, n] : st["applied"].items()) EXPECT_EQ(n, 1) << email;
    auto injected = server_->vendor().faults().injected();
    for (auto k : {"throttle", "throttle_silent", "server_error", "hang_up", "partial_failure"})
        EXPECT_GT(injected[k], 0u) << k;
    EXPECT_GT(st["partial_jobs"].get<int>(), 0);
    EXPECT_GT(st["too_large"].get<int>(), 0);  // 413, then halved

    // 50 leave the segment and one withdraws consent: off the list, still contacts.
    std::vector<store::ProfileId> leaving(ids.begin(), ids.begin() + 50);
    w_.members("vip", leaving, false);
    w_.consent(200, "email_marketing", false, "2024-06-01T10:00:00Z");
    w_.store().plan_diff("vip_to_sendgrid");
    r = deliver(config());
    ASSERT_EQ(r.pending, 0) << r.last_error;
    st = sim_state();
    for (int i = 0; i < 60; ++i) {
        if (!consents(i) || invalid(i)) continue;
        ASSERT_TRUE(st["contacts"].contains(email_of(i))) << i;
        EXPECT_EQ(in_list(st["contacts"][email_of(i)], "list-vip"), i >= 50) << i;
    }
    EXPECT_FALSE(in_list(st["contacts"][email_of(200)], "list-vip"));
    EXPECT_TRUE(in_list(st["contacts"][email_of(201)], "list-vip"));
    EXPECT_GT(st["list_removals"].get<int>(), 0);
}

TEST_F(SendGridDestinationTest, RequestsUseSendGridsWireFormat) {
    server_ = make_server({});
    w_.people(0, 2, [](int i) {
        return json{{"tier", "gold"}, {"first_name", "A" + std::to_string(i)}};
    });
    w_.segment("vip");
    std::vector<store::ProfileId> ids;
    for (int i = 0; i < 2; ++i)
        ids.push_back(*w_.store().find_profile("email", DeliveryWorld::email(i)));
    w_.members("vip", ids);
    w_.store().define_binding({"vip_to_sendgrid",
                               "vip",
                               "sendgrid-vip",
                               {{"email", "identifiers.email"},
                                {"first_name", "traits.first_name"},
                                {"tier", "traits.tier"}},
                               std::nullopt});
    w_.store().plan_diff("vip_to_sendgrid");
    ASSERT_EQ(deliver(config()).pending, 0);
    w_.members("vip", {ids[0]}, false);
    w_.store().plan_diff("vip_to_sendgrid");
    ASSERT_EQ(deliver(config()).pending, 0);

    auto reqs = server_->http().requests();
    std::vector<std::string> lines;
    for (const auto& q : reqs) lines.push_back(q.method + " " + q.target);
    ASSERT_GE(reqs.size(), 5u);
    EXPECT_EQ(lines[0], "PUT /v3/marketing/contacts");
    EXPECT_EQ(reqs[0].header("Authorization"), "Bearer SG.test-key");
    EXPECT_EQ(json::parse(reqs[0].body), json({{"list_ids", {"list-vip"}},
                                               {"contacts",
                                                {{{"email", "p0@acme.io"},
                                                  {"first_name", "A0"},
                                                  {"custom_fields", {{"e1_T", "gold"}}}},
                                                 {{"email", "p1@acme.io"},
                                                  {"first_name", "A1"},
                                                  {"custom_fields", {{"e1_T", "gold"}}}}}}}));
    EXPECT_EQ(lines[1], "GET /v3/marketing/contacts/imports/job-1");
    auto search =
        std::find(lines.begin(), lines.end(), "POST /v3/marketing/contacts/search/emails");
    ASSERT_NE(search, lines.end());
    const auto k = static_cast<std::size_t>(search - lines.begin());
    EXPECT_EQ(json::parse(reqs[k].body), json({{"emails", {"p0@acme.io"}}}));
    ASSERT_LT(k + 1, lines.size());
    EXPECT_EQ(lines[k + 1], "DELETE /v3/marketing/lists/list-vip/contacts?contact_ids=c-1");
    auto st = sim_state();
    EXPECT_EQ(st["contacts"]["p0@acme.io"]["list_ids"], json::array());
    EXPECT_EQ(st["contacts"]["p1@acme.io"]["list_ids"], json::array({"list-vip"}));
}

TEST_F(SendGridDestinationTest, ARefusedKeyStopsTheDestinationAtOnce) {
    members();
    auto r = deliver(config({{"api_key", "SG.wrong-key"}}));
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("401"), std::string::npos) << r.last_error;
    EXPECT_EQ(r.last_error.find("wrong-key"), std::string::npos);
    EXPECT_LE(server_->http().request_count(), 3u);
    EXPECT_EQ(with_status("pending"), w_.count("SELECT count(*) FROM activation_changes"));
}

TEST_F(SendGridDestinationTest, AnUnknownCustomFieldIsAConfigurationError) {
    server_ = make_server({});
    members();
    auto r = deliver(config({{"custom_fields", {{"e9_N", "tier"}}}}));
    EXPECT_EQ(r.state, delivery::DestinationState::config_failed);
    EXPECT_NE(r.last_error.find("custom field e9_N does not exist"), std::string::npos)
        << r.last_error;
    EXPECT_EQ(with_status("rejected"), 0);  // not the contacts' fault
    EXPECT_EQ(sim_state()["contacts"].size(), 0u);
}

}  // namespace
}  // namespace cdphub::test

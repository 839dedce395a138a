// The mailchimp plugin's destination role against the Mailchimp simulator, driven by the hub's
// delivery workers from a real store: a segment of ~1200 profiles through every fault Mailchimp
// produces (429 with and without Retry-After, bare 403s, 5xx bursts, hang-ups, batches that
// settle partly failed, 413 on an oversized batch), then removals by tag and by archive, refused
// credentials, and the exact wire format of the direct calls.
#include <gtest/gtest.h>

#include <set>

#include "delivery/delivery_world.hpp"
#include "http/client.hpp"
#include "simulators/simulator.hpp"
#include "simulators/vendors/mailchimp.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMembers = 1200;
constexpr const char* kKey = "0123456789abcdef0123456789abcdef-us21";

// Addresses Mailchimp refuses as fake: data errors, rejected with its answer.
bool fake(int i) {
    return i % 300 == 7;
}
bool consents(int i) {
    return i % 10 != 3;
}
std::string email_of(int i) {
    return fake(i) ? "p" + std::to_string(i) + "@fake.test" : DeliveryWorld::email(i);
}
std::string hash_of(const std::string& email) {
    return sim::MailchimpVendor::subscriber_hash(email);
}
std::string base64(const std::string& in) {
    static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const auto n = in.size() - i;
        std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
        if (n > 1) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
        out += t[(v >> 18) & 63];
        out += t[(v >> 12) & 63];
        out += n > 1 ? t[(v >> 6) & 63] : '=';
        out += n > 2 ? t[v & 63] : '=';
    }
    return out;
}

class MailchimpDestinationTest : public ::testing::Test {
  protected:
    void SetUp() override { server_ = make_server(faults_); }

    std::unique_ptr<sim::SimulatorServer> make_server(sim::FaultPlan plan,
                                                      json settings = json::object()) {
        sim::VendorOptions o;
        o.seed = 7;
        o.records = 0;  // an empty audience: what it holds afterwards is what the hub sent
        o.settings = {{"api_key", kKey},      {"list_id", "a1b2c3d4e5"},
                      {"polls_per_state", 1}, {"max_batch_bytes", 30000},
                      {"bare_403_every", 3},  {"failed_op_share", 0.3},
                      {"partial_every", 4}};
        o.settings.update(settings);
        o.faults = plan;
        return std::make_unique<sim::SimulatorServer>("mailchimp", o);
    }

    std::vector<store::ProfileId> members() {
        auto ids = w_.email_members(kMembers, email_of, consents, "email_marketing");
        w_.store().define_binding({"vip_to_mailchimp",
                                   "vip",
                                   "mailchimp-vip",
                                   {{"email", "identifiers.email"},
                                    {"first_name", "traits.first_name"},
                                    {"tier", "traits.tier"}},
                                   "email_marketing"});
        w_.store().plan_diff("vip_to_mailchimp");
        return ids;
    }

    json config(json extra = json::object()) {
        json c = {{"api_key", kKey},
                  {"base_url", server_->base_url()},
                  {"list_id", "a1b2c3d4e5"},
                  {"merge_fields", {{"FNAME", "first_name"}, {"TIER", "tier"}}},
                  {"batch_threshold", 20},
                  {"batch_max_operations", 200},
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
            service.add(
                DeliveryWorld::connector(CDPHUB_PLUGIN_DIR, "mailchimp", "mailchimp-vip", cfg,
                                         {{"api_key", cfg["api_key"].get<std::string>()}}, h));
            last = service.run_until_idle(30s)["mailchimp-vip"];
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
    // email -> member, for members that are not archived.
    static std::map<std::string, json> by_email(const json& st) {
        std::map<std::string, json> out;
        for (const auto& m : st["members"]) out[m["email_address"].get<std::string>()] = m;
        return out;
    }
    static bool tagged(const json& m, const std::string& tag) {
        for (const auto& t : m["tags"])
            if (t == tag) return true;
        return false;
    }
    std::int64_t with_status(const std::string& s) {
        return w_.count("SELECT count(*) FROM activation_changes WHERE status = '" + s + "'");
    }

    sim::FaultPlan faults_{
        .seed = 5,
        .rate = 0.06,
        .kinds = {sim::Fault::throttle, sim::Fault::throttle_silent, sim::Fault::server_error,
                  sim::Fault::hang_up, sim::Fault::slow, sim::Fault::partial_failure},
        .burst = 2,
        .slow_ms = 20,
        .quiet_first = 1};
    DeliveryWorld w_;
    std::unique_ptr<sim::SimulatorServer> server_;
};

TEST_F(MailchimpDestinationTest, ASegmentArrivesExactlyThroughEveryFaultAndLeavesByTag) {
    auto ids = members();
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);

    auto st = sim_state();
    std::set<std::string> expected;
    for (int i = 0; i < kMembers; ++i)
        if (consents(i) && !fake(i)) expected.insert(email_of(i));
    std::set<std::string> held, tagged_vip;
    for (const auto& [email, m] : by_email(st)) {
        held.insert(email);
        if (tagged(m, "vip")) tagged_vip.insert(email);
        if (!expected.count(email)) continue;
        const int i = std::stoi(email.substr(1, email.find('@') - 1));
        EXPECT_EQ(m["merge_fields"], json({{"FNAME", "F" + std::to_string(i)}, {"TIER", "gold"}}))
            << email;
        EXPECT_EQ(m["status"], "subscribed") << email;
        EXPECT_EQ(m["tags"], json::array({"vip"})) << email;
    }
    EXPECT_EQ(held, expected);  // nobody without consent, no fake address, none lost
    EXPECT_EQ(tagged_vip, expected);
    // The fake addresses are data errors with Mailchimp's answer; nothing went dead.
    EXPECT_EQ(with_status("rejected"), 4);
    EXPECT_EQ(w_.count("SELECT count(*) FROM activation_changes WHERE status = 'rejected' AND "
                       "last_error LIKE '%looks fake or invalid%'"),
              4);
    EXPECT_EQ(with_status("dead"), 0);
    EXPECT_EQ(with_status("delivered"), static_cast<std::int64_t>(expected.size()));
    // Nothing created twice: no add-member POSTs, every member created once, and every
    // operation in exactly one batch (a failed poll must not resubmit the batch).
    EXPECT_EQ(st["member_exists"], 0);
    for (const auto& [email, n] : st["creates"].items()) EXPECT_EQ(n, 1) << email;
    for (const auto& [op, n] : st["batch_submissions"].items()) EXPECT_EQ(n, 1) << op;
    // Every fault happened: batches partly failed, an oversized batch got 413 and was halved.
    auto injected = server_->vendor().faults().injected();
    for (auto k : {"throttle", "throttle_silent", "server_error", "hang_up"})
        EXPECT_GT(injected[k], 0u) << k;
    EXPECT_GT(st["partial_batches"].get<int>(), 3);  // scheduled, and every 4th batch
    EXPECT_GT(st["too_large"].get<int>(), 0);
    EXPECT_GT(st["batches"].get<int>(), 4);

    // 50 leave the segment, one more withdraws consent: their tag goes inactive, they stay
    // audience members (Mailchimp keeps its own subscription state).
    std::vector<store::ProfileId> leaving(ids.begin(), ids.begin() + 50);
    w_.members("vip", leaving, false);
    w_.consent(200, "email_marketing", false, "2024-06-01T10:00:00Z");
    auto d = w_.store().plan_diff("vip_to_mailchimp");
    EXPECT_EQ(d.exited, 50 - 5 + 1);  // p3, p13, ... never consented, so never went out
    r = deliver(config());
    ASSERT_EQ(r.pending, 0) << r.last_error;
    st = sim_state();
    auto now = by_email(st);
    for (int i = 0; i < 60; ++i) {
        if (!consents(i) || fake(i)) continue;
        ASSERT_TRUE(now.count(email_of(i))) << i;
        EXPECT_EQ(tagged(now[email_of(i)], "vip"), i >= 50) << i;
        EXPECT_EQ(now[email_of(i)]["status"], "subscribed") << i;
    }
    EXPECT_FALSE(tagged(now[email_of(200)], "vip"));
    EXPECT_TRUE(tagged(now[email_of(201)], "vip"));
    for (const auto& [op, n] : st["batch_submissions"].items()) EXPECT_EQ(n, 1) << op;
}

TEST_F(MailchimpDestinationTest, RemovalByArchiveArchivesTheMember) {
    server_ = make_server({});
    auto ids = members();
    ASSERT_EQ(deliver(config({{"removal", "archive"}})).pending, 0);
    w_.members("vip", {ids[0], ids[1], ids[2]}, false);
    w_.store().plan_diff("vip_to_mailchimp");
    ASSERT_EQ(deliver(config({{"removal", "archive"}})).pending, 0);
    auto now = by_email(sim_state());
    EXPECT_EQ(now[email_of(0)]["status"], "archived");
    EXPECT_EQ(now[email_of(1)]["status"], "archived");
    EXPECT_EQ(now.count(email_of(3)), 0u);  // never consented, never sent
    EXPECT_EQ(now[email_of(4)]["status"], "subscribed");
}

TEST_F(MailchimpDestinationTest, UnsubscribedMembersAreNeverResubscribed) {
    server_ = make_server({});
    w_.people(0, 3, [](int i) {
        return json{{"tier", "gold"}, {"first_name", "A" + std::to_string(i)}};
    });
    w_.segment("vip");
    std::vector<store::ProfileId> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(*w_.store().find_profile("email", DeliveryWorld::email(i)));
    w_.members("vip", ids);
    w_.store().define_binding(
        {"vip_to_mailchimp",
         "vip",
         "mailchimp-vip",
         {{"email", "identifiers.email"}, {"first_name", "traits.first_name"}},
         std::nullopt});
    // p1 unsubscribed in Mailchimp itself before the hub ever wrote.
    http::Client c;
    http::Request put;
    put.method = "PUT";
    put.url =
        server_->base_url() + "/3.0/lists/a1b2c3d4e5/members/" + hash_of(DeliveryWorld::email(1));
    put.headers = {{"Authorization", "Basic " + base64(std::string("any:") + kKey)}};
    put.body = json{{"email_address", DeliveryWorld::email(1)}, {"status", "unsubscribed"}}.dump();
    ASSERT_EQ(c.perform(put).response().status, 200);
    w_.store().plan_diff("vip_to_mailchimp");
    ASSERT_EQ(deliver(config()).pending, 0);

    auto now = by_email(sim_state());
    EXPECT_EQ(now[DeliveryWorld::email(1)]["status"], "unsubscribed");
    EXPECT_EQ(now[DeliveryWorld::email(1)]["merge_fields"]["FNAME"], "A1");
    EXPECT_EQ(now[DeliveryWorld::email(0)]["status"], "subscribed");

    // The wire format of the direct calls: PUT by subscriber hash, then the tag.
    const auto reqs = server_->http().requests();
    const auto p0 = "/3.0/lists/a1b2c3d4e5/members/" + hash_of(DeliveryWorld::email(0));
    auto put0 = std::find_if(reqs.begin(), reqs.end(),
                             [&](const auto& q) { return q.method == "PUT" && q.target == p0; });
    ASSERT_NE(put0, reqs.end());
    ASSERT_NE(put0 + 1, reqs.end());
    EXPECT_EQ(put0->header("Authorization").substr(0, 6), "Basic ");
    EXPECT_EQ(json::parse(put0->body), json({{"email_address", "p0@acme.io"},
                                             {"status_if_new", "subscribed"},
                                             {"merge_fields", {{"FNAME", "A0"}}}}));
    EXPECT_EQ((put0 + 1)->method, "POST");
    EXPECT_EQ((put0 + 1)->target, p0 + "/tags");
    EXPECT_EQ(json::parse((put0 + 1)->body),
              json({{"tags", {{{"name", "vip"}, {"status", "active"}}}}}));
}

TEST_F(MailchimpDestinationTest, ARefusedKeyStopsTheDestinationAtOnce) {
    members();
    auto r = deliver(config({{"api_key", "ffffffffffffffffffffffffffffffff-us21"}}));
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("401"), std::string::npos) << r.last_error;
    EXPECT_EQ(r.last_error.find("ffffffff"), std::string::npos);  // the key never shows
    EXPECT_LE(server_->http().request_count(), 3u);
    EXPECT_EQ(with_status("pending"), w_.count("SELECT count(*) FROM activation_changes"));
}

}  // namespace
}  // namespace cdphub::test

// The meta-audiences destination against the Meta simulator, driven by the hub's delivery workers
// from a real store: a segment through every fault Meta produces (throttles without Retry-After,
// 5xx bursts, hang-ups, rows counted invalid), upload sessions, removals, consent, an expired
// token, oversized calls, and Meta's normalisation checked against known SHA-256 values.
#include <gtest/gtest.h>

#include "../../plugins/meta-audiences/normalize.hpp"
#include "audience_world.hpp"

namespace cdphub::test {
namespace {

constexpr const char* kAudience = "23850000000000001";

bool consents(int i) {
    return i % 10 != 3;
}

class MetaAudiencesTest : public ::testing::Test {
  protected:
    void start(json settings = json::object(), sim::FaultPlan faults = {}) {
        sim::VendorOptions o;
        o.seed = 17;
        o.settings = {{"access_tokens", {"tok-1", "tok-2"}}, {"audience_id", kAudience}};
        if (settings.is_object()) o.settings.update(settings);
        o.faults = std::move(faults);
        server_ = std::make_unique<sim::SimulatorServer>("meta", o);
    }

    json config(json extra = json::object()) {
        json c = {{"base_url", server_->base_url()}, {"api_version", "v25.0"},
                  {"audience_id", kAudience},        {"access_token", "tok-1"},
                  {"schema", {"EMAIL", "PHONE"}},    {"max_users_per_request", 100}};
        c.update(extra);
        return c;
    }

    void populate(int n, const std::function<bool(int)>& c = consents) {
        a_.populate(n, c, "vip_to_meta", "meta-vip",
                    {{"email", "identifiers.email"}, {"phone", "identifiers.phone"}});
    }

    delivery::WorkerReport deliver(const json& cfg) {
        return a_.deliver("meta-audiences", "meta-vip", cfg, "access_token");
    }

    // The EMAIL hashes the simulated audience holds.
    std::set<std::string> emails() {
        std::set<std::string> out;
        const auto st = sim_state(*server_);
        for (const auto& h : st["emails"]) out.insert(h.get<std::string>());
        return out;
    }

    static std::set<std::string> hashed_emails(int n, const std::function<bool(int)>& in) {
        std::set<std::string> out;
        for (int i = 0; i < n; ++i)
            if (in(i)) out.insert(sha256(AudienceWorld::email(i)));
        return out;
    }

    AudienceWorld a_;
    std::unique_ptr<sim::SimulatorServer> server_;
};

// Meta's rules key by key, on values the hub's cleansing would not produce itself.
TEST(MetaNormalisation, EachKeyFollowsMetasRule) {
    using meta::normalize;
    EXPECT_EQ(normalize("EMAIL", " \tAnn@Acme.IO.\n"), "ann@acme.io");  // Meta strips dots too
    EXPECT_EQ(normalize("EMAIL", "no-at-sign"), std::nullopt);
    // Digits only: a trunk "0" after the country code stays (the hub's E.164 cleansing drops it).
    EXPECT_EQ(normalize("PHONE", "+49 (0151) 2345-6789"), "49015123456789");
    EXPECT_EQ(normalize("PHONE", "0049 151 23456789"), "4915123456789");  // leading zeros go
    EXPECT_EQ(normalize("PHONE", "n/a"), std::nullopt);
    EXPECT_EQ(normalize("FN", " Mary-Ann O'Neil "), "maryannoneil");
    EXPECT_EQ(normalize("ZIP", "94107-1234"), "94107");
    EXPECT_EQ(normalize("ZIP", "SW1A 1AA"), "sw1a1aa");
    EXPECT_EQ(normalize("COUNTRY", "US"), "us");
    EXPECT_EQ(normalize("COUNTRY", "Germany"), std::nullopt);  // ISO-2 only
    EXPECT_EQ(normalize("GEN", "Female"), "f");
    EXPECT_EQ(normalize("GEN", "x"), std::nullopt);
    EXPECT_EQ(normalize("DOBY", "1984-05-01"), "1984");
    // A digest passes through, lower-cased; anything else is hashed after normalising.
    const std::string h = "12A36B62183CE6B3C607084933D837F923687BAFB41EC511B3BEB8F9A988247E";
    EXPECT_EQ(meta::hashed("EMAIL", h),
              "12a36b62183ce6b3c607084933d837f923687bafb41ec511b3beb8f9a988247e");
    EXPECT_EQ(meta::hashed("EMAIL", " P0@ACME.IO "),
              "12a36b62183ce6b3c607084933d837f923687bafb41ec511b3beb8f9a988247e");
}

TEST_F(MetaAudiencesTest, TheAudienceHoldsExactlyTheConsentingMembersThroughEveryFault) {
    constexpr int n = 1200;
    json known = {{"EMAIL", json::array()}, {"PHONE", json::array()}};
    for (int i = 0; i < 50; ++i) known["EMAIL"].push_back(AudienceWorld::email(i));
    for (int i = 50; i < 100; ++i) known["PHONE"].push_back(AudienceWorld::phone_digits(i));
    start({{"known_users", known}, {"invalid_share", 0.3}},
          {.seed = 5,
           .rate = 0.08,
           .kinds = {sim::Fault::throttle, sim::Fault::throttle_silent, sim::Fault::server_error,
                     sim::Fault::hang_up, sim::Fault::slow, sim::Fault::partial_failure},
           .burst = 2,
           .slow_ms = 20});
    // Every kind at least once, besides the random draws.
    auto& f = server_->vendor().faults();
    f.script(3, sim::Fault::throttle);
    f.script(6, sim::Fault::throttle_silent);
    f.script(9, sim::Fault::server_error);
    f.script(14, sim::Fault::hang_up);
    f.script(17, sim::Fault::partial_failure);
    populate(n);
    auto r = deliver(config({{"max_users_per_request", 25}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);
    // Exactly the consenting members, as SHA-256 of their email; every phone hashed too.
    EXPECT_EQ(emails(), hashed_emails(n, consents));
    auto st = sim_state(*server_);
    EXPECT_EQ(st["members"].size(), hashed_emails(n, consents).size());
    for (const auto& m : st["members"]) EXPECT_EQ(m.size(), 2u) << m.dump();
    // Matching proves the normalisation: known emails and phones (digits with country code, no
    // '+') of consenting people match.
    int expect_matched = 0;
    for (int i = 0; i < 100; ++i) expect_matched += consents(i) ? 1 : 0;
    EXPECT_EQ(st["matched"], expect_matched);
    EXPECT_EQ(a_.with_status("delivered"), static_cast<std::int64_t>(emails().size()));
    EXPECT_EQ(a_.with_status("rejected"), 0);
    EXPECT_EQ(a_.with_status("dead"), 0);
    // A hub batch of 500 is 20 calls of 25: one session each, seq 1..20, closed by its last call.
    EXPECT_TRUE(st["session_errors"].empty()) << st["session_errors"].dump();
    int closed = 0;
    for (const auto& [id, s] : st["sessions"].items()) {
        if (!s["closed"].get<bool>()) continue;
        ++closed;
        EXPECT_EQ(s["last_seq"], s["batches"]) << id;
        EXPECT_GT(s["batches"].get<int>(), 1) << id;
    }
    EXPECT_GE(closed, 2);
    auto injected = server_->vendor().faults().injected();
    for (auto k : {"throttle", "throttle_silent", "server_error", "hang_up", "partial_failure"})
        EXPECT_GT(injected[k], 0u) << k;
    EXPECT_GT(st["invalid_entries"].get<int>(), 0);  // rows Meta dropped, sent again

    // 40 leave the segment, one more withdraws consent: removed with DELETE, nothing else moves.
    std::vector<store::ProfileId> leaving(a_.ids.begin(), a_.ids.begin() + 40);
    a_.w.members("vip", leaving, false);
    a_.withdraw_consent(100);
    auto d = a_.w.store().plan_diff("vip_to_meta");
    EXPECT_EQ(d.exited, 40 - 4 + 1);  // p3, p13, p23, p33 never consented, so never went out
    r = deliver(config({{"max_users_per_request", 25}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(emails(), hashed_emails(n, [](int i) { return consents(i) && i >= 40 && i != 100; }));
    bool deleted = false;
    for (const auto& q : server_->http().requests()) deleted = deleted || q.method == "DELETE";
    EXPECT_TRUE(deleted);
}

TEST_F(MetaAudiencesTest, IdentifiersAreNormalisedTheWayMetaHashesThem) {
    start(
        {{"known_users", {{"EMAIL", {"ann.smith@acme-mail.com"}}, {"PHONE", {"4915123456789"}}}}});
    a_.w.ingest(json::array(
        {{{"type", "identify"},
          {"record_id", "ann"},
          {"occurred_at", "2024-05-01T10:00:00Z"},
          {"identifiers", {{"email", "Ann.Smith@Acme-Mail.COM"}, {"phone", "+49 (151) 2345-6789"}}},
          {"traits",
           {{"tier", "gold"},
            {"first_name", "Ann-Marie"},
            {"gender", "Male"},
            {"birthday", "1984-05-01"},
            {"country", "DE"}}}},
         {{"type", "consent"},
          {"record_id", "ann-c"},
          {"occurred_at", "2024-05-01T10:00:00Z"},
          {"identifiers", {{"email", "ann.smith@acme-mail.com"}}},
          {"consent", {{"purpose", "advertising"}, {"granted", true}}}}}));
    const auto ann = *a_.w.store().find_profile("email", "ann.smith@acme-mail.com");
    a_.w.segment("vip");
    a_.w.members("vip", {ann});
    a_.w.store().define_binding({"vip_to_meta",
                                 "vip",
                                 "meta-vip",
                                 {{"EMAIL", "identifiers.email"},
                                  {"phone", "identifiers.phone"},
                                  {"fn", "traits.first_name"},
                                  {"gen", "traits.gender"},
                                  {"doby", "traits.birthday"},
                                  {"country", "traits.country"}},
                                 "advertising"});
    a_.w.store().plan_diff("vip_to_meta");
    auto cfg = config({{"schema", {"EMAIL", "PHONE", "FN", "GEN", "DOBY", "COUNTRY"}}});
    auto rep = deliver(cfg);
    ASSERT_EQ(rep.pending, 0) << rep.last_error;
    EXPECT_EQ(rep.delivered, 1) << rep.last_error;

    const json row = {"94281c82350f71faf1f1eb6f400468cd27c5a2b910a0520f3c7cc2802b3ae228",   // email
                      "c0f8f0bebbbac96451ee8d8def84a02ae9e34c877775437cb9d458328315afa7",   // phone
                      "2322d03565a46ece1e31e5ef0d5f79f5a0ee0dc96ff666e52948e52e0298850e",   // fn
                      "62c66a7a5dd70c3146618063c344e531e6d4b59e379808443ce962b3abd63c5a",   // m
                      "4dea5c7cb70f50322ec9d734aa4aa078be9227c05251e18991c596f387552370",   // 1984
                      "959a45d44e6fcf58361ed004681556fe50129f2109e817dec098c00c9e5d2578"};  // de
    EXPECT_EQ(sha256("ann.smith@acme-mail.com"), row[0]);  // the helper agrees with the literals
    auto reqs = server_->http().requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].target, std::string("/v25.0/") + kAudience + "/users");  // no token in it
    EXPECT_EQ(reqs[0].header("Authorization"), "Bearer tok-1");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
    auto body = json::parse(reqs[0].body);
    EXPECT_EQ(body, json({{"payload",
                           {{"schema", {"EMAIL", "PHONE", "FN", "GEN", "DOBY", "COUNTRY"}},
                            {"data", json::array({row})}}}}));  // one call: no session
    EXPECT_EQ(sim_state(*server_)["matched"], 1);

    // Leaving the segment: DELETE with the same row, and the audience is empty.
    a_.w.members("vip", {ann}, false);
    a_.w.store().plan_diff("vip_to_meta");
    ASSERT_EQ(deliver(cfg).pending, 0);
    reqs.clear();
    for (auto& q : server_->http().requests())
        if (q.target.ends_with("/users")) reqs.push_back(std::move(q));
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[1].method, "DELETE");
    EXPECT_EQ(json::parse(reqs[1].body)["payload"]["data"], json::array({row}));
    EXPECT_TRUE(sim_state(*server_)["members"].empty());
}

TEST_F(MetaAudiencesTest, AnExpiredTokenStopsTheDestinationUntilANewOneIsGiven) {
    start(json::object());
    populate(300);
    server_->vendor().faults().script(2, sim::Fault::expire_token);
    auto r = deliver(config());
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("190"), std::string::npos) << r.last_error;
    EXPECT_NE(r.last_error.find("fbtrace_id"), std::string::npos) << r.last_error;
    EXPECT_EQ(r.last_error.find("tok-1"), std::string::npos);  // the token never shows
    EXPECT_LE(server_->http().request_count(), 3u);            // no retry loop
    EXPECT_GT(a_.with_status("pending"), 0);

    // The admin puts a new token in: delivery resumes and the audience is exact.
    r = deliver(config({{"access_token", "tok-2"}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);
    EXPECT_EQ(emails(), hashed_emails(300, consents));
}

TEST_F(MetaAudiencesTest, AThrottledDestinationWaitsAsLongAsMetaSuggests) {
    // Meta sends no Retry-After; its usage header says when access comes back (minutes).
    start({{"regain_minutes", 2}});
    populate(100);
    server_->vendor().faults().script(1, sim::Fault::throttle);
    auto r = a_.deliver("meta-audiences", "meta-vip", config(), "access_token", 1);
    EXPECT_EQ(r.state, delivery::DestinationState::running);  // throttling is not an outage
    EXPECT_NE(r.last_error.find("80003"), std::string::npos) << r.last_error;
    EXPECT_EQ(server_->http().request_count(), 1u);  // it waits minutes, it does not hammer
    EXPECT_EQ(a_.with_status("pending"), 90);
    EXPECT_EQ(a_.with_status("dead"), 0);
}

TEST_F(MetaAudiencesTest, CallsMetaRefusesAsTooLargeAreSplit) {
    start({{"max_users", 30}});
    populate(400);
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    auto st = sim_state(*server_);
    EXPECT_GT(st["oversize_refused"].get<int>(), 0);
    EXPECT_TRUE(st["session_errors"].empty()) << st["session_errors"].dump();
    EXPECT_EQ(emails(), hashed_emails(400, consents));
    EXPECT_EQ(a_.with_status("rejected"), 0);
}

TEST_F(MetaAudiencesTest, NothingIsSentForPeopleWithoutConsent) {
    start(json::object());
    populate(50, [](int) { return false; });
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0);
    EXPECT_EQ(server_->http().request_count(), 0u);
    EXPECT_TRUE(sim_state(*server_)["members"].empty());
}

}  // namespace
}  // namespace cdphub::test

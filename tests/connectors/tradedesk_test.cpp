// The tradedesk destination against the TTD Data API simulator, driven by the hub's delivery
// workers from a real store: a segment through 429s with and without Retry-After, 5xx bursts,
// hang-ups and transient FailedLines; ids TTD does not know rejected per record; removals as
// TtlInMinutes 0; consent; an expired token; 413 oversize requests; the exact wire format.
#include <gtest/gtest.h>

#include "audience_world.hpp"

namespace cdphub::test {
namespace {

bool consents(int i) {
    return i % 10 != 3;
}
bool unmapped(int i) {
    return i % 250 == 7;
}

class TradeDeskTest : public ::testing::Test {
  protected:
    void start(json settings, sim::FaultPlan faults = {}, int n_unmapped = 0) {
        sim::VendorOptions o;
        o.seed = 23;
        json ids = json::array();
        for (int i = 0; i < n_unmapped; ++i)
            if (unmapped(i)) ids.push_back(AudienceWorld::tdid(i));
        o.settings = {{"auth_tokens", {"ttd-1", "ttd-2"}},
                      {"advertiser_id", "adv42"},
                      {"unmapped", ids},
                      {"retry_after_s", 0}};
        if (settings.is_object()) o.settings.update(settings);
        o.faults = std::move(faults);
        server_ = std::make_unique<sim::SimulatorServer>("tradedesk", o);
    }

    json config(json extra = json::object()) {
        json c = {{"base_url", server_->base_url()},
                  {"advertiser_id", "adv42"},
                  {"auth_token", "ttd-1"},
                  {"id_types", {"TDID", "UID2"}},
                  {"max_items_per_request", 100}};
        c.update(extra);
        return c;
    }

    void populate(int n, const std::function<bool(int)>& c = consents) {
        a_.populate(n, c, "vip_to_ttd", "ttd-vip", {{"tdid", "identifiers.tdid"}});
    }

    delivery::WorkerReport deliver(const json& cfg) {
        return a_.deliver("tradedesk", "ttd-vip", cfg, "auth_token");
    }

    std::set<std::string> segment(const std::string& name = "cdp_vip") {
        std::set<std::string> out;
        const auto st = sim_state(*server_);  // a local: no reference into a temporary
        for (const auto& id : st["segments"].value(name, json::array()))
            out.insert(id.get<std::string>());
        return out;
    }

    static std::set<std::string> expected(int n, const std::function<bool(int)>& in) {
        std::set<std::string> out;
        for (int i = 0; i < n; ++i)
            if (in(i)) out.insert("TDID:" + AudienceWorld::tdid(i));
        return out;
    }

    AudienceWorld a_;
    std::unique_ptr<sim::SimulatorServer> server_;
};

TEST_F(TradeDeskTest, TheSegmentHoldsExactlyTheConsentingMappedMembersThroughEveryFault) {
    constexpr int n = 1200;
    start({{"failed_line_share", 0.3}},
          {.seed = 9,
           .rate = 0.08,
           .kinds = {sim::Fault::throttle, sim::Fault::throttle_silent, sim::Fault::server_error,
                     sim::Fault::hang_up, sim::Fault::slow, sim::Fault::partial_failure},
           .burst = 2,
           .slow_ms = 20},
          n);
    // Every kind at least once, besides the random draws.
    auto& f = server_->vendor().faults();
    f.script(2, sim::Fault::throttle);
    f.script(5, sim::Fault::throttle_silent);
    f.script(8, sim::Fault::server_error);
    f.script(12, sim::Fault::hang_up);
    f.script(15, sim::Fault::partial_failure);
    populate(n);
    auto r = deliver(config({{"max_items_per_request", 25}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(r.state, delivery::DestinationState::running);
    EXPECT_EQ(segment(), expected(n, [](int i) { return consents(i) && !unmapped(i); }));

    // Ids TTD does not know are data errors, kept with TTD's line code; nothing dead-lettered.
    std::int64_t bad = 0;
    for (int i = 0; i < n; ++i) bad += consents(i) && unmapped(i) ? 1 : 0;
    EXPECT_EQ(a_.with_status("rejected"), bad);
    EXPECT_EQ(a_.w.count("SELECT count(*) FROM activation_changes WHERE status = 'rejected' AND "
                         "last_error LIKE '%UserNotMapped%'"),
              bad);
    EXPECT_EQ(a_.with_status("dead"), 0);
    auto injected = server_->vendor().faults().injected();
    for (auto k : {"throttle", "throttle_silent", "server_error", "hang_up", "partial_failure"})
        EXPECT_GT(injected[k], 0u) << k;

    // 40 leave, one more withdraws consent: each goes out with TtlInMinutes 0.
    std::vector<store::ProfileId> leaving(a_.ids.begin(), a_.ids.begin() + 40);
    a_.w.members("vip", leaving, false);
    a_.withdraw_consent(100);
    a_.w.store().plan_diff("vip_to_ttd");
    r = deliver(config({{"max_items_per_request", 25}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(segment(), expected(n, [](int i) {
                  return consents(i) && !unmapped(i) && i >= 40 && i != 100;
              }));
}

TEST_F(TradeDeskTest, RequestsUseTheDataApisWireFormat) {
    start(json::object());
    a_.w.ingest(json::array({{{"type", "identify"},
                              {"record_id", "x"},
                              {"occurred_at", "2024-05-01T10:00:00Z"},
                              {"identifiers", {{"email", "x@acme.io"}}},
                              {"traits", {{"tier", "gold"}, {"uid2", "AbC+uid2/base64=="}}}},
                             {{"type", "consent"},
                              {"record_id", "xc"},
                              {"occurred_at", "2024-05-01T10:00:00Z"},
                              {"identifiers", {{"email", "x@acme.io"}}},
                              {"consent", {{"purpose", "advertising"}, {"granted", true}}}}}));
    a_.populate(1, consents, "vip_to_ttd", "ttd-vip",
                {{"tdid", "identifiers.tdid"}, {"UID2", "traits.uid2"}});
    a_.w.members("vip", {*a_.w.store().find_profile("email", "x@acme.io")});
    a_.w.store().plan_diff("vip_to_ttd");
    ASSERT_EQ(deliver(config({{"data_name", "cdphub_vip_2024"}, {"ttl_minutes", 1440}})).pending,
              0);
    auto reqs = server_->http().requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].target, "/data/advertiser");
    EXPECT_EQ(reqs[0].header("TTD-Auth"), "ttd-1");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
    auto body = json::parse(reqs[0].body);
    EXPECT_EQ(body["AdvertiserId"], "adv42");
    EXPECT_EQ(body["DataLoadTraceId"].get<std::string>().rfind("cdphub-vip_to_ttd-", 0), 0u);
    const json data = {{{"Name", "cdphub_vip_2024"}, {"TtlInMinutes", 1440}}};
    std::set<json> items(body["Items"].begin(), body["Items"].end());
    EXPECT_EQ(items, (std::set<json>{{{"TDID", AudienceWorld::tdid(0)}, {"Data", data}},
                                     {{"UID2", "AbC+uid2/base64=="}, {"Data", data}}}));
    EXPECT_EQ(segment("cdphub_vip_2024"),
              (std::set<std::string>{"TDID:" + AudienceWorld::tdid(0), "UID2:AbC+uid2/base64=="}));

    // Leaving: the same items with TtlInMinutes 0, and TTD holds nobody.
    a_.w.members("vip", a_.ids, false);
    a_.w.members("vip", {*a_.w.store().find_profile("email", "x@acme.io")}, false);
    a_.w.store().plan_diff("vip_to_ttd");
    ASSERT_EQ(deliver(config({{"data_name", "cdphub_vip_2024"}, {"ttl_minutes", 1440}})).pending,
              0);
    reqs.clear();
    for (auto& q : server_->http().requests())
        if (q.target == "/data/advertiser") reqs.push_back(std::move(q));
    ASSERT_EQ(reqs.size(), 2u);
    const auto removal = json::parse(reqs.back().body);  // named: the loop reads into it
    for (const auto& it : removal["Items"]) EXPECT_EQ(it["Data"][0]["TtlInMinutes"], 0);
    EXPECT_TRUE(segment("cdphub_vip_2024").empty());
}

TEST_F(TradeDeskTest, AnExpiredTokenStopsTheDestinationUntilANewOneIsGiven) {
    start(json::object());
    populate(300);
    server_->vendor().faults().script(2, sim::Fault::expire_token);
    auto r = deliver(config());
    EXPECT_EQ(r.state, delivery::DestinationState::auth_failed);
    EXPECT_NE(r.last_error.find("InvalidToken"), std::string::npos) << r.last_error;
    EXPECT_EQ(r.last_error.find("ttd-1"), std::string::npos);  // the token never shows
    EXPECT_LE(server_->http().request_count(), 3u);
    r = deliver(config({{"auth_token", "ttd-2"}}));
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_EQ(segment(), expected(300, consents));
}

TEST_F(TradeDeskTest, RequestsTtdRefusesAsTooLargeAreSplit) {
    start({{"max_body_bytes", 4000}});
    populate(400);
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    EXPECT_GT(sim_state(*server_)["oversize_refused"].get<int>(), 0);
    EXPECT_EQ(segment(), expected(400, consents));
    EXPECT_EQ(a_.with_status("rejected"), 0);
}

TEST_F(TradeDeskTest, NothingIsSentForPeopleWithoutConsent) {
    start(json::object());
    populate(50, [](int) { return false; });
    EXPECT_EQ(deliver(config()).pending, 0);
    EXPECT_EQ(server_->http().request_count(), 0u);
}

}  // namespace
}  // namespace cdphub::test

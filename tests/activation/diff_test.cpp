// Activation diffs: what a destination must be told, computed durably from segment membership.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "identity_fixture.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;

class DiffTest : public IdentityTest {
  protected:
    void SetUp() override {
        IdentityTest::SetUp();
        store_->define_segment({"vip", "traits.tier == \"gold\"", json::object()});
        binding("vip-to-esp", std::nullopt);
    }

    void binding(const std::string& name, std::optional<std::string> purpose) {
        store_->define_binding({name,
                                "vip",
                                "esp",
                                {{"email", "identifiers.email"},
                                 {"tier", "traits.tier"},
                                 {"city", "traits.address.city"},
                                 {"news", "consent.news"}},
                                std::move(purpose)});
    }

    store::ProfileId person(const std::string& email, json traits = {{"tier", "gold"}},
                            const std::string& at = "2024-05-01T10:00:00Z") {
        ingest("crm", rec("r" + std::to_string(++n_), {{"email", email}}, at, std::move(traits)));
        return *profile("email", email);
    }

    void member(store::ProfileId p, bool in = true) { store_->update_members("vip", {{p, in}}); }

    std::vector<std::string> ops(const std::string& b = "vip-to-esp") {
        std::vector<std::string> out;
        for (const auto& c : store_->pending_changes(b, 1000))
            out.push_back(c.op + ":" + c.payload.value("email", std::string("?")));
        return out;
    }

    void deliver_all(const std::string& b = "vip-to-esp") {
        std::vector<std::pair<std::int64_t, store::ChangeOutcome>> done;
        for (const auto& c : store_->pending_changes(b, 100000))
            done.push_back({c.id, store::ChangeOutcome::delivered});
        store_->settle_changes(done);
    }

    int n_ = 0;
};

TEST_F(DiffTest, FirstDiffIsTheFullMembershipWithMappedFields) {
    auto a = person("a@x.io", {{"tier", "gold"}, {"address", {{"city", "Berlin"}}}});
    auto b = person("b@x.io");
    member(a);
    member(b);
    auto d = store_->plan_diff("vip-to-esp");
    EXPECT_TRUE(d.backfill);
    EXPECT_EQ(d.entered, 2);
    auto changes = store_->pending_changes("vip-to-esp", 10);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].payload,
              json({{"email", "a@x.io"}, {"tier", "gold"}, {"city", "Berlin"}, {"news", nullptr}}));
    EXPECT_EQ(changes[0].op, "enter");
}

TEST_F(DiffTest, LaterDiffsCarryOnlyTheChanges) {
    auto a = person("a@x.io"), b = person("b@x.io"), c = person("c@x.io");
    member(a);
    member(b);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    EXPECT_EQ(store_->plan_diff("vip-to-esp").diff_id, 0);  // nothing changed, no diff row

    member(b, false);
    member(c);
    ingest("crm", rec("upd", {{"email", "a@x.io"}}, "2024-06-01T00:00:00Z",
                      {{"tier", "gold"}, {"unmapped", 1}}));
    auto d = store_->plan_diff("vip-to-esp");
    EXPECT_FALSE(d.backfill);
    EXPECT_EQ(d.entered, 1);
    EXPECT_EQ(d.exited, 1);
    EXPECT_EQ(d.changed, 0);  // only an unmapped trait changed
    EXPECT_EQ(ops(), (std::vector<std::string>{"exit:b@x.io", "enter:c@x.io"}));

    deliver_all();
    ingest("crm", rec("upd2", {{"email", "a@x.io"}}, "2024-06-02T00:00:00Z",
                      {{"address", {{"city", "Paris"}}}}));
    d = store_->plan_diff("vip-to-esp");
    EXPECT_EQ(d.changed, 1);
    auto changes = store_->pending_changes("vip-to-esp", 10);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].op, "update");
    EXPECT_EQ(changes[0].payload["city"], "Paris");
}

TEST_F(DiffTest, AMergeExitsTheAbsorbedProfile) {
    auto a = person("a@x.io");
    ingest("pos", rec("p1", {{"phone", "+14155550123"}}, "2024-05-01T10:00:00Z",
                      {{"tier", "gold"}, {"x", 1}}));
    auto b = *profile("phone", "+14155550123");
    member(a);
    member(b);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    ingest("crm", rec("link", {{"email", "a@x.io"}, {"phone", "+14155550123"}}));
    auto d = store_->plan_diff("vip-to-esp");
    EXPECT_EQ(d.exited, 1);
    auto changes = store_->pending_changes("vip-to-esp", 10);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].op, "exit");
    EXPECT_EQ(changes[0].profile, b);
}

// The state keeps a fingerprint of the payload and points at the outbox row that carries it: a
// change back to an earlier value is still a change, and an exit repeats the latest payload.
TEST_F(DiffTest, AnExitCarriesTheLastPayloadSentAndAChangeBackIsAnUpdate) {
    auto a = person("a@x.io", {{"tier", "gold"}, {"address", {{"city", "Berlin"}}}});
    member(a);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    std::vector<std::string> cities;
    int n = 0;
    for (const char* city : {"Paris", "Berlin", "Paris"}) {
        const auto day = std::to_string(++n);
        ingest("crm", rec("move" + day, {{"email", "a@x.io"}}, "2024-06-0" + day + "T00:00:00Z",
                          {{"address", {{"city", city}}}}));
        auto d = store_->plan_diff("vip-to-esp");
        EXPECT_EQ(d.changed, 1) << city;
        for (const auto& c : store_->pending_changes("vip-to-esp", 10))
            cities.push_back(c.op + ":" + c.payload["city"].get<std::string>());
        deliver_all();
    }
    EXPECT_EQ(cities, (std::vector<std::string>{"update:Paris", "update:Berlin", "update:Paris"}));
    EXPECT_EQ(store_->plan_diff("vip-to-esp").diff_id, 0);  // the same payload again: nothing

    member(a, false);
    store_->plan_diff("vip-to-esp");
    auto changes = store_->pending_changes("vip-to-esp", 10);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].op, "exit");
    EXPECT_EQ(changes[0].payload["city"], "Paris");
    EXPECT_EQ(changes[0].payload["email"], "a@x.io");
}

// The outbox row an exit takes its payload from was deleted by hand: the exit is still planned
// (and the destination will refuse its empty payload, visibly), never skipped.
TEST_F(DiffTest, AnExitWhoseOutboxRowWasDeletedIsStillPlanned) {
    auto a = person("a@x.io");
    member(a);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    plain().exec("DELETE FROM activation_changes");
    member(a, false);
    auto d = store_->plan_diff("vip-to-esp");
    EXPECT_EQ(d.exited, 1);
    auto changes = store_->pending_changes("vip-to-esp", 10);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].op, "exit");
    EXPECT_EQ(changes[0].payload, json::object());
    EXPECT_EQ(store_->binding_status().at(0).members_planned, 0);
}

TEST_F(DiffTest, AnUnmergeEntersTheSplitOffProfile) {
    auto a = person("a@x.io");
    ingest("pos", rec("p1", {{"phone", "+14155550123"}}, "2024-05-01T10:00:00Z"));
    ingest("crm", rec("link", {{"email", "a@x.io"}, {"phone", "+14155550123"}}));
    member(a);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    auto merge = details(a).merges.at(0).id;
    auto r = resolver_->unmerge(merge, "", *store_, normalizer_);
    ASSERT_EQ(r.profiles.size(), 2u);
    // Segment evaluation would now find both gold: enter the split-off one.
    for (auto p : r.profiles) member(p);
    auto d = store_->plan_diff("vip-to-esp");
    EXPECT_EQ(d.entered, 1);
}

TEST_F(DiffTest, ConsentGatesWhoIsSentAndAWithdrawalRemoves) {
    binding("vip-news", std::string("news"));
    auto a = person("a@x.io"), b = person("b@x.io");
    auto consent = [&](const std::string& email, bool granted, const std::string& at) {
        ingest("web", json::array({{{"type", "consent"},
                                    {"record_id", "k" + std::to_string(++n_)},
                                    {"occurred_at", at},
                                    {"identifiers", {{"email", email}}},
                                    {"consent", {{"purpose", "news"}, {"granted", granted}}}}}));
    };
    consent("a@x.io", true, "2024-05-02T00:00:00Z");
    member(a);
    member(b);
    EXPECT_EQ(store_->plan_diff("vip-news").entered, 1);  // b never consented
    EXPECT_EQ(ops("vip-news"), (std::vector<std::string>{"enter:a@x.io"}));
    deliver_all("vip-news");
    consent("a@x.io", false, "2024-05-03T00:00:00Z");
    auto d = store_->plan_diff("vip-news");
    EXPECT_EQ(d.exited, 1);
    EXPECT_EQ(ops("vip-news"), (std::vector<std::string>{"exit:a@x.io"}));
}

TEST_F(DiffTest, PendingChangesSurviveARestartAndAreNotPlannedTwice) {
    auto a = person("a@x.io");
    member(a);
    store_->plan_diff("vip-to-esp");
    // The hub dies before delivering: reopen the file.
    ingestor_.reset();
    store_.reset();
    store_ = store::open_sqlite_store(dir_.path() / "hub.db");
    EXPECT_EQ(ops(), (std::vector<std::string>{"enter:a@x.io"}));
    EXPECT_EQ(store_->plan_diff("vip-to-esp").diff_id, 0);  // already planned, not doubled
    EXPECT_EQ(ops().size(), 1u);
}

TEST_F(DiffTest, ANewBindingBackfillsWhileTheOldOneOnlyGetsChanges) {
    auto a = person("a@x.io");
    member(a);
    store_->plan_diff("vip-to-esp");
    deliver_all();
    binding("vip-to-dmp", std::nullopt);
    auto d = store_->plan_diff("vip-to-dmp");
    EXPECT_TRUE(d.backfill);
    EXPECT_EQ(d.entered, 1);
    EXPECT_EQ(store_->plan_diff("vip-to-esp").diff_id, 0);
}

TEST_F(DiffTest, StatusCountsTheOutbox) {
    auto a = person("a@x.io"), b = person("b@x.io");
    member(a);
    member(b);
    store_->plan_diff("vip-to-esp");
    auto changes = store_->pending_changes("vip-to-esp", 10);
    store_->settle_changes({{changes[0].id, store::ChangeOutcome::delivered}});
    store_->settle_changes({{changes[1].id, store::ChangeOutcome::rejected}}, "400 invalid email");
    auto st = store_->binding_status();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].delivered, 1);
    EXPECT_EQ(st[0].rejected, 1);
    EXPECT_EQ(st[0].pending, 0);
    EXPECT_EQ(st[0].members_planned, 2);
    EXPECT_THROW(store_->plan_diff("nope"), store::UnknownName);
}

}  // namespace
}  // namespace cdphub::test

namespace cdphub::test {
namespace {

// Real-time plans run after every ingest batch; with a coalescing window their changes join the
// binding's latest diff instead of adding a row each time, and the counts add up.
TEST_F(DiffTest, PlansWithinTheWindowJoinTheLatestDiff) {
    auto a = person("a@x.io"), b = person("b@x.io"), c = person("c@x.io");
    member(a);
    const auto backfill = store_->plan_diff("vip-to-esp", std::chrono::minutes(1));
    ASSERT_TRUE(backfill.backfill);

    member(b);  // the backfill is never joined: the next plan makes a new diff
    const auto first = store_->plan_diff("vip-to-esp", std::chrono::minutes(1));
    EXPECT_FALSE(first.backfill);
    EXPECT_NE(first.diff_id, backfill.diff_id);
    EXPECT_EQ(first.entered, 1);

    member(c);
    member(a, false);
    const auto second = store_->plan_diff("vip-to-esp", std::chrono::minutes(1));
    EXPECT_EQ(second.diff_id, first.diff_id);  // joined
    EXPECT_EQ(second.entered, 1);
    EXPECT_EQ(second.exited, 1);
    // Nothing new: no diff, and the joined one keeps its changes.
    EXPECT_EQ(store_->plan_diff("vip-to-esp", std::chrono::minutes(1)).diff_id, 0);

    json rows = json::array();
    {
        SQLite::Database db((dir_.path() / "hub.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db,
                            "SELECT id, backfill, entered, exited, changed FROM activation_diffs "
                            "ORDER BY id");
        while (q.executeStep())
            rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt(),
                            q.getColumn(2).getInt(), q.getColumn(3).getInt(),
                            q.getColumn(4).getInt()});
    }
    EXPECT_EQ(rows, json::parse(R"([[)" + std::to_string(backfill.diff_id) + R"(, 1, 1, 0, 0], [)" +
                                std::to_string(first.diff_id) + R"(, 0, 2, 1, 0]])"));
    EXPECT_EQ(ops(), (std::vector<std::string>{"enter:a@x.io", "enter:b@x.io", "exit:a@x.io",
                                               "enter:c@x.io"}));

    // Without a window every plan with changes is a diff of its own.
    member(a);
    EXPECT_NE(store_->plan_diff("vip-to-esp").diff_id, first.diff_id);
}

}  // namespace
}  // namespace cdphub::test

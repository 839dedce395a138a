// Unmerge: a wrong merge is split, records are re-resolved, and the cut link stays cut.
#include "identity_fixture.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;

class UnmergeTest : public IdentityTest {
  protected:
    // Ann and Ben share a family email; a record with both of their phones' identifiers... the
    // classic wrong merge: Ben's phone typed into Ann's CRM contact.
    void wrong_merge() {
        ingest("crm", rec("ann-1", {{"email", "ann@x.io"}}, "2024-05-01T00:00:00Z",
                          {{"first_name", "Ann"}}));
        ingest("pos", rec("ben-1", {{"phone", "+14155550123"}}, "2024-05-02T00:00:00Z",
                          {{"first_name", "Ben"}}));
        ingest("pos", json::array(
                          {{{"type", "order"},
                            {"record_id", "ben-o1"},
                            {"occurred_at", "2024-05-03T00:00:00Z"},
                            {"identifiers", {{"phone", "+14155550123"}}},
                            {"order", {{"id", "1"}, {"currency", "USD"}, {"total_minor", 500}}}}}));
        ann_ = *profile("email", "ann@x.io");
        ben_ = *profile("phone", "+14155550123");
        ingest("crm", rec("ann-2", {{"email", "ann@x.io"}, {"phone", "+14155550123"}},
                          "2024-05-04T00:00:00Z"));
        ASSERT_EQ(profile("phone", "+14155550123"), ann_);
        auto d = details(ann_);
        ASSERT_EQ(d.merges.size(), 1u);
        merge_id_ = d.merges[0].id;
    }

    store::ProfileId ann_ = 0, ben_ = 0;
    std::int64_t merge_id_ = 0;
};

TEST_F(UnmergeTest, SplitsTheProfileAndGivesBothTheirIdsBack) {
    wrong_merge();
    auto r =
        resolver_->unmerge(merge_id_, "Ben's phone typed into Ann's contact", *store_, normalizer_);
    EXPECT_GT(r.unmerge_id, 0);
    EXPECT_EQ(profile("email", "ann@x.io"), ann_);
    // ann-2 carries both identifiers; with the link cut, the phone is dropped from it and
    // Ben's own records bring his profile back under its old id.
    EXPECT_EQ(profile("phone", "+14155550123"), ben_);
    EXPECT_EQ(trait(ann_, "first_name"), "Ann");
    EXPECT_EQ(trait(ben_, "first_name"), "Ben");
    EXPECT_EQ(details(ben_).orders, 1);
    EXPECT_EQ(details(ann_).orders, 0);
    EXPECT_EQ(store_->profile_counts().live, 2);
    EXPECT_EQ(store_->profile_counts().merges, 0);
    EXPECT_EQ(store_->profile_counts().unmerges, 1);
    // The history stays: the merge is marked undone, the separation is listed.
    auto d = details(ann_);
    ASSERT_EQ(d.merges.size(), 1u);
    EXPECT_EQ(d.merges[0].undone_by, r.unmerge_id);
    ASSERT_EQ(d.separations.size(), 1u);
    EXPECT_EQ(sql_int("SELECT count(*) FROM records WHERE profile_id IS NULL"), 0);
}

TEST_F(UnmergeTest, TheSeparationHoldsForLaterRecords) {
    wrong_merge();
    resolver_->unmerge(merge_id_, "", *store_, normalizer_);
    ingest("crm", rec("ann-3", {{"email", "ann@x.io"}, {"phone", "+14155550123"}},
                      "2024-05-05T00:00:00Z"));
    EXPECT_NE(profile("email", "ann@x.io"), profile("phone", "+14155550123"));
    EXPECT_EQ(store_->profile_counts().merges, 0);
}

TEST_F(UnmergeTest, MergesThatStillHoldAreMadeAgain) {
    ingest("web", rec("w1", {{"anonymous_id", "d1"}}));
    auto anon = *profile("anonymous_id", "d1");
    ingest("crm", rec("c1", {{"email", "z@x.io"}}));
    ingest("web", rec("w2", {{"anonymous_id", "d1"}, {"email", "z@x.io"}}));  // good merge
    ingest("pos", rec("p1", {{"phone", "+14155550123"}}));
    ingest("crm", rec("c2", {{"email", "z@x.io"}, {"phone", "+14155550123"}}));  // wrong merge
    auto d = details(anon);
    ASSERT_EQ(d.merges.size(), 2u);
    auto wrong = d.merges[1].id;
    auto r = resolver_->unmerge(wrong, "", *store_, normalizer_);
    EXPECT_EQ(r.profiles.size(), 2u);
    EXPECT_EQ(profile("email", "z@x.io"), anon);
    EXPECT_EQ(profile("anonymous_id", "d1"), anon);
    EXPECT_NE(profile("phone", "+14155550123"), anon);
    EXPECT_EQ(store_->profile_counts().merges, 1);  // the good one, logged again
}

TEST_F(UnmergeTest, RefusesUnknownAndRepeatedUnmerges) {
    wrong_merge();
    EXPECT_THROW(resolver_->unmerge(999, "", *store_, normalizer_), identity::UnmergeError);
    resolver_->unmerge(merge_id_, "", *store_, normalizer_);
    EXPECT_THROW(resolver_->unmerge(merge_id_, "", *store_, normalizer_), identity::UnmergeError);
}

TEST_F(UnmergeTest, AFailedUnmergeChangesNothing) {
    wrong_merge();
    auto db = plain();
    // Make the replay fail halfway: the transaction must roll everything back.
    db.exec("CREATE TRIGGER fail BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'boom'); END");
    EXPECT_THROW(resolver_->unmerge(merge_id_, "", *store_, normalizer_), store::StoreError);
    db.exec("DROP TRIGGER fail");
    EXPECT_EQ(profile("phone", "+14155550123"), ann_);
    EXPECT_EQ(store_->profile_counts().merges, 1);
    EXPECT_EQ(store_->profile_counts().unmerges, 0);
}

}  // namespace
}  // namespace cdphub::test

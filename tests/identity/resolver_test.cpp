// Matching, limits, blocked values and merges, on a real store.
#include "identity_fixture.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;

TEST_F(IdentityTest, FirstRecordCreatesAProfileAndLaterOnesJoinIt) {
    ingest("crm", rec("r1", {{"email", "Ann@Shop.IO"}, {"crm_id", "C1"}}));
    ingest("web", rec("r2", {{"email", "ann@shop.io"}, {"anonymous_id", "d-1"}}));
    auto p = profile("email", "ann@shop.io");
    ASSERT_TRUE(p);
    EXPECT_EQ(profile("crm_id", "C1"), p);
    EXPECT_EQ(profile("anonymous_id", "d-1"), p);
    auto counts = store_->profile_counts();
    EXPECT_EQ(counts.live, 1);
    EXPECT_EQ(counts.identifiers, 3);
    EXPECT_EQ(counts.merges, 0);
    EXPECT_EQ(sql_int("SELECT count(*) FROM records WHERE profile_id = " + std::to_string(*p)), 2);
}

TEST_F(IdentityTest, ARecordLinkingTwoProfilesMergesThemIntoTheOlderWithALogEntry) {
    ingest("web", rec("w1", {{"anonymous_id", "d-1"}}));
    ingest("crm", rec("c1", {{"email", "bo@shop.io"}}));
    auto older = *profile("anonymous_id", "d-1");
    auto newer = *profile("email", "bo@shop.io");
    ASSERT_NE(older, newer);
    ingest("web", rec("w2", {{"anonymous_id", "d-1"}, {"email", "bo@shop.io"}}));

    EXPECT_EQ(profile("email", "bo@shop.io"), older);
    auto d = details(newer);  // the old id still leads to the live profile
    EXPECT_EQ(d.id, older);
    EXPECT_EQ(d.requested, newer);
    ASSERT_EQ(d.merges.size(), 1u);
    const auto& m = d.merges[0];
    EXPECT_EQ(m.survivor, older);
    EXPECT_EQ(m.absorbed, newer);
    // Email ranks before anonymous_id, but each side is named by what matched it.
    EXPECT_EQ(m.survivor_link, (store::IdentifierValue{"anonymous_id", "d-1"}));
    EXPECT_EQ(m.absorbed_link, (store::IdentifierValue{"email", "bo@shop.io"}));
    EXPECT_EQ(sql_int("SELECT record_id = (SELECT id FROM records WHERE record_id = 'w2') "
                      "FROM merge_log"),
              1);
    EXPECT_EQ(sql_int("SELECT merged_into FROM profiles WHERE id = " + std::to_string(newer)),
              older);
    EXPECT_EQ(sql_int("SELECT count(*) FROM records WHERE profile_id = " + std::to_string(older)),
              3);
    EXPECT_EQ(store_->profile_counts().live, 1);
}

TEST_F(IdentityTest, SharedDeviceDoesNotFuseTwoPeople) {
    // One browser, two people logging in: the anonymous id must not join their profiles.
    ingest("web", rec("w1", {{"anonymous_id", "family-ipad"}, {"user_id", "alice"}}));
    ingest("web", rec("w2", {{"anonymous_id", "family-ipad"}, {"user_id", "bob"}}));
    auto alice = profile("user_id", "alice");
    auto bob = profile("user_id", "bob");
    ASSERT_TRUE(alice && bob);
    EXPECT_NE(*alice, *bob);
    EXPECT_EQ(profile("anonymous_id", "family-ipad"), alice);
    EXPECT_EQ(store_->profile_counts().merges, 0);
    // Bob's record says why the device id was not linked.
    auto notes = details(*bob).notes;
    ASSERT_EQ(notes.size(), 1u);
    const auto& dropped = notes[0].resolution["dropped"];
    ASSERT_EQ(dropped.size(), 1u);
    EXPECT_EQ(dropped[0]["type"], "anonymous_id");
    EXPECT_NE(dropped[0]["reason"].get<std::string>().find("2 user_id values (limit 1)"),
              std::string::npos);
}

TEST_F(IdentityTest, RecycledEmailStaysWithItsFirstOwner) {
    ingest("crm", rec("c1", {{"user_id", "u1"}, {"email", "shared@corp.io"}}));
    ingest("crm", rec("c2", {{"user_id", "u2"}, {"email", "shared@corp.io"}}));
    EXPECT_NE(profile("user_id", "u1"), profile("user_id", "u2"));
    EXPECT_EQ(profile("email", "shared@corp.io"), profile("user_id", "u1"));
}

TEST_F(IdentityTest, AUserIdSeenWithTwoEmailsKeepsBoth) {
    ingest("crm", rec("c1", {{"user_id", "u1"}, {"email", "home@mail.io"}}));
    ingest("web", rec("w1", {{"user_id", "u1"}, {"email", "work@corp.io"}}));
    auto p = profile("user_id", "u1");
    EXPECT_EQ(profile("email", "home@mail.io"), p);
    EXPECT_EQ(profile("email", "work@corp.io"), p);
}

TEST_F(IdentityTest, PlaceholderValuesNeverLinkProfiles) {
    ingest("pos", rec("p1", {{"pos_customer_id", "0000"}, {"email", "a@shop.io"}}));
    ingest("pos", rec("p2", {{"pos_customer_id", "0000"}, {"email", "b@shop.io"}}));
    ingest("web", rec("w1", {{"user_id", "anonymous"}, {"email", "c@shop.io"}}));
    ingest("web", rec("w2", {{"user_id", "NULL"}, {"email", "d@shop.io"}}));
    EXPECT_EQ(store_->profile_counts().live, 4);
    EXPECT_FALSE(profile("pos_customer_id", "0000"));
    EXPECT_FALSE(profile("user_id", "anonymous"));
    // The value stays on the record and the resolution names the pattern that blocked it.
    auto notes = details(*profile("email", "a@shop.io")).notes;
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].resolution["blocked"][0]["value"], "0000");
    EXPECT_TRUE(notes[0].resolution["blocked"][0].contains("pattern"));
}

TEST_F(IdentityTest, ARecordWithOnlyBlockedIdentifiersIsKeptButUnresolved) {
    auto r = ingest("web", rec("w1", {{"user_id", "undefined"}}));
    EXPECT_EQ(r.inserted, 1u);
    EXPECT_EQ(store_->profile_counts().live, 0);
    EXPECT_EQ(store_->profile_counts().unresolved_records, 1);
    EXPECT_EQ(sql_int("SELECT json_array_length(resolution, '$.blocked') FROM records"), 1);
}

TEST_F(IdentityTest, UniqueIdentifiersWinOverHigherPriorityOnesInAConflict) {
    auto rules = identity::Rules::defaults();
    // loyalty_card ranks below email, but it identifies a person.
    set_type(rules, "loyalty_card", 9, 1, true);
    open(std::move(rules));
    ingest("pos", rec("p1", {{"email", "fam@home.io"}, {"loyalty_card", "L-1"}}));
    ingest("pos", rec("p2", {{"email", "fam@home.io"}, {"loyalty_card", "L-2"}}));
    auto l1 = profile("loyalty_card", "L-1"), l2 = profile("loyalty_card", "L-2");
    ASSERT_TRUE(l1 && l2);
    EXPECT_NE(*l1, *l2);
    EXPECT_EQ(profile("email", "fam@home.io"), l1);
}

TEST_F(IdentityTest, WithoutUniqueTheLowestPriorityIdentifierIsDropped) {
    // crm_id has limit 1 but is not unique: in a conflict it is the one dropped.
    ingest("crm", rec("c1", {{"email", "x@corp.io"}, {"crm_id", "A"}}));
    ingest("crm", rec("c2", {{"email", "x@corp.io"}, {"crm_id", "B"}}));
    EXPECT_EQ(store_->profile_counts().live, 1);
    EXPECT_FALSE(profile("crm_id", "B"));
}

TEST_F(IdentityTest, AnUnrelatedNewIdentifierIsNotDroppedToSolveAConflict) {
    ingest("web", rec("w1", {{"user_id", "u1"}, {"anonymous_id", "dev"}}));
    // u2 conflicts with u1 through the device; the new phone has nothing to do with it.
    ingest("web",
           rec("w2", {{"user_id", "u2"}, {"anonymous_id", "dev"}, {"phone", "+14155550123"}}));
    auto u2 = profile("user_id", "u2");
    ASSERT_TRUE(u2);
    EXPECT_EQ(profile("phone", "+14155550123"), u2);
}

TEST_F(IdentityTest, ThreeProfilesMergeInOneRecord) {
    ingest("a", rec("1", {{"email", "m@x.io"}}));
    ingest("b", rec("2", {{"phone", "+14155550123"}}));
    ingest("c", rec("3", {{"anonymous_id", "z"}}));
    auto first = *profile("email", "m@x.io");
    ingest("d", rec("4", {{"anonymous_id", "z"}, {"phone", "+14155550123"}, {"email", "m@x.io"}}));
    EXPECT_EQ(store_->profile_counts().live, 1);
    EXPECT_EQ(profile("anonymous_id", "z"), first);
    EXPECT_EQ(store_->profile_counts().merges, 2);
}

TEST_F(IdentityTest, AliasLinksThePreviousIdentifier) {
    ingest("web", rec("w1", {{"anonymous_id", "d-9"}}));
    json alias = {{"type", "alias"},
                  {"record_id", "a1"},
                  {"occurred_at", "2024-05-01T10:00:00Z"},
                  {"identifiers", {{"user_id", "42"}}},
                  {"alias", {{"previous_id", {{"type", "anonymous_id"}, {"value", "d-9"}}}}}};
    ingest("web", alias);
    EXPECT_EQ(profile("user_id", "42"), profile("anonymous_id", "d-9"));
}

TEST_F(IdentityTest, ReplayingABatchChangesNothing) {
    json batch =
        json::array({rec("r1", {{"email", "a@b.io"}}, "2024-05-01T10:00:00Z", {{"plan", "pro"}}),
                     rec("r2", {{"email", "a@b.io"}, {"user_id", "7"}}),
                     {{"type", "track"},
                      {"record_id", "e1"},
                      {"occurred_at", "2024-05-01T10:00:00Z"},
                      {"identifiers", {{"user_id", "7"}}},
                      {"event", "Signed In"}}});
    ingest("crm", batch);
    auto dump = [&] {
        std::string out;
        auto db = plain();
        for (const char* t : {"profiles", "profile_identifiers", "profile_traits", "events",
                              "merge_log", "records"}) {
            SQLite::Statement q(db, std::string("SELECT * FROM ") + t + " ORDER BY rowid");
            while (q.executeStep())
                for (int i = 0; i < q.getColumnCount(); ++i)
                    out += q.getColumn(i).getString() + "|";
            out += "\n";
        }
        return out;
    };
    auto before = dump();
    auto again = ingest("crm", batch);
    EXPECT_EQ(again.inserted, 0u);
    EXPECT_EQ(again.duplicates, 3u);
    EXPECT_TRUE(again.changed_profiles.empty());
    EXPECT_EQ(dump(), before);
}

TEST_F(IdentityTest, EventsOrdersAndConsentLandOnTheProfile) {
    ingest("web",
           json::array({
               {{"type", "track"},
                {"record_id", "e1"},
                {"occurred_at", "2024-05-01T10:00:00Z"},
                {"identifiers", {{"email", "c@d.io"}}},
                {"event", "Product Viewed"},
                {"properties", {{"sku", "A-1"}}}},
               {{"type", "order"},
                {"record_id", "o1"},
                {"occurred_at", "2024-05-02T10:00:00Z"},
                {"identifiers", {{"email", "c@d.io"}}},
                {"order",
                 {{"id", "991"}, {"currency", "EUR"}, {"total_minor", 1299}, {"status", "paid"}}}},
               // The refund of the same order, later: updates the one order row.
               {{"type", "order"},
                {"record_id", "o1-refund"},
                {"occurred_at", "2024-05-03T10:00:00Z"},
                {"identifiers", {{"email", "c@d.io"}}},
                {"order",
                 {{"id", "991"}, {"currency", "EUR"}, {"total_minor", 0}, {"status", "refunded"}}}},
               {{"type", "consent"},
                {"record_id", "k1"},
                {"occurred_at", "2024-05-04T10:00:00Z"},
                {"identifiers", {{"email", "c@d.io"}}},
                {"consent", {{"purpose", "email_marketing"}, {"granted", true}}}},
               // An older withdrawal arriving late does not override the newer grant.
               {{"type", "consent"},
                {"record_id", "k0"},
                {"occurred_at", "2024-04-01T10:00:00Z"},
                {"identifiers", {{"email", "c@d.io"}}},
                {"consent", {{"purpose", "email_marketing"}, {"granted", false}}}},
           }));
    auto d = details(*profile("email", "c@d.io"));
    EXPECT_EQ(d.events, 1);
    EXPECT_EQ(d.orders, 1);
    EXPECT_EQ(sql_int("SELECT total_minor FROM orders"), 0);
    EXPECT_EQ(plain().execAndGet("SELECT status FROM orders").getString(), "refunded");
    EXPECT_EQ(plain().execAndGet("SELECT occurred_at FROM orders").getString(),
              "2024-05-02T10:00:00.000Z");
    ASSERT_TRUE(d.consents.count("email_marketing"));
    EXPECT_TRUE(d.consents["email_marketing"].granted);
}

TEST_F(IdentityTest, MergingKeepsTheMostRecentConsentAndRefusalWinsATie) {
    auto consent = [](const std::string& id, json ids, const std::string& at, bool granted) {
        return json{{"type", "consent"},
                    {"record_id", id},
                    {"occurred_at", at},
                    {"identifiers", std::move(ids)},
                    {"consent", {{"purpose", "ads"}, {"granted", granted}}}};
    };
    ingest("a", consent("1", {{"email", "p@q.io"}}, "2024-05-01T10:00:00Z", true));
    ingest("b", consent("2", {{"phone", "+14155550123"}}, "2024-05-01T10:00:00Z", false));
    ingest("c", rec("3", {{"email", "p@q.io"}, {"phone", "+14155550123"}}));
    auto d = details(*profile("email", "p@q.io"));
    EXPECT_FALSE(d.consents.at("ads").granted);
}

TEST_F(IdentityTest, ALimitBrokenBeforeRulesTightenedDoesNotBlockNewRecords) {
    auto loose = identity::Rules::defaults();
    set_type(loose, "email", 2, 5, false);
    open(loose);
    ingest("crm", rec("1", {{"user_id", "u"}, {"email", "a@x.io"}}));
    ingest("crm", rec("2", {{"user_id", "u"}, {"email", "b@x.io"}}));
    auto tight = identity::Rules::defaults();
    set_type(tight, "email", 2, 1, false);
    open(tight);
    // The profile already holds two emails; a record adding nothing new still joins it.
    ingest("web", rec("3", {{"email", "a@x.io"}, {"anonymous_id", "d"}}));
    EXPECT_EQ(profile("anonymous_id", "d"), profile("user_id", "u"));
    // A third email is over both the limit and what the profile had: dropped.
    ingest("web", rec("4", {{"user_id", "u"}, {"email", "c@x.io"}}));
    EXPECT_FALSE(profile("email", "c@x.io"));
}

TEST_F(IdentityTest, NormalizerWarningsAreKeptWithTheRecord) {
    ingest("crm", rec("1", {{"email", "not-an-email"}, {"user_id", "u"}}));
    EXPECT_EQ(sql_int("SELECT json_array_length(resolution, '$.warnings') FROM records"), 1);
}

}  // namespace
}  // namespace cdphub::test

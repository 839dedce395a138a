// Segment SQL on a real store file: hand-inserted rows, expected member sets, agreement with the
// in-memory evaluator, live profiles only, parameters only, load_snapshot.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "segment/evaluator.hpp"
#include "segment/parser.hpp"
#include "segment/sql_compiler.hpp"
#include "segment/sqlite_backend.hpp"
#include "segment_test_util.hpp"
#include "store/database.hpp"
#include "test_util.hpp"

namespace cdphub::segment {
namespace {

using nlohmann::json;
using profile::ProfileId;
using test::ev;
using test::order;

constexpr const char* kNow = "2024-06-01T12:00:00.000Z";

// 1: German buyer; 2: Austrian, no orders; 3: nothing at all; 4: merged into 1 (a tombstone that
// still has rows); 5: odd values.
std::vector<profile::ProfileSnapshot> people() {
    std::vector<profile::ProfileSnapshot> v(5);
    for (std::size_t i = 0; i < v.size(); ++i) v[i].id = static_cast<ProfileId>(i + 1);
    auto& p1 = v[0];
    p1.traits["country"] = "DE";
    p1.traits["age"] = 42;
    p1.traits["vip"] = true;
    p1.traits["address"] =
        json::parse(R"({"city": "Berlin", "zip": "10115", "geo": {"lat": 52.5}})");
    p1.identifiers["email"] = {"ann@example.com", "ann@work.example"};
    p1.consent["email_marketing"] = {true, "web", "2024-01-01T00:00:00.000Z"};
    p1.events = {
        ev(10, "Order Completed", "2024-05-30T10:00:00.000Z", {{"revenue", 10.5}, {"sku", "A-1"}}),
        ev(11, "Order Completed", "2024-04-01T10:00:00.000Z", {{"revenue", 4}, {"sku", "B-2"}}),
        ev(12, "Product Viewed", "2024-05-31T10:00:00.000Z", {{"sku", "A-1"}})};
    p1.orders = {order(20, "2024-05-01T00:00:00.000Z", "EUR", 5000, "paid"),
                 order(21, "2023-05-20T00:00:00.000Z", "USD", 9999)};
    auto& p2 = v[1];
    p2.traits["country"] = "AT";
    p2.traits["age"] = 17.5;
    p2.traits["vip"] = false;
    p2.traits["address"] = json::parse(R"({"city": "Wien", "zip": 1010})");
    p2.identifiers["email"] = {"bob@example.org"};
    p2.consent["email_marketing"] = {false, "web", "2024-01-01T00:00:00.000Z"};
    p2.events = {ev(13, "Order Completed", "2024-05-01T10:00:00.000Z", {{"revenue", "free"}})};
    auto& p4 = v[3];
    p4.traits["country"] = "DE";
    p4.identifiers["email"] = {"old@example.com"};
    p4.events = {ev(14, "Order Completed", "2024-05-30T10:00:00.000Z")};
    auto& p5 = v[4];
    p5.traits["country"] = "'; DROP TABLE profiles; --";
    p5.traits["age"] = "42";
    p5.traits["vip"] = 1;
    p5.traits["address"] = json::array({"Berlin"});
    p5.traits["first name"] = "Zoë";
    p5.consent["sms"] = {true, "app", "2024-01-01T00:00:00.000Z"};
    p5.orders = {order(22, "2024-05-31T00:00:00.000Z", "EUR", -100, "refund")};
    return v;
}

class SegmentSql : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = std::make_unique<SQLite::Database>(store::open_database(dir_.path() / "hub.db", {}));
        db_->exec("PRAGMA foreign_keys = OFF");
        test::SnapshotWriter w(*db_);
        for (const auto& p : people_)
            w.add(p, p.id == 4 ? std::optional<ProfileId>(1) : std::nullopt);
        computed_.emplace("orders_90d", *parse_aggregate("count(orders within 90d)").value);
    }

    // Members by SQL, checked against the evaluator on the stored snapshots of live profiles.
    std::vector<ProfileId> members(const std::string& text) {
        ParseOptions o;
        o.computed = &computed_;
        auto r = parse_segment(text, o);
        EXPECT_TRUE(r.ok()) << text << ": " << (r.errors.empty() ? "" : r.errors[0].to_string());
        if (!r.ok()) return {};
        Context ctx{kNow, &computed_};
        CompiledSql c = compile_sql(*r.value, ctx);
        auto ids = run_segment_sql(*db_, c);
        std::vector<ProfileId> mem;
        for (const auto& p : people_) {
            if (p.id == 4) continue;
            if (evaluate(*r.value, load_snapshot(*db_, p.id), ctx)) mem.push_back(p.id);
        }
        EXPECT_EQ(ids, mem) << text << "\n" << c.sql;
        // The complement is exact.
        auto neg = run_segment_sql(*db_, compile_sql(Expr::make_not(*r.value), ctx));
        std::set<ProfileId> all(ids.begin(), ids.end());
        all.insert(neg.begin(), neg.end());
        EXPECT_EQ(all.size(), ids.size() + neg.size()) << text;
        EXPECT_EQ(all, (std::set<ProfileId>{1, 2, 3, 5})) << text;
        return ids;
    }

    test::TempDir dir_;
    std::unique_ptr<SQLite::Database> db_;
    std::vector<profile::ProfileSnapshot> people_ = people();
    ComputedTraits computed_;
};

using Ids = std::vector<ProfileId>;

TEST_F(SegmentSql, Traits) {
    EXPECT_EQ(members(R"(traits.country == "DE")"), Ids({1}));  // 4 is merged away
    EXPECT_EQ(members(R"(traits.country != "DE")"), Ids({2, 5}));
    EXPECT_EQ(members(R"(not traits.country == "DE")"), Ids({2, 3, 5}));
    EXPECT_EQ(members(R"(traits.age == 42)"), Ids({1}));
    EXPECT_EQ(members(R"(traits.age == "42")"), Ids({5}));
    EXPECT_EQ(members(R"(traits.age >= 17.5)"), Ids({1, 2}));
    EXPECT_EQ(members(R"(traits.age < 18)"), Ids({2}));
    EXPECT_EQ(members(R"(traits.age > "4")"), Ids({5}));
    EXPECT_EQ(members(R"(traits.vip == true)"), Ids({1}));
    EXPECT_EQ(members(R"(traits.vip == 1)"), Ids({5}));
    EXPECT_EQ(members(R"(traits.vip != true)"), Ids({2, 5}));
    EXPECT_EQ(members(R"(traits.vip in [false, 1])"), Ids({2, 5}));
    EXPECT_EQ(members(R"(traits.country in ["AT", "DE"])"), Ids({1, 2}));
    EXPECT_EQ(members(R"(exists traits.age)"), Ids({1, 2, 5}));
    EXPECT_EQ(members(R"(traits.country starts_with "'")"), Ids({5}));
    EXPECT_EQ(members(R"(traits.country contains "DROP")"), Ids({5}));
    EXPECT_EQ(members(R"(traits.country ends_with "T")"), Ids({2}));
    EXPECT_EQ(members(R"(traits."first name" ends_with "ë")"), Ids({5}));
    EXPECT_EQ(members(R"(traits."first name" starts_with "Zo")"), Ids({5}));
    EXPECT_EQ(members(R"(traits.address.city == "Berlin")"), Ids({1}));
    EXPECT_EQ(members(R"(traits.address.zip == "10115")"), Ids({1}));
    EXPECT_EQ(members(R"(traits.address.zip == 1010)"), Ids({2}));
    EXPECT_EQ(members(R"(traits.address.zip != 1010)"), Ids({1}));
    EXPECT_EQ(members(R"(traits.address.geo.lat > 50)"), Ids({1}));
    EXPECT_EQ(members(R"(exists traits.address.geo)"), Ids({1}));
    EXPECT_EQ(members(R"(exists traits.address)"), Ids({1, 2, 5}));
}

TEST_F(SegmentSql, IdentifiersConsentAggregates) {
    EXPECT_EQ(members(R"(identifiers.email == "ann@work.example")"), Ids({1}));
    EXPECT_EQ(members(R"(identifiers.email != "ann@work.example")"), Ids({2}));
    EXPECT_EQ(members(R"(identifiers.email ends_with ".com")"), Ids({1}));
    EXPECT_EQ(members(R"(identifiers.email in ["bob@example.org", "old@example.com"])"), Ids({2}));
    EXPECT_EQ(members(R"(consent.email_marketing == true)"), Ids({1}));
    EXPECT_EQ(members(R"(consent.email_marketing != true)"), Ids({2}));
    EXPECT_EQ(members(R"(exists consent.sms)"), Ids({5}));
    EXPECT_EQ(members(R"(count(track "Order Completed" within 90d) >= 2)"), Ids({1}));
    EXPECT_EQ(members(R"(count(track "Order Completed" within 90d) < 2)"), Ids({2, 3, 5}));
    EXPECT_EQ(members(R"(count(track "Order Completed" within 90d) == 0)"), Ids({3, 5}));
    EXPECT_EQ(members(R"(count(orders) != 1)"), Ids({1, 2, 3}));
    EXPECT_EQ(members(R"(sum(orders.total_minor) > 0)"), Ids({1}));
    EXPECT_EQ(members(R"(sum(orders.total_minor) <= 0)"), Ids({2, 3, 5}));
    EXPECT_EQ(members(R"(sum(track.properties.revenue) == 14.5)"), Ids({1}));
    EXPECT_EQ(members(R"(sum(track.properties.revenue) == 0)"), Ids({2, 3, 5}));
    EXPECT_EQ(members(R"(min(orders.total_minor) < 0)"), Ids({5}));
    EXPECT_EQ(members(R"(exists max(track.properties.revenue))"), Ids({1}));
    EXPECT_EQ(members(R"(last(track.properties.sku) == "A-1")"), Ids({1}));
    EXPECT_EQ(members(R"(first(track "Order Completed".properties.sku) == "B-2")"), Ids({1}));
    EXPECT_EQ(members(R"(last(orders.status) != "paid")"), Ids({5}));
    EXPECT_EQ(members(R"(distinct_count(track.properties.sku) == 2)"), Ids({1}));
    EXPECT_EQ(members(R"(distinct_count(orders.currency) < 2)"), Ids({2, 3, 5}));
    EXPECT_EQ(members(R"(count(orders where currency == "EUR" and status exists) >= 1)"),
              Ids({1, 5}));
    EXPECT_EQ(members(R"(count(orders where not status == "paid") >= 1)"), Ids({1, 5}));
    EXPECT_EQ(members(R"(computed.orders_90d >= 1)"), Ids({1, 5}));
    EXPECT_EQ(members(R"(exists count(orders))"), Ids({1, 2, 3, 5}));
}

TEST_F(SegmentSql, BooleanStructure) {
    EXPECT_EQ(
        members(R"(traits.country == "DE" and count(track "Order Completed" within 90d) >= 2)"),
        Ids({1}));
    EXPECT_EQ(members(R"(traits.country == "AT" or count(orders) == 0)"), Ids({2, 3}));
    EXPECT_EQ(members(R"(not exists traits.country or count(orders) < 1)"), Ids({2, 3}));
    EXPECT_EQ(members(R"(not (traits.country == "DE" or consent.sms == true))"), Ids({2, 3}));
    EXPECT_EQ(members(R"(count(orders) == 0 and count(track) == 0)"), Ids({3}));
    EXPECT_EQ(members(R"(traits.age == "x" and count(orders) == 0)"), Ids({}));
    EXPECT_EQ(members(R"(count(orders) >= 0)"), Ids({1, 2, 3, 5}));
    EXPECT_EQ(members(R"(count(orders) >= 0 and traits.country == "AT")"), Ids({2}));
    EXPECT_EQ(members(R"(count(orders) < 0 or traits.country == "AT")"), Ids({2}));
}

TEST_F(SegmentSql, SumsDoNotDependOnRowOrder) {
    // Added left to right, 0.1 + 0.2 + 0.3 is 0.6000000000000001; the exact sum rounds to 0.6,
    // whatever order SQLite visits the rows in.
    profile::ProfileSnapshot p;
    p.id = 6;
    p.events = {ev(30, "Paid", "2024-05-01T00:00:00.000Z", {{"revenue", 0.1}}),
                ev(31, "Paid", "2024-05-02T00:00:00.000Z", {{"revenue", 0.2}}),
                ev(32, "Paid", "2024-05-03T00:00:00.000Z", {{"revenue", 0.3}})};
    test::SnapshotWriter(*db_).add(p);
    Context ctx{kNow, nullptr};
    auto r = parse_segment(R"(sum(track "Paid".properties.revenue) == 0.6)");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(run_segment_sql(*db_, compile_sql(*r.value, ctx)), Ids({6}));
    EXPECT_TRUE(evaluate(*r.value, p, ctx));
    std::reverse(p.events.begin(), p.events.end());
    EXPECT_TRUE(evaluate(*r.value, p, ctx));
    // Integer sums stay exact beyond 2^53.
    profile::ProfileSnapshot q;
    q.id = 7;
    q.orders = {order(40, "2024-05-01T00:00:00.000Z", "EUR", 9007199254740993LL),
                order(41, "2024-05-01T00:00:00.000Z", "EUR", 2)};
    test::SnapshotWriter(*db_).add(q);
    r = parse_segment(
        R"(sum(orders.total_minor) == 9007199254740995 and sum(orders.total_minor) > 9007199254740994.0)");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(run_segment_sql(*db_, compile_sql(*r.value, ctx)), Ids({7}));
    EXPECT_TRUE(evaluate(*r.value, q, ctx));
}

TEST_F(SegmentSql, UserTextIsNeverInTheSql) {
    auto r = parse_segment(R"(traits."x'; --" == "'; DROP TABLE profiles; --" or
                              count(track "Robert'); DROP" where properties."a'b" == "c'd") > 0)");
    ASSERT_TRUE(r.ok());
    auto c = compile_sql(*r.value, Context{kNow, nullptr});
    EXPECT_EQ(c.sql.find("DROP"), std::string::npos) << c.sql;
    EXPECT_EQ(c.sql.find("a'b"), std::string::npos) << c.sql;
    EXPECT_EQ(c.sql.find("x'"), std::string::npos) << c.sql;
    EXPECT_EQ(run_segment_sql(*db_, c), Ids({}));
    // Identical values share one parameter.
    auto twice = compile_sql(*parse_segment(R"(traits.a == "v" or traits.a == "v")").value, {});
    EXPECT_EQ(twice.params.size(), 2u);
}

TEST_F(SegmentSql, LoadSnapshotReadsEverything) {
    auto s = load_snapshot(*db_, 1);
    auto p1 = people_[0];  // load_snapshot orders events and orders by occurred_at, then id
    auto by_time = [](const auto& a, const auto& b) {
        return std::tie(a.occurred_at, a.id) < std::tie(b.occurred_at, b.id);
    };
    std::sort(p1.events.begin(), p1.events.end(), by_time);
    std::sort(p1.orders.begin(), p1.orders.end(), by_time);
    EXPECT_EQ(test::snapshot_to_json(s), test::snapshot_to_json(p1));
    EXPECT_TRUE(s.traits.at("age").is_number_integer());
    auto s2 = load_snapshot(*db_, 2);
    EXPECT_TRUE(s2.traits.at("age").is_number_float());
    EXPECT_EQ(s2.traits.at("vip"), json(false));
    EXPECT_THROW(load_snapshot(*db_, 99), std::out_of_range);
}

TEST_F(SegmentSql, OneLoaderReadsManyProfilesLikeSeparateLoads) {
    // Real-time evaluation keeps one loader for a whole batch: every load, also the one after a
    // failed load, must read exactly what a fresh one reads.
    SnapshotLoader loader(*db_);
    for (const auto& p : people_)
        EXPECT_EQ(test::snapshot_to_json(loader.load(p.id)),
                  test::snapshot_to_json(load_snapshot(*db_, p.id)));
    EXPECT_THROW(loader.load(99), std::out_of_range);
    for (auto it = people_.rbegin(); it != people_.rend(); ++it)
        EXPECT_EQ(test::snapshot_to_json(loader.load(it->id)),
                  test::snapshot_to_json(load_snapshot(*db_, it->id)));
}

TEST_F(SegmentSql, DeepAndWideExpressionsRun) {
    // The deepest expression the parser accepts compiles to SQL that SQLite can run: 11
    // parenthesized or/and levels and 10 `not (...)` (two levels each) make 31 of the 32.
    std::string deep = R"(traits.country == "DE")";
    for (int i = 0; i < 21; ++i)
        deep = (i % 2 ? "not (" : "(count(orders) < 1 or ") + deep +
               (i % 2 ? ")" : " and exists traits.age)");
    auto r = parse_segment(deep);
    ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
    Context ctx{kNow, nullptr};
    auto ids = run_segment_sql(*db_, compile_sql(*r.value, ctx));
    std::vector<ProfileId> mem;
    for (ProfileId id : {1, 2, 3, 5})
        if (evaluate(*r.value, load_snapshot(*db_, id), ctx)) mem.push_back(id);
    EXPECT_EQ(ids, mem);

    // 1200 alternatives (more than SQLite's 500 compound terms).
    std::string wide = "traits.age == 0";
    for (int i = 1; i < 1200; ++i) wide += " or traits.age == " + std::to_string(i);
    r = parse_segment(wide);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(run_segment_sql(*db_, compile_sql(*r.value, ctx)), Ids({1}));
    std::string wide_and = "not traits.age == 0";
    for (int i = 1; i < 1200; ++i) wide_and += " and not traits.age == " + std::to_string(i);
    r = parse_segment(wide_and);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(run_segment_sql(*db_, compile_sql(*r.value, ctx)), Ids({2, 3, 5}));
}

}  // namespace
}  // namespace cdphub::segment

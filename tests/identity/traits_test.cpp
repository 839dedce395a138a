// Trait precedence with provenance, and its independence of arrival order.
#include <algorithm>
#include <random>

#include "identity/traits.hpp"
#include "identity_fixture.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;

TEST_F(IdentityTest, MostRecentWinsEvenWhenAnOlderValueArrivesLater) {
    ingest("crm", rec("1", {{"email", "a@b.io"}}, "2024-05-02T00:00:00Z", {{"city", "Berlin"}}));
    ingest("crm", rec("2", {{"email", "a@b.io"}}, "2024-05-01T00:00:00Z", {{"city", "Bonn"}}));
    auto p = *profile("email", "a@b.io");
    EXPECT_EQ(trait(p, "city"), "Berlin");
    auto d = details(p);
    ASSERT_EQ(d.traits.size(), 1u);
    EXPECT_EQ(d.traits[0].observation.source, "crm");
    EXPECT_EQ(d.traits[0].observation.observed_at, "2024-05-02T00:00:00.000Z");
    EXPECT_EQ(d.traits[0].record_id, "1");
}

TEST_F(IdentityTest, NullDoesNotEraseAValue) {
    ingest("crm", rec("1", {{"email", "a@b.io"}}, "2024-05-01T00:00:00Z", {{"plan", "pro"}}));
    ingest("crm", rec("2", {{"email", "a@b.io"}}, "2024-05-02T00:00:00Z", {{"plan", nullptr}}));
    EXPECT_EQ(trait(*profile("email", "a@b.io"), "plan"), "pro");
}

TEST_F(IdentityTest, EachStrategyPicksItsWinner) {
    auto rules = identity::Rules::defaults();
    set_trait_rule(rules, "signup", identity::TraitStrategy::first_seen);
    set_trait_rule(rules, "name", identity::TraitStrategy::source_priority, {"crm", "pos"});
    set_trait_rule(rules, "address", identity::TraitStrategy::most_filled);
    open(std::move(rules));
    ingest("web",
           rec("1", {{"email", "a@b.io"}}, "2024-05-03T00:00:00Z",
               {{"signup", "web"}, {"name", "annie"}, {"address", "Main St 1, Springfield"}}));
    ingest("pos", rec("2", {{"email", "a@b.io"}}, "2024-05-01T00:00:00Z",
                      {{"signup", "pos"}, {"name", "Ann S."}, {"address", "Main St"}}));
    ingest("crm", rec("3", {{"email", "a@b.io"}}, "2024-05-02T00:00:00Z",
                      {{"signup", "crm"}, {"name", "Ann Smith"}}));
    auto p = *profile("email", "a@b.io");
    EXPECT_EQ(trait(p, "signup"), "pos");      // earliest observation
    EXPECT_EQ(trait(p, "name"), "Ann Smith");  // crm ranks first
    EXPECT_EQ(trait(p, "address"), "Main St 1, Springfield");
}

TEST_F(IdentityTest, MergeKeepsTheWinnerOfBothProfilesPerTrait) {
    ingest("a",
           rec("1", {{"email", "a@b.io"}}, "2024-05-02T00:00:00Z", {{"tier", "gold"}, {"x", 1}}));
    ingest("b",
           rec("2", {{"phone", "+14155550123"}}, "2024-05-03T00:00:00Z", {{"tier", "silver"}}));
    ingest("c", rec("3", {{"email", "a@b.io"}, {"phone", "+14155550123"}}));
    auto p = *profile("email", "a@b.io");
    EXPECT_EQ(trait(p, "tier"), "silver");
    EXPECT_EQ(trait(p, "x"), 1);
    EXPECT_EQ(sql_int("SELECT count(*) FROM profile_traits"), 2);  // none left on the tombstone
}

TEST_F(IdentityTest, TraitValuesKeepTheirJsonKind) {
    ingest("crm", rec("1", {{"email", "a@b.io"}}, "2024-05-01T00:00:00Z",
                      {{"s", "5"},
                       {"n", 5},
                       {"f", 2.5},
                       {"b", true},
                       {"o", {{"k", 1}}},
                       {"a", json::array({1, 2})}}));
    auto p = *profile("email", "a@b.io");
    EXPECT_EQ(trait(p, "s"), "5");
    EXPECT_EQ(trait(p, "n"), 5);
    EXPECT_EQ(trait(p, "f"), 2.5);
    EXPECT_EQ(trait(p, "b"), true);
    EXPECT_EQ(trait(p, "o"), json({{"k", 1}}));
    EXPECT_EQ(trait(p, "a"), json::array({1, 2}));
    EXPECT_EQ(plain().execAndGet("SELECT kind FROM profile_traits WHERE name = 'b'").getString(),
              "boolean");
}

TEST(TraitPrecedence, FilledCountsContent) {
    EXPECT_EQ(identity::filled(""), 0u);
    EXPECT_EQ(identity::filled(nullptr), 0u);
    EXPECT_EQ(identity::filled("abc"), 3u);
    EXPECT_EQ(identity::filled(json{{"a", "xy"}}), 3u);
}

// For every strategy the stored winner is the same whatever order the records arrive in.
class ArrivalOrder : public IdentityTest, public ::testing::WithParamInterface<unsigned> {};

TEST_P(ArrivalOrder, DoesNotChangeTheResult) {
    auto run = [&](unsigned shuffle_seed) {
        TempDir dir;
        auto st = store::open_sqlite_store(dir.path() / "t.db");
        auto rules = identity::Rules::defaults();
        set_trait_rule(rules, "first", identity::TraitStrategy::first_seen);
        set_trait_rule(rules, "src", identity::TraitStrategy::source_priority, {"s2", "s0"});
        set_trait_rule(rules, "fill", identity::TraitStrategy::most_filled);
        identity::Resolver resolver(rules);
        pipeline::Ingestor ing(*st, normalizer_, resolver);
        std::vector<std::pair<std::string, json>> recs;
        std::mt19937 gen(GetParam());
        for (int i = 0; i < 60; ++i) {
            int person = static_cast<int>(gen() % 5);
            char at[32];
            std::snprintf(at, sizeof at, "2024-05-%02dT%02d:00:00Z", 1 + i % 28, i % 24);
            json traits = {{"recent", i},
                           {"first", i},
                           {"src", i},
                           {"fill", std::string(gen() % 9, 'x') + std::to_string(i)}};
            recs.push_back({"s" + std::to_string(gen() % 3),
                            rec("r" + std::to_string(i),
                                {{"email", "p" + std::to_string(person) + "@x.io"}}, at, traits)});
        }
        std::mt19937 shuf(shuffle_seed);
        std::shuffle(recs.begin(), recs.end(), shuf);
        for (auto& [src, r] : recs) ing.ingest(src, json::array({r}));
        std::map<std::string, json> out;
        for (int person = 0; person < 5; ++person) {
            auto p = st->find_profile("email", "p" + std::to_string(person) + "@x.io");
            if (!p) continue;
            auto d = st->profile_details(*p);
            for (const auto& t : d->traits)
                out["p" + std::to_string(person) + "." + t.name] = t.observation.value;
        }
        return out;
    };
    auto a = run(1), b = run(2), c = run(3);
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ArrivalOrder, ::testing::Values(7u, 42u, 1234u));

}  // namespace
}  // namespace cdphub::test

// identity.json: defaults without it, the struct with it, and each check with where it is reported
// (file, pointer, line, column) and what the admin reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::at;
using testing::dump;
using testing::one;
using testing::TempFolder;

using Pos = std::pair<int, int>;

Pos pos(const Diagnostic& d) {
    return {d.line, d.column};
}

struct Loaded {
    TempFolder dir;
    std::string file;
    ManifestSet set;
};

// A folder with connectors/crm-main.json and identity.json holding `text`.
std::unique_ptr<Loaded> load_identity(std::string_view text) {
    auto l = std::make_unique<Loaded>();
    l->dir.write("connectors/crm-main.json", R"({"id": "crm-main", "plugin": "p"})");
    l->file = l->dir.write("identity.json", text);
    l->set = load(l->dir.path());
    return l;
}

std::vector<std::string> types_of(const IdentityRules& r) {
    std::vector<std::string> out;
    for (const auto& i : r.identifiers) out.push_back(i.type);
    return out;
}

TEST(IdentityDefaults, ApplyWithoutIdentityJson) {
    TempFolder dir;
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "p"})");
    auto set = load(dir.path());
    ASSERT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    const auto& r = set.identity;
    EXPECT_TRUE(r.file.empty());
    EXPECT_EQ(r.locator, nullptr);
    EXPECT_EQ(types_of(r),
              (std::vector<std::string>{"user_id", "email", "phone", "crm_id", "pos_customer_id",
                                        "email_sha256", "phone_sha256", "anonymous_id"}));
    for (size_t i = 0; i < r.identifiers.size(); ++i) {
        EXPECT_EQ(r.identifiers[i].priority, static_cast<int>(i) + 1);
        EXPECT_EQ(r.identifiers[i].pointer, "");
    }
    EXPECT_TRUE(r.unique("user_id"));
    EXPECT_FALSE(r.unique("email"));
    EXPECT_EQ(r.limit("user_id"), 1);
    EXPECT_EQ(r.limit("email"), 5);
    EXPECT_EQ(r.limit("phone"), 5);
    EXPECT_EQ(r.limit("crm_id"), 1);
    EXPECT_EQ(r.limit("pos_customer_id"), 1);
    EXPECT_EQ(r.limit("email_sha256"), 5);
    EXPECT_EQ(r.limit("phone_sha256"), 5);
    EXPECT_EQ(r.limit("anonymous_id"), 10);
    EXPECT_EQ(r.default_limit, 5);
    EXPECT_EQ(r.limit("loyalty_card"), 5);
    EXPECT_EQ(r.default_trait_rule.strategy, TraitStrategy::most_recent);
    EXPECT_TRUE(r.trait_rules.empty());
    EXPECT_EQ(r.trait_rule("first_name").strategy, TraitStrategy::most_recent);
    ASSERT_EQ(r.blocked_values.size(), 1u);
    EXPECT_TRUE(r.blocked_values[0].case_insensitive);
    EXPECT_TRUE(r.blocked_values[0].types.empty());
    EXPECT_NE(r.blocked_values[0].regex, nullptr);
    EXPECT_FALSE(r.blocked_values[0].description.empty());
}

TEST(IdentityDefaults, ApplyEvenWhenTheFolderCannotBeRead) {
    TempFolder dir;
    auto set = load(dir.path() / "missing");
    EXPECT_TRUE(has_errors(set.diagnostics));
    EXPECT_EQ(set.identity.identifiers.size(), 8u);
    EXPECT_EQ(set.identity.blocked_values.size(), 1u);
}

TEST(IdentityDefaults, BlockPlaceholdersOnly) {
    auto r = IdentityRules::defaults();
    for (const char* v : {"null",
                          "NULL",
                          "Null",
                          "nil",
                          "none",
                          "undefined",
                          "anonymous",
                          "Unknown",
                          "n/a",
                          "N/A",
                          "na",
                          "NaN",
                          "-1",
                          "0",
                          "0000000",
                          "+000",
                          "(null)",
                          "[object Object]",
                          "test@test.com",
                          "TEST@TEST.COM",
                          "noemail@shop.de",
                          "no-email@x.org",
                          "no_mail@x.org",
                          "no@x.de",
                          "noreply@shop.de",
                          "no-reply@shop.de",
                          "donotreply@x.com",
                          "do-not-reply@x.com",
                          "none@x.de",
                          "ann@example.com",
                          "bo@example.org",
                          "carla@example.net",
                          "x@mail.example.com"}) {
        EXPECT_NE(r.blocked("email", v), nullptr) << v;
    }
    for (const char* v :
         {"ann@gmail.com", "42", "10", "+49301234567", "anna", "nullable", "nobody@shop.de",
          "ann@myexample.com", "ann@example.co.uk", "n/a2", "c-1001", "test@test.co"}) {
        EXPECT_EQ(r.blocked("email", v), nullptr) << v;
    }
}

TEST(IdentityDefaults, RankListedTypesByPriorityThenOthersByName) {
    auto r = IdentityRules::defaults();
    EXPECT_TRUE(r.ranks_before("user_id", "email"));
    EXPECT_FALSE(r.ranks_before("email", "user_id"));
    EXPECT_TRUE(r.ranks_before("anonymous_id", "aaa_custom"));  // listed before unlisted
    EXPECT_TRUE(r.ranks_before("aaa_custom", "loyalty_card"));  // unlisted: by name
    EXPECT_FALSE(r.ranks_before("email", "email"));
    std::vector<std::string> types = {"zeta", "anonymous_id", "email", "alpha", "user_id"};
    std::sort(types.begin(), types.end(),
              [&](const std::string& a, const std::string& b) { return r.ranks_before(a, b); });
    EXPECT_EQ(types,
              (std::vector<std::string>{"user_id", "email", "anonymous_id", "alpha", "zeta"}));
}

TEST(IdentityFormat, FullFileIsReadIntoTheStruct) {
    auto l = load_identity(R"({
  "$schema": "schema/identity.schema.json",
  "identifiers": [
    {"type": "email", "priority": 2, "limit": 3},
    {"type": "user_id", "priority": 1, "unique": true},
    {"type": "loyalty_card", "priority": 7}
  ],
  "default_limit": 4,
  "blocked_values": [
    {"pattern": "x+", "types": ["loyalty_card"], "case_insensitive": false, "description": "d"},
    {"pattern": "unknown"}
  ],
  "traits": {
    "default": "first_seen",
    "rules": {
      "first_name": {"strategy": "source_priority", "sources": ["crm-main"]},
      "address": "most_filled",
      "email_opt_in": {"strategy": "most_recent"}
    }
  }
})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& r = l->set.identity;
    EXPECT_EQ(r.file.string(), l->file);
    ASSERT_NE(r.locator, nullptr);
    EXPECT_EQ(r.locator->locate("/default_limit"), Pos(8, 20));
    // Sorted by priority; each keeps where it was written.
    EXPECT_EQ(types_of(r), (std::vector<std::string>{"user_id", "email", "loyalty_card"}));
    EXPECT_EQ(r.identifiers[0].pointer, "/identifiers/1");
    EXPECT_EQ(r.identifiers[0].limit, 1);
    EXPECT_TRUE(r.identifiers[0].unique);
    EXPECT_EQ(r.identifiers[1].limit, 3);
    EXPECT_EQ(r.identifiers[2].limit, 4);  // no limit: default_limit
    EXPECT_EQ(r.identifiers[2].priority, 7);
    EXPECT_EQ(r.default_limit, 4);
    EXPECT_EQ(r.limit("phone"), 4);  // not listed any more
    EXPECT_EQ(r.find("phone"), nullptr);

    ASSERT_EQ(r.blocked_values.size(), 2u);
    const auto& b = r.blocked_values[0];
    EXPECT_EQ(b.pattern, "x+");
    EXPECT_EQ(b.types, std::vector<std::string>{"loyalty_card"});
    EXPECT_FALSE(b.case_insensitive);
    EXPECT_EQ(b.description, "d");
    EXPECT_EQ(b.pointer, "/blocked_values/0");
    EXPECT_TRUE(b.blocks("loyalty_card", "xxx"));
    EXPECT_FALSE(b.blocks("loyalty_card", "XXX"));   // case-sensitive
    EXPECT_FALSE(b.blocks("loyalty_card", "xxxy"));  // whole value only
    EXPECT_FALSE(b.blocks("email", "xxx"));          // other types
    EXPECT_TRUE(r.blocked_values[1].case_insensitive);
    EXPECT_EQ(r.blocked("email", "UNKNOWN"), &r.blocked_values[1]);
    EXPECT_EQ(r.blocked("email", "null"), nullptr);  // the default list is replaced

    EXPECT_EQ(r.default_trait_rule.strategy, TraitStrategy::first_seen);
    ASSERT_EQ(r.trait_rules.size(), 3u);
    EXPECT_EQ(r.trait_rule("first_name").strategy, TraitStrategy::source_priority);
    EXPECT_EQ(r.trait_rule("first_name").sources, std::vector<std::string>{"crm-main"});
    EXPECT_EQ(r.trait_rule("address").strategy, TraitStrategy::most_filled);
    EXPECT_EQ(r.trait_rule("email_opt_in").strategy, TraitStrategy::most_recent);
    EXPECT_EQ(r.trait_rule("other").strategy, TraitStrategy::first_seen);
    EXPECT_EQ(to_string(TraitStrategy::source_priority), "source_priority");
}

TEST(IdentityFormat, EmptyObjectMeansDefaults) {
    auto l = load_identity("{}");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& r = l->set.identity;
    EXPECT_EQ(r.file.string(), l->file);
    EXPECT_EQ(r.identifiers.size(), 8u);
    EXPECT_EQ(r.blocked_values.size(), 1u);
    EXPECT_NE(r.blocked("email", "n/a"), nullptr);
}

TEST(IdentityFormat, OmittedIdentifiersKeepTheDefaultListWithItsLimits) {
    auto l = load_identity(R"({"default_limit": 2})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& r = l->set.identity;
    EXPECT_EQ(r.identifiers.size(), 8u);
    EXPECT_EQ(r.limit("email"), 5);
    EXPECT_EQ(r.limit("anonymous_id"), 10);
    EXPECT_EQ(r.limit("loyalty_card"), 2);
}

TEST(IdentityFormat, ListedTypesAloneAreRanked) {
    auto l = load_identity(R"({"identifiers": [{"type": "email", "priority": 1}]})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& r = l->set.identity;
    EXPECT_EQ(types_of(r), std::vector<std::string>{"email"});
    EXPECT_FALSE(r.unique("user_id"));
    EXPECT_EQ(r.limit("user_id"), 5);
    EXPECT_TRUE(r.ranks_before("email", "anonymous_id"));
    EXPECT_TRUE(r.ranks_before("anonymous_id", "user_id"));
}

TEST(IdentityFormat, EmptyBlockedListBlocksNothing) {
    auto l = load_identity(R"({"blocked_values": []})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    EXPECT_TRUE(l->set.identity.blocked_values.empty());
    EXPECT_EQ(l->set.identity.blocked("email", "null"), nullptr);
}

TEST(IdentityFormat, PriorityGivenTwiceIsAnError) {
    auto l = load_identity(R"({
  "identifiers": [
    {"type": "email", "priority": 2},
    {"type": "phone", "priority": 2}
  ]
})");
    auto d = one(l->set.diagnostics, l->file, "/identifiers/1/priority");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "priority 2 is also given to 'email' (/identifiers/0)");
    EXPECT_EQ(d.expected, "a priority no other listed type has");
    EXPECT_EQ(d.found, "integer 2");
    EXPECT_EQ(pos(d), Pos(4, 35));
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
}

TEST(IdentityFormat, TypeListedTwiceIsAnError) {
    auto l = load_identity(R"({
  "identifiers": [
    {"type": "email", "priority": 1},
    {"type": "email", "priority": 2}
  ]
})");
    auto d = one(l->set.diagnostics, l->file, "/identifiers/1/type");
    EXPECT_EQ(d.message, "identifier type 'email' is listed twice");
    EXPECT_EQ(d.hint, "it is also at /identifiers/0; list each type once");
    EXPECT_EQ(pos(d), Pos(4, 14));
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
    EXPECT_EQ(l->set.identity.identifiers.size(), 1u);
}

TEST(IdentityFormat, UniqueTypeWithALimitOtherThanOneIsAnError) {
    auto l = load_identity(R"({
  "identifiers": [
    {"type": "user_id", "priority": 1, "unique": true, "limit": 3},
    {"type": "member_no", "priority": 2, "unique": true, "limit": 1}
  ]
})");
    auto d = one(l->set.diagnostics, l->file, "/identifiers/0/limit");
    EXPECT_TRUE(d.is_error());
    EXPECT_NE(d.message.find("unique identifier type holds one value"), std::string::npos);
    EXPECT_EQ(d.expected, "1, or no limit");
    EXPECT_EQ(d.found, "integer 3");
    EXPECT_NE(d.hint.find("remove \"limit\""), std::string::npos) << d.hint;
    EXPECT_EQ(pos(d), Pos(3, 65));
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);  // limit 1 is fine
    EXPECT_EQ(l->set.identity.limit("user_id"), 1);
}

TEST(IdentityFormat, RegexThatDoesNotCompileIsReportedAtThePattern) {
    auto l = load_identity(R"({
  "blocked_values": [
    {"pattern": "(unknown|n/a", "types": ["email"]},
    {"pattern": "[z-a]"},
    {"pattern": "*x"},
    {"pattern": "ok"}
  ]
})");
    auto paren = one(l->set.diagnostics, l->file, "/blocked_values/0/pattern");
    EXPECT_TRUE(paren.is_error());
    EXPECT_EQ(paren.message, "invalid regular expression: unmatched '(' or ')'");
    EXPECT_EQ(paren.expected, "an ECMAScript regular expression");
    EXPECT_EQ(paren.found, "string \"(unknown|n/a\"");
    EXPECT_EQ(pos(paren), Pos(3, 17));
    auto range = one(l->set.diagnostics, l->file, "/blocked_values/1/pattern");
    EXPECT_NE(range.message.find("invalid regular expression"), std::string::npos);
    EXPECT_EQ(pos(range), Pos(4, 17));
    auto repeat = one(l->set.diagnostics, l->file, "/blocked_values/2/pattern");
    EXPECT_NE(repeat.message.find("invalid regular expression"), std::string::npos);
    EXPECT_EQ(l->set.diagnostics.size(), 3u) << dump(l->set.diagnostics);
    // The good one is still loaded.
    ASSERT_EQ(l->set.identity.blocked_values.size(), 1u);
    EXPECT_EQ(l->set.identity.blocked_values[0].pattern, "ok");
}

TEST(IdentityFormat, PatternThatBlocksEverythingIsAWarning) {
    auto l = load_identity(R"({"blocked_values": [{"pattern": ".*"}]})");
    auto d = one(l->set.diagnostics, l->file, "/blocked_values/0/pattern");
    EXPECT_FALSE(d.is_error());
    EXPECT_EQ(d.message, "the pattern blocks ordinary values too");
    EXPECT_EQ(pos(d), Pos(1, 33));
}

TEST(IdentityFormat, PatternsMatchTheWholeValueIgnoringCase) {
    auto l =
        load_identity(R"({"blocked_values": [{"pattern": "no-?reply@.*|unknown|a|ab|über"}]})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& r = l->set.identity;
    ASSERT_EQ(r.blocked_values.size(), 1u);
    EXPECT_EQ(r.blocked_values[0].regex->engine(), PatternMatcher::Engine::re2);
    for (const char* v : {"noreply@shop.de", "NoReply@Shop.DE", "no-reply@x", "UNKNOWN", "Unknown",
                          "A", "ab",  // "a" comes first in the alternation, yet "ab" matches whole
                          "ÜBER"}) {  // case folding is not limited to ASCII
        EXPECT_NE(r.blocked("email", v), nullptr) << v;
    }
    // Each of these contains a match, but the pattern does not match the whole of it.
    for (const char* v : {"unknown2", "the unknown", "unknown@shop.de", "x-noreply@shop.de", "abc",
                          "ba", "übermorgen"}) {
        EXPECT_EQ(r.blocked("email", v), nullptr) << v;
    }
}

TEST(IdentityFormat, LookaheadAndBackreferencesStillBlockWithAWarning) {
    auto l = load_identity(R"json({
  "blocked_values": [
    {"pattern": "(?=.*@)nobody.*"},
    {"pattern": "(a)\\1", "types": ["crm_id"]}
  ]
})json");
    auto ahead = one(l->set.diagnostics, l->file, "/blocked_values/0/pattern");
    EXPECT_FALSE(ahead.is_error());
    EXPECT_EQ(ahead.message,
              "the pattern uses features the fast matcher lacks and is matched with the slower "
              "engine");
    EXPECT_EQ(ahead.found, "string \"(?=.*@)nobody.*\"");
    EXPECT_NE(ahead.hint.find("RE2 says \"invalid perl operator: (?=\""), std::string::npos)
        << ahead.hint;
    EXPECT_EQ(pos(ahead), Pos(3, 17));
    auto backref = one(l->set.diagnostics, l->file, "/blocked_values/1/pattern");
    EXPECT_FALSE(backref.is_error());
    EXPECT_EQ(backref.message, ahead.message);
    EXPECT_EQ(l->set.diagnostics.size(), 2u) << dump(l->set.diagnostics);

    const auto& r = l->set.identity;
    ASSERT_EQ(r.blocked_values.size(), 2u);
    for (const auto& b : r.blocked_values) {
        ASSERT_NE(b.regex, nullptr);
        EXPECT_EQ(b.regex->engine(), PatternMatcher::Engine::ecmascript);
        EXPECT_FALSE(b.regex->re2_error().empty());
    }
    // Still a full, case-insensitive match.
    EXPECT_EQ(r.blocked("email", "nobody@shop.de"), &r.blocked_values[0]);
    EXPECT_EQ(r.blocked("email", "NoBody@Shop.de"), &r.blocked_values[0]);
    EXPECT_EQ(r.blocked("email", "nobody"), nullptr);  // the lookahead wants an '@'
    EXPECT_EQ(r.blocked("email", "anna.nobody@shop.de"), nullptr);
    EXPECT_EQ(r.blocked("crm_id", "aa"), &r.blocked_values[1]);
    EXPECT_EQ(r.blocked("crm_id", "AA"), &r.blocked_values[1]);
    EXPECT_EQ(r.blocked("crm_id", "ab"), nullptr);
    EXPECT_EQ(r.blocked("crm_id", "aaa"), nullptr);
}

TEST(IdentityFormat, PatternNeitherEngineCompilesIsStillAnError) {
    // RE2 refuses all three; std::regex too: no such group, an unclosed lookahead, lookbehind.
    auto l = load_identity(R"json({
  "blocked_values": [
    {"pattern": "(a)\\2"},
    {"pattern": "(?=x"},
    {"pattern": "(?<!x)y"}
  ]
})json");
    auto backref = one(l->set.diagnostics, l->file, "/blocked_values/0/pattern");
    EXPECT_TRUE(backref.is_error());
    EXPECT_EQ(backref.message,
              "invalid regular expression: back-reference to a group that does not exist");
    EXPECT_EQ(backref.expected, "an ECMAScript regular expression");
    for (const char* p : {"/blocked_values/1/pattern", "/blocked_values/2/pattern"}) {
        auto d = one(l->set.diagnostics, l->file, p);
        EXPECT_TRUE(d.is_error()) << p;
        EXPECT_NE(d.message.find("invalid regular expression"), std::string::npos) << p;
    }
    EXPECT_EQ(l->set.diagnostics.size(), 3u) << dump(l->set.diagnostics);
    EXPECT_TRUE(l->set.identity.blocked_values.empty());
}

TEST(PatternMatcher, PicksTheEngine) {
    // The default pattern is on every import's path: it must stay on the fast engine.
    EXPECT_EQ(IdentityRules::defaults().blocked_values[0].regex->engine(),
              PatternMatcher::Engine::re2);
    auto fast = PatternMatcher::compile("x+", false);
    EXPECT_EQ(fast->engine(), PatternMatcher::Engine::re2);
    EXPECT_EQ(fast->re2_error(), "");
    EXPECT_TRUE(fast->full_match("xx"));
    EXPECT_FALSE(fast->full_match("XX"));
    EXPECT_FALSE(fast->full_match("xx\n"));
    auto slow = PatternMatcher::compile("(x)\\1", false);
    EXPECT_EQ(slow->engine(), PatternMatcher::Engine::ecmascript);
    EXPECT_EQ(slow->re2_error(), "invalid escape sequence: \\1");
    EXPECT_TRUE(slow->full_match("xx"));
    EXPECT_FALSE(slow->full_match("XX"));
    EXPECT_THROW(PatternMatcher::compile("(x", true), std::regex_error);
}

TEST(IdentityFormat, MisspeltTypeInBlockedValuesIsAWarning) {
    auto l =
        load_identity(R"({"blocked_values": [{"pattern": "x", "types": ["emial", "loyalty"]}]})");
    auto d = one(l->set.diagnostics, l->file, "/blocked_values/0/types/0");
    EXPECT_FALSE(d.is_error());
    EXPECT_EQ(d.hint, "did you mean 'email'?");
    EXPECT_EQ(pos(d), Pos(1, 48));
    // A custom type far from any known one is fine.
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
}

TEST(IdentityFormat, SourcePriorityNeedsSources) {
    auto l = load_identity(R"({
  "traits": {
    "rules": {
      "first_name": {"strategy": "source_priority"}
    }
  }
})");
    auto d = one(l->set.diagnostics, l->file, "/traits/rules/first_name/sources");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "missing required key 'sources'");
    EXPECT_NE(d.expected.find("connector instance ids"), std::string::npos) << d.expected;
    EXPECT_EQ(pos(d), Pos(4, 21));  // the object that should hold it
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
}

TEST(IdentityFormat, SourcePriorityAsAPlainStringIsRefused) {
    auto l = load_identity(R"({"traits": {"default": "source_priority"}})");
    auto d = one(l->set.diagnostics, l->file, "/traits/default");
    EXPECT_TRUE(d.is_error());
    EXPECT_NE(d.expected.find("an object like {\"strategy\": \"source_priority\""),
              std::string::npos)
        << d.expected;
    EXPECT_EQ(d.found, "string \"source_priority\"");
    EXPECT_EQ(pos(d), Pos(1, 24));
}

TEST(IdentityFormat, UnknownSourceIsAWarningWithTheKnownInstances) {
    auto l = load_identity(R"({
  "traits": {
    "default": {"strategy": "source_priority",
                "sources": ["crm-mian", "ingest-api"]}
  }
})");
    auto near = one(l->set.diagnostics, l->file, "/traits/default/sources/0");
    EXPECT_FALSE(near.is_error());
    EXPECT_EQ(near.message, "'crm-mian' is not a connector instance in connectors/");
    EXPECT_EQ(near.expected, "one of: crm-main");
    EXPECT_EQ(near.found, "string \"crm-mian\"");
    EXPECT_TRUE(near.hint.starts_with("did you mean 'crm-main'?")) << near.hint;
    EXPECT_NE(near.hint.find("ingest API"), std::string::npos) << near.hint;
    EXPECT_EQ(pos(near), Pos(4, 29));
    auto far = one(l->set.diagnostics, l->file, "/traits/default/sources/1");
    EXPECT_FALSE(far.is_error());
    EXPECT_EQ(far.hint.find("did you mean"), std::string::npos) << far.hint;
    EXPECT_EQ(pos(far), Pos(4, 41));
    EXPECT_FALSE(has_errors(l->set.diagnostics)) << dump(l->set.diagnostics);
    // Warnings only: the rule applies as written.
    EXPECT_EQ(l->set.identity.default_trait_rule.sources,
              (std::vector<std::string>{"crm-mian", "ingest-api"}));
}

TEST(IdentityFormat, SourcesWithAnotherStrategyAreIgnoredWithAWarning) {
    auto l = load_identity(
        R"({"traits": {"rules": {"city": {"strategy": "most_recent", "sources": ["crm-main"]}}}})");
    auto d = one(l->set.diagnostics, l->file, "/traits/rules/city/sources");
    EXPECT_FALSE(d.is_error());
    EXPECT_NE(d.message.find("only with the source_priority strategy"), std::string::npos);
    EXPECT_EQ(pos(d), Pos(1, 59));  // the key
    EXPECT_TRUE(l->set.identity.trait_rule("city").sources.empty());
}

TEST(IdentityFormat, SchemaProblemsSayWhatWasExpected) {
    auto l = load_identity(R"({
  "identifers": [],
  "default_limit": 0,
  "identifiers": [{"type": "E-mail", "priority": 0}, {"priority": 3}],
  "traits": {"default": "latest"}
})");
    auto unknown = one(l->set.diagnostics, l->file, "/identifers");
    EXPECT_EQ(unknown.message, "unknown key 'identifers'");
    EXPECT_EQ(unknown.hint, "did you mean 'identifiers'?");
    EXPECT_EQ(pos(unknown), Pos(2, 3));
    auto limit = one(l->set.diagnostics, l->file, "/default_limit");
    EXPECT_EQ(limit.message, "too small");
    EXPECT_EQ(limit.expected, "at least 1");
    EXPECT_EQ(pos(limit), Pos(3, 20));
    auto type = one(l->set.diagnostics, l->file, "/identifiers/0/type");
    EXPECT_EQ(type.message, "invalid format");
    EXPECT_NE(type.expected.find("an identifier type"), std::string::npos);
    EXPECT_EQ(pos(type), Pos(4, 28));
    auto priority = one(l->set.diagnostics, l->file, "/identifiers/0/priority");
    EXPECT_EQ(priority.message, "too small");
    auto missing = one(l->set.diagnostics, l->file, "/identifiers/1/type");
    EXPECT_EQ(missing.message, "missing required key 'type'");
    EXPECT_EQ(pos(missing), Pos(4, 54));
    auto strategy = one(l->set.diagnostics, l->file, "/traits/default");
    EXPECT_EQ(strategy.found, "string \"latest\"");
    EXPECT_EQ(pos(strategy), Pos(5, 25));
    EXPECT_EQ(l->set.diagnostics.size(), 6u) << dump(l->set.diagnostics);
}

TEST(IdentityFormat, DuplicateKeysAndInvalidJsonAreReported) {
    auto dup = load_identity("{\"default_limit\": 3,\n \"default_limit\": 4}");
    auto d = one(dup->set.diagnostics, dup->file, "/default_limit");
    EXPECT_NE(d.message.find("appears more than once"), std::string::npos);
    EXPECT_EQ(pos(d), Pos(2, 2));

    auto bad = load_identity("{\"default_limit\": 3,}");
    auto syntax = one(bad->set.diagnostics, bad->file, "");
    EXPECT_NE(syntax.message.find("trailing comma"), std::string::npos) << syntax.message;
    // The rules in force stay the defaults.
    EXPECT_EQ(bad->set.identity.identifiers.size(), 8u);
    EXPECT_EQ(bad->set.identity.default_limit, 5);
}

}  // namespace
}  // namespace cdphub::manifest

// traits/, segments/ and activations/: the structs, the format checks, names unique across files,
// and the references from activations to segments, connectors and computed traits.
#include <gtest/gtest.h>

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

// A valid folder: a source, an enabled destination, a disabled one; two computed traits, two
// segments (one disabled), one activation.
void write_valid(const TempFolder& dir) {
    dir.write("connectors/crm-main.json", R"({"id": "crm-main", "plugin": "crm-salesforce"})");
    dir.write("connectors/esp-newsletter.json", R"({"id": "esp-newsletter", "plugin": "esp"})");
    dir.write("connectors/old-esp.json", R"({"id": "old-esp", "plugin": "esp", "enabled": false})");
    dir.write("traits/ltv.json", R"j({
  "name": "ltv",
  "description": "Lifetime value in EUR cents",
  "expression": ["sum(orders.total_minor", "    where currency == \"EUR\")"]
})j");
    dir.write("traits/orders_90d.json",
              R"j({"name": "orders_90d", "expression": "count(orders within 90d)"})j");
    dir.write("segments/german.json", R"({
  "$schema": "../schema/segment.schema.json",
  "name": "german_customers",
  "description": "Country is Germany",
  "expression": "traits.country == \"DE\""
})");
    dir.write("segments/vip.json", R"({
  "name": "vip",
  "enabled": false,
  "expression": ["computed.ltv >= 100000", "and computed.orders_90d >= 2"]
})");
    dir.write("activations/newsletter.json", R"({
  "name": "german_newsletter",
  "description": "German customers to the newsletter",
  "segment": "german_customers",
  "destination": "esp-newsletter",
  "purpose": "email_marketing",
  "mapping": {
    "email": "identifiers.email",
    "FNAME": "traits.first_name",
    "ltv": "computed.ltv",
    "opt_in": "consent.email_marketing"
  },
  "schedule": {"every": "15m"},
  "realtime": true
})");
}

TEST(ProfileFolder, ValidFolderIsReadIntoTheStructs) {
    TempFolder dir;
    write_valid(dir);
    auto set = load(dir.path());
    ASSERT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);

    ASSERT_EQ(set.computed_traits.size(), 2u);
    const auto& ltv = set.computed_traits[0];  // file-name order
    EXPECT_EQ(ltv.name, "ltv");
    EXPECT_EQ(ltv.file.string(), dir.file("traits/ltv.json"));
    EXPECT_EQ(ltv.description, "Lifetime value in EUR cents");
    EXPECT_TRUE(ltv.expression.is_array);
    EXPECT_EQ(ltv.expression.text, "sum(orders.total_minor\n    where currency == \"EUR\")");
    ASSERT_EQ(ltv.expression.lines.size(), 2u);
    EXPECT_EQ(ltv.expression.lines[1], "    where currency == \"EUR\")");
    EXPECT_EQ(ltv.expression.pointer, "/expression");
    ASSERT_NE(ltv.locator, nullptr);
    EXPECT_EQ(ltv.locator->locate("/expression/1"), Pos(4, 44));
    EXPECT_EQ(set.computed_traits[1].name, "orders_90d");
    EXPECT_FALSE(set.computed_traits[1].expression.is_array);
    EXPECT_EQ(set.computed_traits[1].expression.text, "count(orders within 90d)");

    ASSERT_EQ(set.segments.size(), 2u);
    const auto& german = set.segments[0];
    EXPECT_EQ(german.name, "german_customers");
    EXPECT_EQ(german.expression.text, "traits.country == \"DE\"");
    EXPECT_EQ(german.expression.lines, std::vector<std::string>{"traits.country == \"DE\""});
    EXPECT_TRUE(german.enabled);
    EXPECT_EQ(german.description, "Country is Germany");
    EXPECT_FALSE(set.segments[1].enabled);
    EXPECT_EQ(set.segments[1].expression.text,
              "computed.ltv >= 100000\nand computed.orders_90d >= 2");

    ASSERT_EQ(set.activations.size(), 1u);
    const auto& a = set.activations[0];
    EXPECT_EQ(a.name, "german_newsletter");
    EXPECT_EQ(a.segment, "german_customers");
    EXPECT_EQ(a.destination, "esp-newsletter");
    EXPECT_TRUE(a.enabled);
    EXPECT_EQ(a.purpose, "email_marketing");
    EXPECT_EQ(a.mapping.size(), 4u);
    EXPECT_EQ(a.mapping.at("FNAME"), "traits.first_name");
    EXPECT_EQ(a.mapping.at("ltv"), "computed.ltv");
    EXPECT_EQ(a.schedule.kind, Schedule::Kind::interval);
    EXPECT_EQ(a.schedule.every, std::chrono::minutes(15));
    EXPECT_TRUE(a.realtime);
    ASSERT_NE(a.locator, nullptr);

    EXPECT_EQ(set.find_segment("vip"), &set.segments[1]);
    EXPECT_EQ(set.find_computed_trait("orders_90d"), &set.computed_traits[1]);
    EXPECT_EQ(set.find_activation("german_newsletter"), &set.activations[0]);
    EXPECT_EQ(set.find_segment("nope"), nullptr);
}

TEST(ProfileFolder, DefaultsWhenOnlyRequiredKeysAreGiven) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    dir.write("segments/s.json", R"({"name": "s", "expression": "traits.a == 1"})");
    dir.write("activations/a.json",
              R"({"name": "a", "segment": "s", "destination": "d", "mapping": {"x": "traits.a"}})");
    auto set = load(dir.path());
    ASSERT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    EXPECT_TRUE(set.segments.at(0).enabled);
    EXPECT_EQ(set.segments.at(0).description, "");
    const auto& a = set.activations.at(0);
    EXPECT_TRUE(a.enabled);
    EXPECT_FALSE(a.purpose.has_value());
    EXPECT_EQ(a.schedule.kind, Schedule::Kind::manual);
    EXPECT_EQ(a.description, "");
}

TEST(ProfileFolder, FoldersAreOptional) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    auto set = load(dir.path());
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    EXPECT_TRUE(set.computed_traits.empty() && set.segments.empty() && set.activations.empty());
}

struct KindCase {
    const char* folder;
    const char* noun;
    const char* first;
    const char* second;  // declares the same name as `first`, on line 3
};

class DuplicateNames : public ::testing::TestWithParam<KindCase> {};

TEST_P(DuplicateNames, SecondFileIsReportedWithTheFirstOneNamed) {
    const auto& k = GetParam();
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    dir.write("segments/0.json", R"({"name": "base", "expression": "traits.a == 1"})");
    auto first = dir.write(std::string(k.folder) + "/a.json", k.first);
    auto second = dir.write(std::string(k.folder) + "/b.json", k.second);
    auto set = load(dir.path());
    auto d = one(set.diagnostics, second, "/name");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, std::string(k.noun) + " name 'dup' is also used by " + first);
    EXPECT_NE(d.hint.find("must be unique"), std::string::npos) << d.hint;
    EXPECT_EQ(pos(d), Pos(3, 11));
    EXPECT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    size_t kept = std::string(k.folder) == "traits"     ? set.computed_traits.size()
                  : std::string(k.folder) == "segments" ? set.segments.size() - 1
                                                        : set.activations.size();
    EXPECT_EQ(kept, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, DuplicateNames,
    ::testing::Values(
        KindCase{"traits", "computed trait", R"j({"name": "dup", "expression": "count(orders)"})j",
                 "{\n  \"expression\": \"count(orders)\",\n  \"name\": \"dup\"\n}"},
        KindCase{"segments", "segment", R"({"name": "dup", "expression": "traits.a == 1"})",
                 "{\n  \"expression\": \"traits.b == 1\",\n  \"name\": \"dup\"\n}"},
        KindCase{
            "activations", "activation",
            R"({"name": "dup", "segment": "base", "destination": "d", "mapping": {"x": "traits.a"}})",
            "{\n  \"segment\": \"base\", \"destination\": \"d\", \"mapping\": {\"y\": "
            "\"traits.b\"},\n  \"name\": \"dup\"\n}"}));

TEST(ProfileFolder, ActivationNamingAnUnknownSegmentGetsDidYouMean) {
    TempFolder dir;
    write_valid(dir);
    auto file = dir.write("activations/typo.json", R"({
  "name": "typo",
  "segment": "german_customer",
  "destination": "esp-newsletter",
  "mapping": {"email": "identifiers.email"}
})");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "/segment");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "unknown segment 'german_customer'");
    EXPECT_EQ(d.expected, "one of: german_customers, vip");
    EXPECT_EQ(d.found, "string \"german_customer\"");
    EXPECT_EQ(d.hint, "did you mean 'german_customers'?");
    EXPECT_EQ(pos(d), Pos(3, 14));
    EXPECT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
}

TEST(ProfileFolder, ActivationNamingAnUnknownDestinationListsTheInstances) {
    TempFolder dir;
    write_valid(dir);
    auto file = dir.write("activations/x.json", R"({
  "name": "x",
  "segment": "german_customers",
  "destination": "mailchimp",
  "mapping": {"email": "identifiers.email"}
})");
    auto near = dir.write("activations/y.json", R"({
  "name": "y",
  "segment": "german_customers",
  "destination": "esp-newsleter",
  "mapping": {"email": "identifiers.email"}
})");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "/destination");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "unknown connector instance 'mailchimp'");
    EXPECT_EQ(d.expected, "one of: crm-main, esp-newsletter, old-esp");
    EXPECT_EQ(d.found, "string \"mailchimp\"");
    EXPECT_NE(d.hint.find("define it in connectors/"), std::string::npos) << d.hint;
    EXPECT_EQ(pos(d), Pos(4, 18));
    EXPECT_EQ(one(set.diagnostics, near, "/destination").hint, "did you mean 'esp-newsletter'?");
    EXPECT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
}

TEST(ProfileFolder, NoSegmentsOrConnectorsAtAllSaysSo) {
    TempFolder dir;
    auto file = dir.write(
        "activations/a.json",
        R"({"name": "a", "segment": "s", "destination": "d", "mapping": {"x": "traits.a"}})");
    auto set = load(dir.path());
    auto segment = one(set.diagnostics, file, "/segment");
    EXPECT_EQ(segment.expected, "a segment defined in segments/ (none is)");
    auto destination = one(set.diagnostics, file, "/destination");
    EXPECT_EQ(destination.expected, "a connector instance defined in connectors/ (none is)");
}

TEST(ProfileFolder, ReferencesToFilesWithOtherProblemsAreNotReportedAsUnknown) {
    TempFolder dir;
    // The segment's expression and the connector's config are wrong, but their names are fine:
    // only those problems are reported, not the activation's references.
    auto segment = dir.write("segments/s.json", R"({"name": "s", "expression": 42})");
    auto connector = dir.write("connectors/d.json", R"({"id": "d", "plugin": "p", "config": 1})");
    dir.write("activations/a.json",
              R"({"name": "a", "segment": "s", "destination": "d", "mapping": {"x": "traits.a"}})");
    auto set = load(dir.path());
    EXPECT_EQ(one(set.diagnostics, segment, "/expression").message, "wrong type");
    EXPECT_EQ(one(set.diagnostics, connector, "/config").message, "wrong type");
    EXPECT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
    EXPECT_TRUE(set.segments.empty());
    EXPECT_EQ(set.activations.size(), 1u);
}

TEST(ProfileFolder, MisspeltIdentifierTypeInAMappingIsAWarning) {
    TempFolder dir;
    write_valid(dir);
    auto file = dir.write("activations/x.json", R"({
  "name": "x",
  "segment": "vip",
  "destination": "esp-newsletter",
  "enabled": false,
  "mapping": {
    "value": "computed.lvt",
    "orders": "computed.orders_90d",
    "mail": "identifiers.emial",
    "card": "identifiers.loyalty_card"
  }
})");
    auto set = load(dir.path());
    auto mail = one(set.diagnostics, file, "/mapping/mail");
    EXPECT_FALSE(mail.is_error());
    EXPECT_EQ(mail.message,
              "identifier type 'emial' is neither listed in identity.json nor one the hub knows");
    EXPECT_EQ(mail.found, "string \"identifiers.emial\"");
    EXPECT_EQ(mail.hint, "did you mean 'identifiers.email'?");
    EXPECT_EQ(pos(mail), Pos(9, 13));
    // A custom identifier type, and a disabled activation of a disabled segment: nothing to say.
    // computed.<name> is left to the expression checker (validate_expressions), which knows the
    // computed traits.
    EXPECT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
}

TEST(ProfileFolder, DisabledSegmentOrDestinationOfAnEnabledActivationIsAWarning) {
    TempFolder dir;
    write_valid(dir);
    auto file = dir.write("activations/x.json", R"({
  "name": "x",
  "segment": "vip",
  "destination": "old-esp",
  "mapping": {"email": "identifiers.email"}
})");
    auto set = load(dir.path());
    auto segment = one(set.diagnostics, file, "/segment");
    EXPECT_FALSE(segment.is_error());
    EXPECT_EQ(segment.message, "segment 'vip' is disabled");
    EXPECT_EQ(pos(segment), Pos(3, 14));
    auto destination = one(set.diagnostics, file, "/destination");
    EXPECT_FALSE(destination.is_error());
    EXPECT_EQ(destination.message, "connector instance 'old-esp' is disabled");
    EXPECT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
}

TEST(ProfileFolder, FormatProblemsSayWhatWasExpected) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    auto seg = dir.write("segments/s.json", R"({
  "name": "Big Spenders",
  "expresion": "x",
  "enabled": "yes"
})");
    auto trait = dir.write("traits/t.json", R"({"name": "t", "expression": []})");
    auto blank = dir.write("traits/u.json", R"({"name": "u", "expression": ["  ", ""]})");
    auto act = dir.write("activations/a.json", R"({
  "name": "a",
  "segment": "s",
  "destination": "d",
  "mapping": {},
  "schedule": "hourly",
  "purpose": ""
})");
    auto set = load(dir.path());
    auto name = one(set.diagnostics, seg, "/name");
    EXPECT_EQ(name.message, "invalid format");
    EXPECT_EQ(name.expected, "1 to 64 characters among a-z, 0-9 and '_', starting with a letter");
    EXPECT_EQ(pos(name), Pos(2, 11));
    auto unknown = one(set.diagnostics, seg, "/expresion");
    EXPECT_EQ(unknown.hint, "did you mean 'expression'?");
    EXPECT_EQ(pos(unknown), Pos(3, 3));
    auto missing = one(set.diagnostics, seg, "/expression");
    EXPECT_EQ(missing.message, "missing required key 'expression'");
    EXPECT_EQ(missing.expected, "an expression: a string, or an array of strings (one per line)");
    EXPECT_EQ(pos(missing), Pos(1, 1));
    auto enabled = one(set.diagnostics, seg, "/enabled");
    EXPECT_EQ(enabled.expected, "boolean");

    auto empty = one(set.diagnostics, trait, "/expression");
    EXPECT_EQ(empty.message, "too few items");
    EXPECT_EQ(pos(empty), Pos(1, 29));
    auto spaces = one(set.diagnostics, blank, "/expression");
    EXPECT_EQ(spaces.message, "the expression is empty");
    EXPECT_EQ(pos(spaces), Pos(1, 29));
    EXPECT_TRUE(set.computed_traits.empty());

    auto mapping = one(set.diagnostics, act, "/mapping");
    EXPECT_EQ(mapping.message, "too few keys");
    EXPECT_EQ(pos(mapping), Pos(5, 14));
    auto schedule = one(set.diagnostics, act, "/schedule");
    EXPECT_EQ(schedule.expected, "\"manual\" or an object like {\"every\": \"15m\"}");
    auto purpose = one(set.diagnostics, act, "/purpose");
    EXPECT_EQ(purpose.message, "too short");
    EXPECT_TRUE(set.activations.empty());  // no usable mapping
    EXPECT_EQ(set.diagnostics.size(), 9u) << dump(set.diagnostics);
}

TEST(ProfileFolder, EmptyDestinationFieldNameIsAnError) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    dir.write("segments/s.json", R"({"name": "s", "expression": "traits.a == 1"})");
    auto file = dir.write("activations/a.json",
                          R"({"name": "a", "segment": "s", "destination": "d",
 "mapping": {"": "traits.a", "a/b": "traits.b"}})");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "/mapping/");
    EXPECT_EQ(d.message, "empty destination field name");
    EXPECT_EQ(pos(d), Pos(2, 14));
    EXPECT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
}

TEST(ProfileFolder, OtherFilesInTheFoldersAreSkippedWithAWarning) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    dir.write("segments/s.json", R"({"name": "s", "expression": "traits.a == 1"})");
    dir.write("segments/notes.md", "# notes");
    dir.write("segments/.s.json.swp", "junk");
    dir.write("segments/old/t.json", R"({"name": "t", "expression": "traits.a == 1"})");
    auto set = load(dir.path());
    ASSERT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
    EXPECT_FALSE(has_errors(set.diagnostics));
    EXPECT_EQ(set.diagnostics[0].file, dir.file("segments/notes.md"));
    EXPECT_EQ(set.diagnostics[0].message, "ignored: only .json files are read in segments/");
    EXPECT_EQ(set.diagnostics[1].file, dir.file("segments/old"));
    EXPECT_EQ(set.segments.size(), 1u);
}

TEST(ProfileFolder, AFileInPlaceOfAFolderIsAnError) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    auto file = dir.write("traits", "{}");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "traits is not a folder");
}

TEST(ProfileFolder, NearMissesAtTheTopOfTheFolderAreWarnings) {
    TempFolder dir;
    dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})");
    dir.write("segment/s.json", R"({"name": "s", "expression": "traits.a == 1"})");
    dir.write("identity.jsn", "{}");
    dir.write("README.md", "# manifests");
    dir.write("secrets/key", "value");
    dir.write("schemas/x.json", "{}");
    auto set = load(dir.path());
    auto segment = one(set.diagnostics, dir.file("segment"), "");
    EXPECT_FALSE(segment.is_error());
    EXPECT_EQ(segment.message, "ignored: the hub does not read 'segment'");
    EXPECT_EQ(segment.hint, "did you mean 'segments'?");
    EXPECT_EQ(one(set.diagnostics, dir.file("identity.jsn"), "").hint,
              "did you mean 'identity.json'?");
    EXPECT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
}

TEST(ProfileFolder, DemoManifestsLoadClean) {
    auto root = std::filesystem::path(CDPHUB_SOURCE_DIR) / "manifests";
    auto set = load(root);
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    EXPECT_EQ(set.identity.file, root / "identity.json");
    EXPECT_EQ(set.identity.identifiers.size(), 8u);
    EXPECT_EQ(set.identity.trait_rule("first_name").strategy, TraitStrategy::source_priority);
    EXPECT_EQ(set.identity.trait_rule("first_name").sources,
              (std::vector<std::string>{"crm-contacts-files", "pos-orders-files"}));
    EXPECT_EQ(set.identity.trait_rule("signup_date").strategy, TraitStrategy::first_seen);
    // The demo data's customers have example.com addresses; its placeholders are still blocked.
    EXPECT_EQ(set.identity.blocked("email", "ann.lee@example.com"), nullptr);
    EXPECT_NE(set.identity.blocked("email", "null"), nullptr);
    EXPECT_GE(set.computed_traits.size(), 3u);
    EXPECT_NE(set.find_computed_trait("orders_90d"), nullptr);
    EXPECT_NE(set.find_computed_trait("lifetime_value_eur"), nullptr);
    EXPECT_NE(set.find_computed_trait("last_seen_page"), nullptr);
    EXPECT_NE(set.find_segment("german_customers"), nullptr);
    EXPECT_NE(set.find_segment("repeat_buyers_90d"), nullptr);
    EXPECT_NE(set.find_segment("lapsed_high_value"), nullptr);
}

TEST(ProfileFolder, DemoManifestsBlockedPatternIsTheDefaultWithoutExampleDomains) {
    // manifests/identity.json writes the default placeholders out, minus example.com and friends.
    auto set = load(std::filesystem::path(CDPHUB_SOURCE_DIR) / "manifests");
    auto defaults = IdentityRules::defaults();
    for (const char* v : {"null", "N/A", "0000", "-1", "test@test.com", "noreply@shop.de",
                          "[object Object]", "ann@gmail.com", "42", "ann@example.com"}) {
        bool in_default = defaults.blocked("email", v) != nullptr;
        bool example = std::string_view(v).ends_with("@example.com");
        EXPECT_EQ(set.identity.blocked("email", v) != nullptr, in_default && !example) << v;
    }
}

}  // namespace
}  // namespace cdphub::manifest

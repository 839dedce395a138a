// The schema checker on its own: how valijson's results become one diagnostic per problem, for
// the schema features plugin specs use.
#include <gtest/gtest.h>

#include "manifest/schema_check.hpp"
#include "manifest/support.hpp"

namespace cdphub::manifest::detail {
namespace {

using nlohmann::json;
using testing::dump;
using testing::one;

Diagnostics check(const char* schema, const char* doc, detail::CheckTarget target = {}) {
    SchemaChecker checker(json::parse(schema));
    JsonLocator locator(doc);
    target.locator = &locator;
    return checker.check(json::parse(doc), target);
}

TEST(SchemaCheck, ValidDocumentHasNoDiagnostics) {
    EXPECT_TRUE(check(R"({"type": "object"})", "{}").empty());
}

TEST(SchemaCheck, PatternPropertiesMakeKeysKnown) {
    auto diags = check(R"({"patternProperties": {"^x-": {"type": "integer"}},
                           "additionalProperties": false})",
                       R"({"x-a": 1, "x-b": "no", "y": 2})");
    EXPECT_EQ(one(diags, "", "/x-b").expected, "integer");
    EXPECT_EQ(one(diags, "", "/y").message, "unknown key 'y'");
    EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(SchemaCheck, PropertiesThroughRefAndAllOf) {
    auto diags = check(R"({
        "definitions": {"base": {"properties": {"name": {"type": "string"}}}},
        "allOf": [{"$ref": "#/definitions/base"}],
        "properties": {"name": true, "size": {"type": "integer"}},
        "additionalProperties": false})",
                       R"({"name": 1, "size": 2, "sise": 3})");
    EXPECT_EQ(one(diags, "", "/name").expected, "string");
    auto unknown = one(diags, "", "/sise");
    EXPECT_EQ(unknown.hint, "did you mean 'size'?");
    EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(SchemaCheck, ExpectedWordsArePreferredForPatterns) {
    auto with = check(
        R"({"properties": {"a": {"pattern": "^[a-z]+$", "x-cdphub-expected": "lower-case letters"}}})",
        R"({"a": "ABC"})");
    EXPECT_EQ(one(with, "", "/a").expected, "lower-case letters");
    auto without = check(R"({"properties": {"a": {"pattern": "^[a-z]+$"}}})", R"({"a": "ABC"})");
    EXPECT_EQ(one(without, "", "/a").expected, "a string matching \"^[a-z]+$\"");
}

TEST(SchemaCheck, BoundsAreWorded) {
    auto diags = check(R"({"properties": {
        "s": {"minLength": 3}, "n": {"exclusiveMinimum": 0}, "l": {"maxItems": 1},
        "o": {"minProperties": 2}, "m": {"multipleOf": 5}}})",
                       R"({"s": "ab", "n": 0, "l": [1, 2], "o": {"a": 1}, "m": 7})");
    EXPECT_EQ(one(diags, "", "/s").expected, "at least 3 characters");
    EXPECT_EQ(one(diags, "", "/n").expected, "more than 0");
    EXPECT_EQ(one(diags, "", "/l").expected, "at most 1 item");
    EXPECT_EQ(one(diags, "", "/o").expected, "at least 2 keys");
    EXPECT_EQ(one(diags, "", "/m").expected, "a multiple of 5");
    EXPECT_EQ(diags.size(), 5u) << dump(diags);
}

TEST(SchemaCheck, FalseSubschemaStillGivesOneDiagnostic) {
    auto diags = check(R"({"properties": {"legacy": false}})", "{\n  \"legacy\": 1\n}");
    auto d = one(diags, "", "/legacy");
    EXPECT_EQ(d.message, "not allowed here");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(2, 13));
}

TEST(SchemaCheck, AnyOfWithSeveralFittingBranches) {
    auto diags = check(R"({"properties": {"v": {"anyOf": [
        {"type": "string", "maxLength": 2}, {"type": "string", "pattern": "^[0-9]+$"}]}}})",
                       R"({"v": "abc"})");
    auto d = one(diags, "", "/v");
    EXPECT_EQ(d.message, "does not match any of the allowed forms");
    EXPECT_EQ(d.found, "string \"abc\"");
    EXPECT_EQ(diags.size(), 1u) << dump(diags);
}

TEST(SchemaCheck, NestedOneOfIsExplainedThroughBothLevels) {
    auto diags = check(R"({"properties": {"v": {"oneOf": [
        {"type": "integer"},
        {"type": "object", "properties": {"w": {"oneOf": [
            {"type": "boolean"}, {"type": "array", "items": {"type": "string"}}]}}}]}}})",
                       R"({"v": {"w": ["a", 2]}})");
    auto d = one(diags, "", "/v/w/1");
    EXPECT_EQ(d.expected, "string");
    EXPECT_EQ(d.found, "integer 2");
    EXPECT_EQ(diags.size(), 1u) << dump(diags);
}

TEST(SchemaCheck, PrefixAndHiddenValues) {
    CheckTarget target;
    target.file = "f.json";
    target.prefix = "/config";
    target.hidden = [](std::string_view pointer, const json&) -> std::string {
        return pointer == "/config/pin" ? "hidden" : "";
    };
    auto diags = check(R"({"properties": {"pin": {"type": "integer"}, "n": {"type": "integer"}}})",
                       R"({"pin": "1234", "n": "5"})", target);
    EXPECT_EQ(one(diags, "f.json", "/config/pin").found, "hidden");
    EXPECT_EQ(one(diags, "f.json", "/config/n").found, "string \"5\"");
}

TEST(SchemaCheck, InvalidSchemaThrows) {
    EXPECT_ANY_THROW(SchemaChecker(json::parse(R"({"type": "strng"})")));
    EXPECT_ANY_THROW(SchemaChecker(json::parse(R"({"$ref": "http://example.com/s.json"})")));
    EXPECT_ANY_THROW(SchemaChecker(json::parse("42")));
}

}  // namespace
}  // namespace cdphub::manifest::detail

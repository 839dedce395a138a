// Bad JSON: each case is reported at the line and column where the problem starts, in plain words,
// without quoting the file's text.
#include <gtest/gtest.h>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::dump;
using testing::TempFolder;

struct Case {
    const char* name;
    const char* text;
    int line;
    int column;
    const char* message;  // a part of the message
};

// Each a complete connector file except for one mistake.
const Case kCases[] = {
    {"trailing_comma_object", "{\n  \"id\": \"a\",\n  \"plugin\": \"p\",\n}", 3, 16,
     "trailing comma before '}'"},
    {"trailing_comma_array", "{\"id\": \"a\", \"plugin\": \"p\", \"x\": [1, 2,]}", 1, 38,
     "trailing comma before ']'"},
    {"missing_comma", "{\n  \"id\": \"a\"\n  \"plugin\": \"p\"\n}", 3, 3,
     "missing ',' between two members"},
    {"missing_comma_in_array", "[1 2]", 1, 4, "missing ',' between two items"},
    {"missing_colon", "{\"id\" \"a\"}", 1, 7, "missing ':' after a key"},
    {"comment", "{\n  // the CRM\n  \"id\": \"a\"\n}", 2, 3, "comments are not allowed"},
    {"single_quotes", "{\"id\": 'a'}", 1, 8, "double quotes, not single quotes"},
    {"unquoted_key", "{\n  id: \"a\"}", 2, 3, "a key must be a string in double quotes"},
    {"bare_word", "{\"id\": crm}", 1, 8, "a bare word is not a JSON value"},
    {"truncated", "{\"id\": \"a\",\n \"plugin\": \"p\"", 2, 15,
     "the file ends before the JSON is complete"},
    {"empty", "", 1, 1, "the file is empty"},
    {"blank", "  \n\n", 1, 1, "the file is empty"},
    {"text_after", "{\"id\": \"a\"}\nextra", 2, 1, "unexpected text after the end"},
    {"newline_in_string", "{\"id\": \"a\nb\"}", 1, 10, "control character U+000A (LF)"},
    {"bad_number", "{\"n\": -x}", 1, 7, "invalid number"},
};

class ParseErrors : public ::testing::TestWithParam<Case> {};

TEST_P(ParseErrors, ReportedWithPositionAndPlainWords) {
    const Case& c = GetParam();
    TempFolder dir;
    auto file = dir.write("connectors/a.json", c.text);
    auto set = load(dir.path());
    ASSERT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    const auto& d = set.diagnostics.front();
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.file, file);
    EXPECT_EQ(d.pointer, "");
    EXPECT_EQ(d.line, c.line) << d.to_string();
    EXPECT_EQ(d.column, c.column) << d.to_string();
    EXPECT_TRUE(d.message.starts_with("invalid JSON: ")) << d.message;
    EXPECT_NE(d.message.find(c.message), std::string::npos) << d.message;
    // The parser's own jargon stays out of the admin's way.
    EXPECT_EQ(d.to_string().find("json.exception"), std::string::npos) << d.to_string();
    EXPECT_EQ(d.to_string().find("last read"), std::string::npos) << d.to_string();
    EXPECT_TRUE(set.connectors.empty());
}

INSTANTIATE_TEST_SUITE_P(Manifest, ParseErrors, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ParseErrors, NeverQuoteTheTextAroundTheMistake) {
    // An admin who forgot the quotes around a pasted token must not see it echoed in CI logs.
    TempFolder dir;
    dir.write("connectors/a.json", "{\"id\": \"a\", \"plugin\": \"p\", \"token\": tok_9f8e7d6c5b}");
    dir.write("connectors/b.json", "{\"id\": \"b\", \"token\": \"tok_1a2b3c4d\n\"}");
    auto set = load(dir.path());
    ASSERT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
    for (const auto& d : set.diagnostics) {
        EXPECT_EQ(d.to_string().find("tok_"), std::string::npos) << d.to_string();
        EXPECT_EQ(d.to_string().find("9f8e7d6c5b"), std::string::npos) << d.to_string();
    }
}

TEST(ParseErrors, OneBadFileDoesNotHideTheOthers) {
    TempFolder dir;
    dir.write("connectors/a.json", "{\"id\": \"a\", \"plugin\": \"p\",}");
    dir.write("connectors/b.json", "{\"id\": \"b\", \"plugin\": \"p\"}");
    auto set = load(dir.path());
    ASSERT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    ASSERT_EQ(set.connectors.size(), 1u);
    EXPECT_EQ(set.connectors[0].id, "b");
}

}  // namespace
}  // namespace cdphub::manifest

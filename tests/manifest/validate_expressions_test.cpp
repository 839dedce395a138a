// validate_expressions(): the checker hook gets every expression with its kind, and each error it
// reports lands on the right character of the right JSON string, escapes included. The checker
// here is a fake: it reports an error at every '@' of the text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::dump;
using testing::TempFolder;

using Pos = std::pair<int, int>;

Pos pos(const Diagnostic& d) {
    return {d.line, d.column};
}

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// An error at each '@', with its line and column (in characters) in the text.
std::vector<ExpressionError> at_signs(std::string_view text) {
    std::vector<ExpressionError> out;
    int line = 1, column = 1;
    for (char c : text) {
        if (c == '@') out.push_back({line, column, "unexpected '@'"});
        if (c == '\n') {
            ++line;
            column = 1;
        } else if (!is_continuation(c)) {
            ++column;
        }
    }
    return out;
}

// The fake checker: every kind of expression, an error at each '@'.
std::vector<ExpressionError> fake(std::string_view text, ExpressionKind) {
    return at_signs(text);
}

struct Call {
    std::string text;
    ExpressionKind kind;
};

// Where the n-th '@' of a file is, as an editor shows it.
Pos at_sign_in_file(const std::string& file, size_t n = 0) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    int line = 1, column = 1;
    for (char c : text) {
        if (c == '@' && n-- == 0) return {line, column};
        if (c == '\n') {
            ++line;
            column = 1;
        } else if (!is_continuation(c)) {
            ++column;
        }
    }
    return {0, 0};
}

struct Folder {
    TempFolder dir;
    Folder() { dir.write("connectors/d.json", R"({"id": "d", "plugin": "p"})"); }
    ManifestSet load_clean() {
        auto set = load(dir.path());
        EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
        return set;
    }
};

TEST(ValidateExpressions, TheCheckerSeesEveryExpressionWithItsKind) {
    Folder f;
    f.dir.write("traits/a.json", R"j({"name": "a", "expression": "count(orders within 90d)"})j");
    f.dir.write("traits/b.json",
                R"j({"name": "b", "expression": ["sum(orders.total_minor", ")"]})j");
    f.dir.write("segments/s.json", R"({"name": "s", "enabled": false, "expression": "x == 1"})");
    f.dir.write("activations/a.json", R"({"name": "a", "segment": "s", "destination": "d",
 "enabled": false, "mapping": {"email": "identifiers.email", "ltv": "computed.a"}})");
    auto set = f.load_clean();
    std::vector<Call> calls;
    auto diags = validate_expressions(set, [&](std::string_view text, ExpressionKind kind) {
        calls.push_back({std::string(text), kind});
        return std::vector<ExpressionError>{};
    });
    EXPECT_TRUE(diags.empty()) << dump(diags);
    ASSERT_EQ(calls.size(), 5u);
    EXPECT_EQ(calls[0].text, "x == 1");  // segments, disabled ones too
    EXPECT_EQ(calls[0].kind, ExpressionKind::segment);
    EXPECT_EQ(calls[1].text, "count(orders within 90d)");
    EXPECT_EQ(calls[1].kind, ExpressionKind::aggregate);
    EXPECT_EQ(calls[2].text, "sum(orders.total_minor\n)");  // lines joined with "\n"
    EXPECT_EQ(calls[2].kind, ExpressionKind::aggregate);
    EXPECT_EQ(calls[3].text, "identifiers.email");
    EXPECT_EQ(calls[3].kind, ExpressionKind::operand);
    EXPECT_EQ(calls[4].text, "computed.a");
    EXPECT_EQ(calls[4].kind, ExpressionKind::operand);
}

TEST(ValidateExpressions, ErrorInAOneLineExpression) {
    Folder f;
    auto file = f.dir.write("segments/s.json", R"({
  "name": "s",
  "expression": "traits.a == @"
})");
    auto set = f.load_clean();
    auto diags = validate_expressions(set, fake);
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    const auto& d = diags[0];
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.file, file);
    EXPECT_EQ(d.pointer, "/expression");
    EXPECT_EQ(d.message, "invalid expression: unexpected '@'");
    EXPECT_EQ(pos(d), Pos(3, 30));
    EXPECT_EQ(pos(d), at_sign_in_file(file));
}

TEST(ValidateExpressions, ErrorsInAnExpressionWrittenAsLines) {
    Folder f;
    auto file = f.dir.write("traits/t.json", R"j({
  "name": "t",
  "expression": [
    "sum(orders.total_minor",
    "    where currency == @)",
    "@"
  ]
})j");
    auto set = f.load_clean();
    auto diags = validate_expressions(set, fake);
    ASSERT_EQ(diags.size(), 2u) << dump(diags);
    EXPECT_EQ(diags[0].pointer, "/expression/1");
    EXPECT_EQ(pos(diags[0]), Pos(5, 28));
    EXPECT_EQ(pos(diags[0]), at_sign_in_file(file, 0));
    EXPECT_EQ(diags[1].pointer, "/expression/2");
    EXPECT_EQ(pos(diags[1]), at_sign_in_file(file, 1));
}

TEST(ValidateExpressions, EscapesBeforeTheErrorAreTakenIntoAccount) {
    Folder f;
    // A quote, a u-escape of a 2-byte character, a raw 2-byte character, a surrogate pair (one
    // 4-byte character), a backslash and a tab escape: each takes more room in the file than in
    // the text the checker sees.
    auto file = f.dir.write("segments/s.json",
                            "{\"name\": \"s\",\n \"expression\": "
                            "\"traits.n == \\\"a\\\\\\\"b\\\" and traits.c == "
                            "\\\"\\u00e9\xC3\xBC\\ud83d\\ude00\\t\\\" @\"}");
    auto set = f.load_clean();
    std::vector<ExpressionError> seen;
    auto diags = validate_expressions(set, [&](std::string_view text, ExpressionKind) {
        seen = at_signs(text);
        return seen;
    });
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].column, 43);  // in the decoded text
    EXPECT_EQ(pos(diags[0]), at_sign_in_file(file));
    EXPECT_EQ(pos(diags[0]), Pos(2, 82));
}

TEST(ValidateExpressions, LineBreakEscapeInsideOneString) {
    Folder f;
    auto file =
        f.dir.write("segments/s.json", R"({"name": "s", "expression": "traits.a == 1\n  and @"})");
    auto set = f.load_clean();
    std::vector<ExpressionError> seen;
    auto diags = validate_expressions(set, [&](std::string_view text, ExpressionKind) {
        seen = at_signs(text);
        return seen;
    });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].line, 2);
    EXPECT_EQ(seen[0].column, 7);
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_EQ(diags[0].pointer, "/expression");
    EXPECT_EQ(pos(diags[0]), at_sign_in_file(file));
}

TEST(ValidateExpressions, PositionsOutsideTheTextStayInsideTheString) {
    Folder f;
    f.dir.write("segments/s.json", R"({
  "name": "s",
  "expression": ["a", "bc"]
})");
    auto set = f.load_clean();
    auto report = [&](int line, int column) {
        auto diags = validate_expressions(set, [&](std::string_view, ExpressionKind) {
            return std::vector<ExpressionError>{{line, column, "x"}};
        });
        EXPECT_EQ(diags.size(), 1u) << dump(diags);
        return diags.empty() ? Diagnostic{} : diags[0];
    };
    // Line 3 col 40 of a two-line text: the end of the last line, its closing quote.
    auto past = report(3, 40);
    EXPECT_EQ(past.pointer, "/expression/1");
    EXPECT_EQ(pos(past), Pos(3, 26));
    // Past the end of the first line: its closing quote, not the next string.
    auto eol = report(1, 9);
    EXPECT_EQ(eol.pointer, "/expression/0");
    EXPECT_EQ(pos(eol), Pos(3, 20));
    // Unknown position: the start of the expression.
    auto unknown = report(0, 0);
    EXPECT_EQ(unknown.pointer, "/expression/0");
    EXPECT_EQ(pos(unknown), Pos(3, 19));
    // Unknown column: the start of the line.
    auto line_only = report(2, 0);
    EXPECT_EQ(line_only.pointer, "/expression/1");
    EXPECT_EQ(pos(line_only), Pos(3, 24));
    auto negative = report(-4, -2);
    EXPECT_EQ(pos(negative), Pos(3, 19));
}

TEST(ValidateExpressions, MappingOperandsArePointedAtByField) {
    Folder f;
    f.dir.write("segments/s.json", R"({"name": "s", "expression": "x"})");
    auto file = f.dir.write("activations/a.json", R"({
  "name": "a", "segment": "s", "destination": "d",
  "mapping": {
    "attributes/FIRSTNAME": "traits.@first_name",
    "email": "identifiers.email"
  }
})");
    auto set = f.load_clean();
    auto diags = validate_expressions(set, [](std::string_view text, ExpressionKind kind) {
        return kind == ExpressionKind::operand ? at_signs(text) : std::vector<ExpressionError>{};
    });
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_EQ(diags[0].file, file);
    EXPECT_EQ(diags[0].pointer, "/mapping/attributes~1FIRSTNAME");
    EXPECT_EQ(diags[0].message, "invalid operand: unexpected '@'");
    EXPECT_EQ(pos(diags[0]), at_sign_in_file(file));
}

TEST(ValidateExpressions, DiagnosticsAreSortedByFileAndPosition) {
    Folder f;
    f.dir.write("segments/b.json", R"({"name": "b", "expression": "@ and @"})");
    f.dir.write("segments/a.json", R"({"name": "a", "expression": ["x", "@"]})");
    f.dir.write("traits/t.json", R"j({"name": "t", "expression": "count(@)"})j");
    auto set = f.load_clean();
    auto diags = validate_expressions(set, fake);
    ASSERT_EQ(diags.size(), 4u) << dump(diags);
    EXPECT_EQ(diags[0].file, f.dir.file("segments/a.json"));
    EXPECT_EQ(diags[1].file, f.dir.file("segments/b.json"));
    EXPECT_LT(diags[1].column, diags[2].column);
    EXPECT_EQ(diags[3].file, f.dir.file("traits/t.json"));
    EXPECT_EQ(diags[3].message, "invalid expression: unexpected '@'");
}

TEST(ValidateExpressions, ACheckerThatThrowsIsReportedNotPropagated) {
    Folder f;
    f.dir.write("segments/s.json", R"({"name": "s", "expression": "x"})");
    auto set = f.load_clean();
    Diagnostics diags;
    EXPECT_NO_THROW(diags = validate_expressions(
                        set, [](std::string_view, ExpressionKind) -> std::vector<ExpressionError> {
                            throw std::runtime_error("boom");
                        }));
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_EQ(diags[0].message, "the expression checker failed: boom");
    EXPECT_EQ(pos(diags[0]), Pos(1, 30));  // the first character of the expression
}

TEST(ValidateExpressions, NothingToSayWithoutExpressionsOrWithoutAChecker) {
    Folder f;
    auto empty = f.load_clean();
    EXPECT_TRUE(validate_expressions(empty, fake).empty());
    f.dir.write("segments/s.json", R"({"name": "s", "expression": "@"})");
    auto set = f.load_clean();
    EXPECT_TRUE(validate_expressions(set, nullptr).empty());
}

TEST(JsonLocatorInString, CountsEscapesAndMultiByteCharacters) {
    JsonLocator loc("{\"a\": \"x\\u00e9\xC3\xBC\\ud83d\\ude00y\", \"n\": 5}");
    using P = Pos;
    EXPECT_EQ(loc.locate_in_string("/a", 0), P(1, 8));    // x
    EXPECT_EQ(loc.locate_in_string("/a", 1), P(1, 9));    // the escape of e-acute
    EXPECT_EQ(loc.locate_in_string("/a", 2), P(1, 9));    // inside it: its start
    EXPECT_EQ(loc.locate_in_string("/a", 3), P(1, 15));   // u-umlaut, raw
    EXPECT_EQ(loc.locate_in_string("/a", 5), P(1, 16));   // the surrogate pair
    EXPECT_EQ(loc.locate_in_string("/a", 9), P(1, 28));   // y
    EXPECT_EQ(loc.locate_in_string("/a", 10), P(1, 29));  // the end: the closing quote
    EXPECT_EQ(loc.locate_in_string("/a", 500), P(1, 29));
    EXPECT_EQ(loc.locate_in_string("/n", 3), loc.locate("/n"));  // not a string
    EXPECT_EQ(loc.locate_in_string("/missing", 3), loc.locate(""));
}

}  // namespace
}  // namespace cdphub::manifest

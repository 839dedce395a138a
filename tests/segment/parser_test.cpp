// The segment language's parser: valid expressions and their trees, canonical printing, the
// AST <-> JSON round trip, and errors with line, column, message and hint.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "segment/ast.hpp"
#include "segment/parser.hpp"

namespace cdphub::segment {
namespace {

ComputedTraits computed_defs() {
    ComputedTraits defs;
    defs.emplace("orders_90d", *parse_aggregate("count(orders within 90d)").value);
    defs.emplace("ltv", *parse_aggregate("sum(orders.total_minor)").value);
    defs.emplace("last_plan", *parse_aggregate("last(track.properties.plan)").value);
    return defs;
}

const ComputedTraits& defs() {
    static const ComputedTraits d = computed_defs();
    return d;
}

ParseOptions opts() {
    ParseOptions o;
    o.computed = &defs();
    return o;
}

std::string errors_of(const std::vector<SegmentError>& errs) {
    std::string s;
    for (const auto& e : errs) s += e.to_string() + "\n";
    return s;
}

Expr parse_ok(const std::string& text) {
    auto r = parse_segment(text, opts());
    EXPECT_TRUE(r.ok()) << text << "\n" << errors_of(r.errors);
    if (!r.ok()) return Expr{};
    return *r.value;
}

// ---- Valid expressions --------------------------------------------------------------------------

const std::vector<std::string> kValid = {
    R"(traits.country == "DE")",
    R"(traits.country == "DE" and count(track "Order Completed" within 90d) >= 2)",
    R"(traits.age >= 18 and traits.age < 65)",
    R"(traits.score > -1.5)",
    R"(traits.score <= 1e3)",
    R"(traits.vip == true or traits.vip == false)",
    R"(traits.address.city == "Berlin")",
    R"(traits."first name" starts_with "An")",
    R"(traits."weird.key"."nested key" != 5)",
    R"(traits.country in ["DE", "AT", "CH"])",
    R"(traits.mixed in ["1", 1, true])",
    R"(exists traits.email_opt_in)",
    R"(traits.email_opt_in exists)",
    R"(not exists traits.country)",
    R"(not not traits.a == 1)",
    R"(not (traits.a == 1 or traits.b == 2))",
    R"(traits.a == 1 or traits.b == 2 and traits.c == 3)",
    R"((traits.a == 1 or traits.b == 2) and traits.c == 3)",
    R"(traits.a == 1 or (traits.b == 2 or traits.c == 3))",
    R"(traits.a == 1 and (traits.b == 2 and traits.c == 3))",
    R"(identifiers.email ends_with "@example.com")",
    R"(identifiers.email != "x@example.com")",
    R"(identifiers.phone contains "+49")",
    R"(consent.email_marketing == true)",
    R"(consent.sms != false)",
    R"(computed.orders_90d >= 2)",
    R"(computed.ltv > 10000 and computed.last_plan == "pro")",
    R"(count(orders) == 0)",
    R"(count(track) > 3)",
    R"(count(orders.tax_minor) >= 1)",
    R"(sum(orders.total_minor where currency == "EUR" within 365d) > 100000)",
    R"(count(track "Product Viewed" where properties.sku == "A-1") >= 1)",
    R"(min(orders.total_minor) < 0)",
    R"(max(track.properties.price within 2w) >= 99.5)",
    R"(first(track.event) == "Signed Up")",
    R"(last(orders.status) in ["refunded", "cancelled"])",
    R"(distinct_count(track.properties.sku within 30d) >= 3)",
    R"(exists last(track "Plan Changed".properties.plan))",
    R"(count(orders where (status == "paid" or status == "shipped") and not currency == "USD") > 1)",
    R"(count(track where properties.a.b.c exists) >= 1)",
    R"(count(track where properties."odd key" == "x" within 36h) == 0)",
    R"(count(orders where occurred_at >= "2024-01-01T00:00:00.000Z") >= 1)",
    R"(traits.name == "quote \" backslash \\ newline \n tab \t unicode \u00e9 \ud83d\ude00")",
    R"(traits.name == "ünïcödé 日本 😀")",
    "traits.a == 1 # a comment\n  and traits.b == 2",
    R"(count(orders within 1s) > 0 or count(orders within 5m) > 0 or count(orders within 2h) > 0)",
};

TEST(SegmentParser, ValidExpressionsParseAndRoundTrip) {
    for (const auto& text : kValid) {
        SCOPED_TRACE(text);
        auto r = parse_segment(text, opts());
        ASSERT_TRUE(r.ok()) << errors_of(r.errors);
        // Text round trip: canonical text parses to the same tree and prints identically.
        std::string printed = to_text(*r.value);
        auto again = parse_segment(printed, opts());
        ASSERT_TRUE(again.ok()) << printed << "\n" << errors_of(again.errors);
        EXPECT_EQ(to_json(*again.value).dump(), to_json(*r.value).dump()) << printed;
        EXPECT_EQ(to_text(*again.value), printed);
        // JSON round trip: parse -> JSON -> AST -> JSON is the same document.
        auto j = to_json(*r.value);
        auto back = expr_from_json(nlohmann::json::parse(j.dump()), opts());
        ASSERT_TRUE(back.ok()) << j.dump() << "\n" << errors_of(back.errors);
        EXPECT_EQ(to_json(*back.value).dump(), j.dump());
    }
}

TEST(SegmentParser, CanonicalText) {
    auto same = [](const std::string& t) { EXPECT_EQ(to_text(parse_ok(t)), t); };
    same(R"(traits.country == "DE" and count(track "Order Completed" within 90d) >= 2)");
    same(R"(traits.a == 1 or traits.b == 2 and traits.c == 3)");
    same(R"((traits.a == 1 or traits.b == 2) and traits.c == 3)");
    same(R"(not (traits.a == 1 and traits.b == 2))");
    same(R"(traits."first name" == "Ann")");
    same(R"(sum(orders.total_minor where currency == "EUR" within 365d) > 100000)");
    same(R"(count(track "X".properties.sku where properties.qty >= 2 within 7d) >= 1)");
    EXPECT_EQ(to_text(parse_ok("traits.x exists")), "exists traits.x");
    EXPECT_EQ(to_text(parse_ok("((traits.a==1))")), "traits.a == 1");
    EXPECT_EQ(to_text(parse_ok("traits.a == 5.0")), "traits.a == 5.0");
    EXPECT_EQ(to_text(parse_ok("traits.a == 1E2")), "traits.a == 100.0");
    EXPECT_EQ(to_text(parse_ok(R"(traits.a == "\u00e9\/")")), "traits.a == \"é/\"");
}

TEST(SegmentParser, TreeShapeAndPrecedence) {
    Expr e = parse_ok("traits.a == 1 or traits.b == 2 and not traits.c == 3");
    ASSERT_EQ(e.kind, Expr::Kind::or_);
    ASSERT_EQ(e.children.size(), 2u);
    EXPECT_EQ(e.children[0].kind, Expr::Kind::predicate);
    ASSERT_EQ(e.children[1].kind, Expr::Kind::and_);
    EXPECT_EQ(e.children[1].children[1].kind, Expr::Kind::not_);

    Expr chain = parse_ok("traits.a == 1 and traits.b == 2 and traits.c == 3");
    EXPECT_EQ(chain.kind, Expr::Kind::and_);
    EXPECT_EQ(chain.children.size(), 3u);

    Expr t = parse_ok(R"(traits."first name".sub.key == "x")");
    const auto& o = t.predicate.operand;
    EXPECT_EQ(o.kind, Operand::Kind::trait);
    EXPECT_EQ(o.name, "first name");
    EXPECT_EQ(o.path, (std::vector<std::string>{"sub", "key"}));

    Expr agg = parse_ok(
        R"(sum(track "Order Completed".properties.revenue where source == "web" within 30d) > 1.5)");
    const auto& a = *agg.predicate.operand.aggregate;
    EXPECT_EQ(a.func, Func::sum);
    EXPECT_EQ(a.source, Source::track);
    EXPECT_EQ(*a.event, "Order Completed");
    EXPECT_EQ(a.field->name, "properties");
    EXPECT_EQ(a.field->path, std::vector<std::string>{"revenue"});
    EXPECT_TRUE(a.where.has_value());
    EXPECT_EQ(a.within->seconds(), 30 * 86400);
    EXPECT_TRUE(agg.predicate.values[0].is_number_float());

    // Integers stay integers, decimals stay decimals.
    EXPECT_TRUE(parse_ok("traits.a == 5").predicate.values[0].is_number_integer());
    EXPECT_TRUE(parse_ok("traits.a == 5.0").predicate.values[0].is_number_float());
    EXPECT_EQ(parse_ok("traits.a == -9223372036854775808").predicate.values[0].get<std::int64_t>(),
              INT64_MIN);
}

TEST(SegmentParser, Positions) {
    Expr e = parse_ok("traits.a == 1 and\n   count(orders) >= 2");
    EXPECT_EQ(e.children[0].predicate.operand.pos.line, 1);
    EXPECT_EQ(e.children[0].predicate.operand.pos.column, 1);
    EXPECT_EQ(e.children[0].predicate.pos.column, 10);
    const auto& agg = e.children[1].predicate.operand;
    EXPECT_EQ(agg.pos.line, 2);
    EXPECT_EQ(agg.pos.column, 4);
    EXPECT_EQ(e.children[1].predicate.value_pos.at(0).column, 21);
}

TEST(SegmentParser, StandaloneAggregateAndOperand) {
    auto a = parse_aggregate("count(orders within 90d)");
    ASSERT_TRUE(a.ok()) << errors_of(a.errors);
    EXPECT_EQ(to_text(*a.value), "count(orders within 90d)");
    auto aj = aggregate_from_json(aggregate_to_json(*a.value));
    ASSERT_TRUE(aj.ok());
    EXPECT_EQ(aggregate_to_json(*aj.value), aggregate_to_json(*a.value));

    for (const char* text :
         {"traits.first_name", "identifiers.email", "computed.ltv", "consent.email_marketing",
          "traits.address.city", "traits.\"first name\"", "sum(orders.total_minor)"}) {
        auto o = parse_operand(text, opts());
        ASSERT_TRUE(o.ok()) << text << errors_of(o.errors);
        EXPECT_EQ(to_text(*o.value), text);
        auto oj = operand_from_json(operand_to_json(*o.value), opts());
        ASSERT_TRUE(oj.ok()) << text;
        EXPECT_EQ(operand_to_json(*oj.value), operand_to_json(*o.value));
    }

    auto bad = parse_aggregate("traits.x");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.errors[0].column, 1);
    EXPECT_NE(bad.errors[0].message.find("expected an aggregate"), std::string::npos);
    auto trailing = parse_operand("traits.x == 1");
    ASSERT_FALSE(trailing.ok());
    EXPECT_EQ(trailing.errors[0].column, 10);
    auto unknown = parse_operand("computed.nope", opts());
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.errors[0].message.find("unknown computed trait 'nope'"), std::string::npos);
}

TEST(SegmentParser, JsonForm) {
    Expr e =
        parse_ok(R"(traits.country == "DE" and count(track "Order Completed" within 90d) >= 2)");
    auto expected = nlohmann::json::parse(R"({
      "version": 1,
      "expr": {"and": [
        {"op": "==", "operand": {"trait": "country"}, "value": "DE"},
        {"op": ">=", "operand": {"aggregate": {"func": "count", "source": "track",
                                               "event": "Order Completed", "within": "90d"}},
         "value": 2}
      ]}
    })");
    EXPECT_EQ(to_json(e), expected);
}

// ---- Errors -------------------------------------------------------------------------------------

struct ErrorCase {
    std::string text;
    int line;
    int column;
    std::string message;  // substring
    std::string hint;     // substring ("" = not checked)
};

const std::vector<ErrorCase> kErrors = {
    {R"(traits.country = "DE")", 1, 16, "expected a comparison after traits.country",
     "use == for equality"},
    {R"(traits.country <> "DE")", 1, 16, "found '<>'", "use != for inequality"},
    {R"(traits.a == 1 && traits.b == 2)", 1, 15, "found '&&'", "use and"},
    {R"(traits.a == 1 || traits.b == 2)", 1, 15, "found '||'", "use or"},
    {R"(!traits.a == 1)", 1, 1, "found '!'", "use not"},
    {R"(traits.a == 1 AND traits.b == 2)", 1, 15, "found 'AND'", "keywords are lower-case: and"},
    {R"(NOT traits.a == 1)", 1, 1, "expected an operand", "keywords are lower-case: not"},
    {R"(traits.a == TRUE)", 1, 13, "expected a value", "keywords are lower-case: true"},
    {R"(traits.country == DE)", 1, 19, "expected a value", "\"DE\""},
    {R"(traits.country == 'DE')", 1, 19, "double quotes", "\"DE\""},
    {R"(traits.x == null)", 1, 13, "comparing with null is not supported", "exists"},
    {R"(traits.x != null)", 1, 13, "null", "exists"},
    {R"(avg(orders.total_minor) > 5)", 1, 1, "unknown function 'avg'",
     "count, sum, min, max, first, last, distinct_count"},
    {R"(Count(orders) > 5)", 1, 1, "unknown function 'Count'", "lower-case: count"},
    {R"(count(orders within 90) > 1)", 1, 21, "the duration 90 needs a unit", "90d"},
    {R"(count(orders within 3y) > 1)", 1, 21, "unknown duration unit 'y'", "365d"},
    {R"(count(orders within 1.5d) > 1)", 1, 21, "whole number", ""},
    {R"(count(orders within 0d) > 1)", 1, 21, "longer than 0", ""},
    {R"(count(orders within 99999999d) > 1)", 1, 21, "too long", ""},
    {R"(count(orders) within 90d > 1)", 1, 15, "expected a comparison", "within goes inside"},
    {R"(count(orders within 9d where status == "x") > 1)", 1, 24, "')' to close count(",
     "write where before within"},
    {R"(count(events) > 1)", 1, 7, "expected track or orders", "did you mean track?"},
    {R"(count(orders "Order Completed") > 1)", 1, 14, "an event name only applies to track", ""},
    {R"(count(orders where properties.x == 1) > 1)", 1, 20,
     "unknown field 'properties' of orders rows", "total_minor"},
    {R"(count(orders where traits.x == 1) > 1)", 1, 20, "traits is not available there", ""},
    {R"(count(track where sku == "A") > 1)", 1, 19, "unknown field 'sku' of track rows",
     "properties.NAME"},
    {R"(sum(orders) > 1)", 1, 1, "sum needs a field", "sum(orders.total_minor)"},
    {R"(sum(orders.currency) > 1)", 1, 12, "sum works on numbers", ""},
    {R"(count(orders.nope) > 1)", 1, 14, "unknown field 'nope'", ""},
    {R"(count(track.properties) > 1)", 1, 23, "expected '.' and a property name", "properties.sku"},
    {R"(computed.nope > 1)", 1, 1, "unknown computed trait 'nope'", "orders_90d"},
    {R"(consent.email == "yes")", 1, 18, "consent.email is true or false",
     "compare with true or false"},
    {R"(identifiers.email == 5)", 1, 22, "identifiers.email is text", ""},
    {R"(count(orders) == "2")", 1, 18, "count(orders) is a number", ""},
    {R"(computed.orders_90d == "2")", 1, 24, "a number", ""},
    {R"(count(orders where currency == 5) > 1)", 1, 32, "currency is text", ""},
    {R"(traits.a > true)", 1, 12, "> compares numbers or strings", ""},
    {R"(traits.a contains 5)", 1, 19, "contains needs a string", ""},
    {R"(traits.a in [])", 1, 14, "at least one value", ""},
    {R"(traits.a in "x")", 1, 13, "'[' to start the list", "in [\"DE\", \"AT\"]"},
    {R"(traits.a in ["x" "y"])", 1, 18, "',' or ']'", ""},
    {R"(traits.a)", 1, 9, "expected a comparison after traits.a", "exists traits.a"},
    {R"(traits.a == 1 and)", 1, 18, "expected a condition", ""},
    {R"(traits.a == 1 and and traits.b == 1)", 1, 19, "expected a condition", ""},
    {R"((traits.a == 1)", 1, 15, "to close the '(' at line 1, column 1", ""},
    {R"(traits.a == 1))", 1, 14, "unmatched ')'", ""},
    {R"(traits.a == 1 traits.b == 2)", 1, 15, "expected and, or or the end", ""},
    {R"(country == "DE")", 1, 1, "expected an operand", "traits.country"},
    {R"(trait.country == "DE")", 1, 1, "expected an operand", "did you mean traits?"},
    {R"(traits == "DE")", 1, 8, "expected '.' and a name after traits", ""},
    {R"(traits. == "DE")", 1, 9, "expected a name after 'traits.'", "traits.\"first name\""},
    {R"(identifiers.email.domain == "x")", 1, 18, "identifiers.email has no nested keys", ""},
    {R"(traits."" == 1)", 1, 8, "a name cannot be empty", ""},
    {R"(traits.a."x\"y" == 1)", 1, 1, "nested key", ""},
    {R"(traits.a == "abc)", 1, 13, "unterminated string", ""},
    {"traits.a == \"ab\ncd\"", 1, 13, "cannot span lines", ""},
    {R"(traits.a == "\x")", 1, 13, "invalid escape \\x", ""},
    {R"(traits.a == "\ud800")", 1, 13, "surrogate", ""},
    {R"(traits.a == "\u0000")", 1, 13, "NUL", ""},
    {R"(traits.a == 01)", 1, 13, "cannot start with 0", ""},
    {R"(traits.a == 1.)", 1, 13, "decimal point needs digits", ""},
    {R"(traits.a == 99999999999999999999)", 1, 13, "out of range", ""},
    {R"(traits.a == 5d)", 1, 13, "unexpected 'd' after the number 5", "within 90d"},
    {R"(traits.a == - 5)", 1, 13, "unexpected '-'", ""},
    {R"("DE" == traits.country)", 1, 1, "expected an operand", "put the operand on the left"},
    {R"(traits.a == 1 and traits.b @ 2)", 1, 28, "unexpected character '@'", ""},
    {"traits.a == 1 and\n  traits.b = 2", 2, 12, "expected a comparison", "use == for equality"},
    {"traits.ü == 1 and\n  tráits.b == 2", 1, 8, "unexpected 'ü' (bare names use only ASCII",
     "quote names with other characters: \"ü\""},
    {"traits.\"ü\" == 1 and tráits.b == 2", 1, 21, "unexpected 'tráits'", ""},
    {"traits.a == 1 and traits.b ≠ 2", 1, 28, "unexpected '≠'", ""},
    {R"()", 1, 1, "expected a condition, found the end of the expression", ""},
    {R"(count(track "A" "B") > 1)", 1, 17, "')' to close count(", "one event name"},
    {R"(count(orders.total_minor.x) > 1)", 1, 25, "no nested keys", ""},
    {R"(count(orders where status) > 1)", 1, 26, "expected a comparison after status", ""},
    {R"(traits.a not in ["x"])", 1, 10, "expected a comparison", "write not before the condition"},
    {R"(traits.first name == "Ann")", 1, 14, "expected a comparison after traits.first",
     "quote names that contain spaces: traits.\"first name\""},
};

TEST(SegmentParser, Errors) {
    for (const auto& c : kErrors) {
        SCOPED_TRACE(c.text);
        auto r = parse_segment(c.text, opts());
        ASSERT_FALSE(r.ok());
        ASSERT_FALSE(r.errors.empty());
        const auto& e = r.errors.front();
        EXPECT_EQ(e.line, c.line) << e.to_string();
        EXPECT_EQ(e.column, c.column) << e.to_string();
        EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
        if (!c.hint.empty()) {
            EXPECT_NE(e.hint.find(c.hint), std::string::npos) << e.to_string();
        }
    }
}

TEST(SegmentParser, ErrorTextNamesExpectedAndFound) {
    auto r = parse_segment(R"(traits.country = "DE")");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              "line 1, column 16: expected a comparison after traits.country (==, !=, <, <=, >, "
              ">=, in, contains, starts_with, ends_with or exists), found '='; hint: use == for "
              "equality");
}

TEST(SegmentParser, SemanticErrorsAreAllReported) {
    auto r = parse_segment(
        R"(consent.a == "x" or computed.nope > 1 or identifiers.e > 5 or sum(orders) > 1)", opts());
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 4u) << errors_of(r.errors);
    EXPECT_EQ(r.errors[0].column, 14);
    EXPECT_EQ(r.errors[1].column, 21);
    EXPECT_EQ(r.errors[2].column, 58);
    EXPECT_EQ(r.errors[3].column, 63);
}

TEST(SegmentParser, LimitsStopHostileInput) {
    ParseOptions o;
    // Deep parentheses: a clear error, no stack exhaustion.
    std::string deep = std::string(100000, '(') + "traits.a == 1" + std::string(100000, ')');
    o.max_length = deep.size() + 1;
    auto r = parse_segment(deep, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("nests too deeply"), std::string::npos);
    EXPECT_EQ(r.errors[0].column, 33);

    std::string nots;
    for (int i = 0; i < 50000; ++i) nots += "not ";
    r = parse_segment(nots + "traits.a == 1", o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("nests too deeply"), std::string::npos);

    // Too long.
    std::string longer(70000, ' ');
    r = parse_segment(longer + "traits.a == 1");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("too long"), std::string::npos);

    // At the limit is fine.
    std::string ok;
    for (int i = 0; i < 32; ++i) ok += "(";
    ok += "traits.a == 1";
    for (int i = 0; i < 32; ++i) ok += ")";
    EXPECT_TRUE(parse_segment(ok).ok());
    EXPECT_FALSE(parse_segment("(" + ok + ")").ok());

    // Long flat chains are fine (no recursion per term).
    std::string chain = "traits.a == 0";
    for (int i = 1; i < 2000; ++i) chain += " or traits.a == " + std::to_string(i);
    EXPECT_TRUE(parse_segment(chain).ok());

    // Deep JSON is refused too.
    nlohmann::json j = {{"op", "exists"}, {"operand", {{"trait", "a"}}}};
    for (int i = 0; i < 500; ++i) j = {{"not", j}};
    auto jr = expr_from_json({{"version", 1}, {"expr", j}});
    ASSERT_FALSE(jr.ok());
    EXPECT_NE(jr.errors[0].message.find("nests too deeply"), std::string::npos);

    // Invalid UTF-8.
    r = parse_segment("traits.a == \"\xff\"");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("UTF-8"), std::string::npos);
}

TEST(SegmentParser, JsonErrors) {
    auto bad = [](const std::string& text, const std::string& needle) {
        SCOPED_TRACE(text);
        auto r = expr_from_json(nlohmann::json::parse(text), opts());
        ASSERT_FALSE(r.ok());
        EXPECT_NE(r.errors[0].message.find(needle), std::string::npos) << r.errors[0].to_string();
        EXPECT_EQ(r.errors[0].line, 0);
    };
    bad(R"({"expr": {}})", "version");
    bad(R"({"version": 2, "expr": {}})", "unsupported AST version 2");
    bad(R"({"version": 1, "expr": {"and": [{"op": "exists", "operand": {"trait": "a"}}]}})",
        "/expr/and: expected an array of at least two");
    bad(R"({"version": 1, "expr": {"op": "~", "operand": {"trait": "a"}}})",
        "/expr/op: unknown operator");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"trait": "a"}}})", "missing value");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"planet": "a"}, "value": 1}})",
        "/expr/operand: expected one of the keys");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"trait": "a"}, "value": null}})",
        "comparing with null");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"trait": "a"}, "value": [1]}})",
        "found an array");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"consent": "a"}, "value": 1}})",
        "consent.a is true or false");
    bad(R"({"version": 1, "expr": {"op": ">", "operand": {"aggregate": {"func": "avg", "source": "orders"}}, "value": 1}})",
        "/expr/operand/aggregate/func: unknown function");
    bad(R"({"version": 1, "expr": {"op": ">", "operand": {"aggregate": {"func": "count", "source": "orders", "within": "9y"}}, "value": 1}})",
        "/expr/operand/aggregate/within");
    bad(R"({"version": 1, "expr": {"op": ">", "operand": {"field": "currency"}, "value": "x"}})",
        "only exists inside an aggregate");
    bad(R"({"version": 1, "expr": {"op": "exists", "operand": {"trait": "a"}, "extra": 1}})",
        "unexpected key \"extra\"");
    bad(R"({"version": 1, "expr": {"op": "==", "operand": {"trait": "a"}, "value": 18446744073709551615}})",
        "out of range");
}

}  // namespace
}  // namespace cdphub::segment

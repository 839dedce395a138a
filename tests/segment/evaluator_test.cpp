// The in-memory evaluator on hand-built snapshots: type rules, multi-value semantics, missing
// values, aggregates and windows, computed traits, operand values for activation mappings.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "segment/evaluator.hpp"
#include "segment/parser.hpp"
#include "segment/values.hpp"
#include "segment_test_util.hpp"

namespace cdphub::segment {
namespace {

using nlohmann::json;
using test::ev;
using test::order;

constexpr const char* kNow = "2024-06-01T12:00:00.000Z";

profile::ProfileSnapshot alice() {
    profile::ProfileSnapshot s;
    s.id = 1;
    s.traits["country"] = "DE";
    s.traits["age"] = 42;
    s.traits["score"] = 2.5;
    s.traits["vip"] = true;
    s.traits["zip"] = "10115";
    s.traits["first name"] = "Ann";
    s.traits["address"] = json::parse(R"({"city": "Berlin", "geo": {"lat": 52.5}, "no": null,
                                           "list": [1, 2], "n": 5})");
    s.traits["tags"] = json::array({"a", "b"});
    s.identifiers["email"] = {"ann@example.com", "ann@work.example"};
    s.identifiers["phone"] = {"+4930123"};
    s.consent["email_marketing"] = {true, "web", "2024-01-01T00:00:00.000Z"};
    s.consent["sms"] = {false, "web", "2024-01-01T00:00:00.000Z"};
    s.events = {
        ev(10, "Order Completed", "2024-05-30T10:00:00.000Z", {{"revenue", 10.5}, {"sku", "A-1"}}),
        ev(11, "Order Completed", "2024-04-01T10:00:00.000Z", {{"revenue", 4}, {"sku", "B-2"}}),
        ev(12, "Order Completed", "2023-01-01T10:00:00.000Z", {{"revenue", 100}, {"sku", "A-1"}}),
        ev(13, "Product Viewed", "2024-05-31T10:00:00.000Z",
           {{"sku", "A-1"}, {"price", "12"}, {"nested", {{"a", {{"b", 1}}}}}}, "app"),
        ev(14, "Product Viewed", "2024-05-31T10:00:00.000Z", {{"sku", "C-3"}, {"price", 12}}),
        ev(15, "Signed Up", "2022-01-01T00:00:00.000Z", {{"plan", "free"}}),
    };
    s.orders = {order(20, "2024-05-01T00:00:00.000Z", "EUR", 5000, "paid"),
                order(21, "2024-05-20T00:00:00.000Z", "EUR", 2500, "refunded"),
                order(22, "2023-05-20T00:00:00.000Z", "USD", 9999),
                order(23, "2024-05-25T00:00:00.000Z", "EUR", -500, "refund")};
    s.orders[0].tax_minor = 800;
    return s;
}

ComputedTraits defs() {
    ComputedTraits d;
    d.emplace("orders_90d", *parse_aggregate("count(orders within 90d)").value);
    d.emplace("eur_ltv",
              *parse_aggregate(R"(sum(orders.total_minor where currency == "EUR"))").value);
    d.emplace("last_sku", *parse_aggregate(R"(last(track.properties.sku))").value);
    return d;
}

class SegmentEval : public ::testing::Test {
  protected:
    ComputedTraits computed = defs();
    profile::ProfileSnapshot a = alice();
    profile::ProfileSnapshot empty = [] {
        profile::ProfileSnapshot s;
        s.id = 2;
        return s;
    }();

    bool eval(const std::string& text, const profile::ProfileSnapshot& s) {
        ParseOptions o;
        o.computed = &computed;
        auto r = parse_segment(text, o);
        EXPECT_TRUE(r.ok()) << text << ": " << (r.errors.empty() ? "" : r.errors[0].to_string());
        if (!r.ok()) return false;
        Context c{kNow, &computed};
        bool v = evaluate(*r.value, s, c);
        // `not` is exactly the complement.
        EXPECT_EQ(evaluate(Expr::make_not(*r.value), s, c), !v) << text;
        return v;
    }
    bool eval(const std::string& text) { return eval(text, a); }

    std::optional<json> value(const std::string& text, const profile::ProfileSnapshot& s) {
        ParseOptions o;
        o.computed = &computed;
        auto r = parse_operand(text, o);
        EXPECT_TRUE(r.ok()) << text;
        return evaluate_operand(*r.value, s, Context{kNow, &computed});
    }
};

TEST_F(SegmentEval, StrictTyping) {
    EXPECT_TRUE(eval(R"(traits.country == "DE")"));
    EXPECT_FALSE(eval(R"(traits.country == "de")"));  // case-sensitive
    EXPECT_TRUE(eval(R"(traits.age == 42)"));
    EXPECT_TRUE(eval(R"(traits.age == 42.0)"));   // numbers compare numerically
    EXPECT_FALSE(eval(R"(traits.age == "42")"));  // a string never equals a number
    EXPECT_FALSE(eval(R"(traits.zip == 10115)"));
    EXPECT_TRUE(eval(R"(traits.zip == "10115")"));
    EXPECT_TRUE(eval(R"(traits.vip == true)"));
    EXPECT_FALSE(eval(R"(traits.vip == 1)"));  // true never equals 1
    EXPECT_TRUE(eval(R"(traits.score == 2.5 and traits.score > 2 and traits.score < 3)"));
    EXPECT_TRUE(eval(R"(traits.age != "42")"));  // present and not equal
    EXPECT_FALSE(eval(R"(traits.age > "4")"));   // ordering across types is false
    EXPECT_FALSE(eval(R"(traits.age < "4")"));
    EXPECT_FALSE(eval(R"(traits.country > 5)"));
    EXPECT_TRUE(eval(R"(traits.country > "D" and traits.country < "E")"));
    EXPECT_TRUE(eval(R"(traits.country >= "DE" and traits.country <= "DE")"));
    EXPECT_TRUE(eval(R"(traits.country in ["AT", "DE"])"));
    EXPECT_FALSE(eval(R"(traits.age in ["42", true])"));
    EXPECT_TRUE(eval(R"(traits.age in ["42", 42.0])"));
    // Objects and arrays equal nothing, but exist.
    EXPECT_FALSE(eval(R"(traits.tags == "a")"));
    EXPECT_TRUE(eval(R"(traits.tags != "a")"));
    EXPECT_TRUE(eval(R"(exists traits.tags)"));
    EXPECT_FALSE(eval(R"(traits.tags contains "a")"));
}

TEST_F(SegmentEval, MissingValuesMakeComparisonsFalse) {
    for (const char* t :
         {R"(traits.nope == "x")", R"(traits.nope != "x")", R"(traits.nope < 1)",
          R"(traits.nope in ["x"])", R"(traits.nope contains "")", R"(exists traits.nope)",
          R"(identifiers.fax != "x")", R"(consent.calls != true)", R"(consent.calls == false)"})
        EXPECT_FALSE(eval(t)) << t;
    EXPECT_TRUE(eval(R"(not traits.nope == "x")"));
    EXPECT_TRUE(eval(R"(not exists traits.nope)"));
}

TEST_F(SegmentEval, NestedTraits) {
    EXPECT_TRUE(eval(R"(traits.address.city == "Berlin")"));
    EXPECT_TRUE(eval(R"(traits.address.geo.lat > 52)"));
    EXPECT_TRUE(eval(R"(traits.address.n == 5.0)"));
    EXPECT_FALSE(eval(R"(exists traits.address.no)"));  // JSON null is missing
    EXPECT_FALSE(eval(R"(traits.address.no != 1)"));
    EXPECT_TRUE(eval(R"(exists traits.address.list)"));
    EXPECT_FALSE(eval(R"(exists traits.address.city.x)"));  // a string has no keys
    EXPECT_FALSE(eval(R"(exists traits.tags.a)"));          // arrays have no keys
    EXPECT_FALSE(eval(R"(exists traits.country.x)"));
    EXPECT_TRUE(eval(R"(traits."first name" starts_with "A")"));
}

TEST_F(SegmentEval, StringOperatorsAreByteWise) {
    EXPECT_TRUE(eval(R"(traits.country contains "E")"));
    EXPECT_FALSE(eval(R"(traits.country contains "e")"));
    EXPECT_TRUE(eval(R"(traits.country contains "")"));
    EXPECT_TRUE(eval(R"(traits.country starts_with "D" and traits.country ends_with "E")"));
    EXPECT_TRUE(eval(R"(traits.country starts_with "DE" and traits.country ends_with "DE")"));
    EXPECT_FALSE(eval(R"(traits.country starts_with "DEU")"));
    EXPECT_FALSE(eval(R"(traits.age contains "4")"));
    profile::ProfileSnapshot u;
    u.traits["n"] = "Ünïcödé 😀";
    EXPECT_TRUE(eval(R"(traits.n starts_with "Ü" and traits.n ends_with "😀")", u));
    EXPECT_TRUE(eval(R"(traits.n contains "cöd")", u));
    EXPECT_TRUE(eval(R"(traits.n > "Z")", u));  // byte order: Ü (C3 9C) sorts after ASCII
}

TEST_F(SegmentEval, IdentifiersAreMultiValued) {
    EXPECT_TRUE(eval(R"(identifiers.email == "ann@work.example")"));
    EXPECT_TRUE(eval(R"(identifiers.email ends_with "@example.com")"));
    EXPECT_TRUE(eval(R"(identifiers.email != "ann@example.org")"));
    EXPECT_FALSE(eval(R"(identifiers.email != "ann@example.com")"));  // one of them equals
    EXPECT_TRUE(eval(R"(identifiers.email in ["x", "ann@example.com"])"));
    EXPECT_TRUE(eval(R"(identifiers.email > "ann@w")"));  // any value
    EXPECT_TRUE(eval(R"(exists identifiers.phone and not exists identifiers.fax)"));
    EXPECT_EQ(value("identifiers.email", a), json({"ann@example.com", "ann@work.example"}));
    EXPECT_EQ(value("identifiers.fax", a), std::nullopt);
}

TEST_F(SegmentEval, Consent) {
    EXPECT_TRUE(eval(R"(consent.email_marketing == true)"));
    EXPECT_TRUE(eval(R"(consent.sms == false and consent.sms != true)"));
    EXPECT_TRUE(eval(R"(consent.sms in [false])"));
    EXPECT_FALSE(eval(R"(exists consent.calls)"));
    EXPECT_EQ(value("consent.sms", a), json(false));
}

TEST_F(SegmentEval, Aggregates) {
    // Windows: within 90d of 2024-06-01T12:00Z starts 2024-03-03T12:00Z.
    EXPECT_TRUE(eval(R"(count(track "Order Completed" within 90d) == 2)"));
    EXPECT_TRUE(eval(R"(count(track "Order Completed") == 3)"));
    EXPECT_TRUE(eval(R"(count(track) == 6)"));
    EXPECT_TRUE(eval(R"(count(track "Nope") == 0)"));
    EXPECT_TRUE(eval(R"(count(track "Nope") < 1 and count(orders) != 3)"));
    EXPECT_TRUE(eval(R"(count(track "Product Viewed" where properties.sku == "A-1") == 1)"));
    EXPECT_TRUE(eval(R"(count(track where properties.sku == "A-1" and source == "web") == 2)"));
    EXPECT_TRUE(eval(R"(count(track.properties.price) == 2)"));
    EXPECT_TRUE(eval(R"(count(track where properties.nested.a.b == 1) == 1)"));
    EXPECT_TRUE(
        eval(R"(count(track where not properties.sku == "A-1") == 3)"));  // missing sku counts
    EXPECT_TRUE(eval(R"(count(orders.tax_minor) == 1 and count(orders.status) == 3)"));

    EXPECT_TRUE(eval(R"(sum(orders.total_minor) == 16999)"));
    EXPECT_TRUE(eval(R"(sum(orders.total_minor where currency == "EUR" within 90d) == 7000)"));
    EXPECT_TRUE(eval(R"(sum(orders.total_minor where currency == "GBP") == 0)"));
    EXPECT_TRUE(eval(R"(sum(track.properties.revenue within 90d) == 14.5)"));
    EXPECT_TRUE(eval(R"(sum(track.properties.price) == 12)"));  // "12" is not a number
    EXPECT_TRUE(eval(R"(sum(track.properties.sku) == 0)"));

    EXPECT_TRUE(eval(R"(min(orders.total_minor) == -500 and max(orders.total_minor) == 9999)"));
    EXPECT_TRUE(eval(R"(max(track.properties.price) == 12)"));
    EXPECT_FALSE(eval(R"(exists min(track.properties.sku))"));  // no numbers: missing
    EXPECT_FALSE(eval(R"(min(track.properties.sku) != 1)"));
    EXPECT_TRUE(eval(R"(exists min(orders.tax_minor))"));

    EXPECT_TRUE(eval(R"(first(track.event) == "Signed Up")"));
    EXPECT_TRUE(eval(R"(last(track.event) == "Product Viewed")"));
    // Two events at the same instant: the higher id is later.
    EXPECT_TRUE(eval(R"(last(track.properties.sku) == "C-3")"));
    EXPECT_TRUE(
        eval(R"(last(track.source) == "web" and last(track "Product Viewed".source) == "web")"));
    EXPECT_TRUE(eval(R"(first(track "Product Viewed".source) == "app")"));
    // Rows without the field are skipped.
    EXPECT_TRUE(eval(R"(last(track.properties.plan) == "free")"));
    EXPECT_TRUE(eval(R"(last(orders.status) == "refund" and first(orders.status) == "paid")"));
    EXPECT_FALSE(eval(R"(exists last(track.properties.nope))"));

    EXPECT_TRUE(eval(R"(distinct_count(track.properties.sku) == 3)"));
    EXPECT_TRUE(eval(R"(distinct_count(track.properties.price) == 2)"));  // "12" and 12 differ
    EXPECT_TRUE(eval(R"(distinct_count(orders.currency) == 2)"));
    EXPECT_TRUE(
        eval(R"(distinct_count(track.properties.nested) == 0)"));  // objects are not counted

    // Profiles without rows.
    EXPECT_TRUE(eval(R"(count(orders) == 0 and sum(orders.total_minor) == 0)", empty));
    EXPECT_TRUE(eval(R"(distinct_count(orders.currency) < 1)", empty));
    EXPECT_FALSE(eval(R"(exists max(orders.total_minor))", empty));
    EXPECT_FALSE(eval(R"(exists first(orders.currency))", empty));
    EXPECT_TRUE(eval(R"(exists count(orders))", empty));
}

TEST_F(SegmentEval, WindowBoundaryIsInclusive) {
    profile::ProfileSnapshot s;
    s.events = {ev(1, "E", "2024-05-31T12:00:00.000Z"), ev(2, "E", "2024-05-31T11:59:59.999Z"),
                ev(3, "E", "2024-06-01T12:00:00.000Z"), ev(4, "E", "2024-06-02T00:00:00.000Z")};
    EXPECT_TRUE(eval(R"(count(track within 1d) == 3)", s));  // includes the future event
    EXPECT_TRUE(eval(R"(count(track within 86400s) == 3)", s));
    EXPECT_TRUE(eval(R"(count(track within 24h) == 3)", s));
    EXPECT_TRUE(eval(R"(count(track within 1440m) == 3)", s));
    EXPECT_TRUE(eval(R"(count(track within 1w) == 4)", s));
}

TEST_F(SegmentEval, ComputedTraits) {
    EXPECT_TRUE(eval(R"(computed.orders_90d == 3)"));
    EXPECT_TRUE(eval(R"(computed.eur_ltv == 7000)"));
    EXPECT_TRUE(eval(R"(computed.last_sku == "C-3")"));
    EXPECT_EQ(value("computed.eur_ltv", a), json(7000));
    EXPECT_EQ(value("computed.last_sku", empty), std::nullopt);
    EXPECT_EQ(value("computed.orders_90d", empty), json(0));

    // The evaluator refuses what it cannot know.
    auto r = parse_segment("computed.orders_90d > 1", ParseOptions{&computed});
    ASSERT_TRUE(r.ok());
    EXPECT_THROW(evaluate(*r.value, a, Context{kNow, nullptr}), EvalError);
    EXPECT_THROW(evaluate(*r.value, a, Context{"yesterday", &computed}), EvalError);
}

TEST_F(SegmentEval, OperandValues) {
    EXPECT_EQ(value("traits.country", a), json("DE"));
    EXPECT_EQ(value("traits.address.geo", a), json::parse(R"({"lat": 52.5})"));
    EXPECT_EQ(value("traits.address.no", a), std::nullopt);
    EXPECT_EQ(value(R"(traits."first name")", a), json("Ann"));
    EXPECT_EQ(value("count(orders)", a), json(4));
    EXPECT_EQ(value("sum(track.properties.revenue)", a), json(114.5));
    EXPECT_EQ(value("first(orders.currency)", a), json("USD"));
    EXPECT_EQ(value("min(track.properties.revenue)", a), json(4));
}

TEST(SegmentValues, ExactNumbers) {
    EXPECT_EQ(compare_int_double(9007199254740993LL, 9007199254740992.0), 1);
    EXPECT_EQ(compare_int_double(9007199254740992LL, 9007199254740992.0), 0);
    EXPECT_EQ(compare_int_double(INT64_MAX, 9223372036854775808.0), -1);
    EXPECT_EQ(compare_int_double(INT64_MIN, -9223372036854775808.0), 0);
    EXPECT_EQ(compare_int_double(-1, -0.5), -1);
    EXPECT_EQ(compare_int_double(0, -0.0), 0);
    EXPECT_TRUE(values_equal(json(5), json(5.0)));
    EXPECT_FALSE(values_equal(json(1), json(true)));
    EXPECT_FALSE(values_equal(json("1"), json(1)));
    EXPECT_EQ(values_order(json("b"), json("a")), 1);
    EXPECT_EQ(values_order(json("é"), json("z")), 1);  // bytes, not code points or locale
    EXPECT_EQ(values_order(json(1), json("a")), std::nullopt);
}

TEST(SegmentValues, ExactSumIsOrderIndependent) {
    ExactSum a, b;
    for (double v : {0.1, 0.2, 0.3}) a.add_double(v);
    for (double v : {0.3, 0.2, 0.1}) b.add_double(v);
    EXPECT_EQ(a.double_result(), b.double_result());
    EXPECT_EQ(a.double_result(), 0.6);

    ExactSum big, big2;
    big.add_int(INT64_MAX);
    big.add_int(1);
    big.add_int(-1);
    big2.add_int(-1);
    big2.add_int(INT64_MAX);
    big2.add_int(1);
    EXPECT_TRUE(big.result_is_integer());
    EXPECT_EQ(big.integer_result(), INT64_MAX);
    EXPECT_EQ(big2.integer_result(), INT64_MAX);

    ExactSum over;
    over.add_int(INT64_MAX);
    over.add_int(INT64_MAX);
    EXPECT_FALSE(over.result_is_integer());
    EXPECT_EQ(over.double_result(), 2.0 * 9223372036854775807.0);

    ExactSum mixed, mixed2;
    mixed.add_int(9007199254740993LL);
    mixed.add_double(0.5);
    mixed2.add_double(0.5);
    mixed2.add_int(9007199254740993LL);
    EXPECT_EQ(mixed.double_result(), mixed2.double_result());
    EXPECT_EQ(mixed.double_result(), 9007199254740994.0);

    ExactSum none;
    EXPECT_EQ(none.result(), json(0));
    EXPECT_TRUE(none.result().is_number_integer());
    ExactSum ints;
    ints.add_int(2);
    ints.add_int(3);
    EXPECT_TRUE(ints.result().is_number_integer());
    ints.add_double(0.0);
    EXPECT_TRUE(ints.result().is_number_float());
    EXPECT_EQ(ints.result(), json(5.0));
}

TEST(SegmentValues, Timestamps) {
    EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:00.000Z"), 0);
    EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:01Z"), 1000);
    EXPECT_EQ(parse_timestamp_ms("1969-12-31T23:59:59.999Z"), -1);
    EXPECT_EQ(parse_timestamp_ms("2024-02-29T12:00:00.123456Z") % 1000, 123);
    EXPECT_THROW(parse_timestamp_ms("2024-02-29 12:00:00Z"), std::invalid_argument);
    EXPECT_THROW(parse_timestamp_ms("2024-02-29T12:00:00+01:00"), std::invalid_argument);
    Duration d{90, 'd'};
    EXPECT_EQ(window_cutoff("2024-06-01T12:00:00.000Z", d), "2024-03-03T12:00:00.000Z");
    EXPECT_EQ(window_cutoff("2024-03-01T00:00:00.500Z", Duration{1, 'd'}),
              "2024-02-29T00:00:00.500Z");
    EXPECT_EQ(window_cutoff("2024-01-01T00:00:00.000Z", Duration{1, 's'}),
              "2023-12-31T23:59:59.000Z");
}

}  // namespace
}  // namespace cdphub::segment

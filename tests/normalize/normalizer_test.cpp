#include "normalize/normalizer.hpp"

#include <gtest/gtest.h>

#include "normalize/time.hpp"

namespace cdphub::normalize {
namespace {

using nlohmann::json;
using namespace std::chrono;

const Timestamp kReceived = sys_days{2024y / May / 1} + 10h;

class NormalizerTest : public ::testing::Test {
  protected:
    Result run(const json& raw) const { return normalizer_.normalize(raw, "crm-main", kReceived); }
    Result run_text(std::string_view text) const { return run(json::parse(text)); }

    NormalizedRecord accept(const json& raw) const {
        auto r = run(raw);
        if (!r.ok()) {
            ADD_FAILURE() << to_string(r.rejection().reason) << ": " << r.rejection().message;
            return {};
        }
        return r.record();
    }
    Rejection refuse(const json& raw, RejectReason expected) const {
        auto r = run(raw);
        if (r.ok()) {
            ADD_FAILURE() << "accepted: " << to_json(r.record()).dump();
            return {};
        }
        EXPECT_EQ(to_string(r.rejection().reason), to_string(expected)) << r.rejection().message;
        EXPECT_FALSE(r.rejection().message.empty());
        return r.rejection();
    }

    static json identify() {
        return json::parse(R"({"type": "identify", "record_id": "u42-1",
            "occurred_at": "2024-05-01T09:30:00Z",
            "identifiers": {"email": " Ann@Example.com ", "user_id": "42"},
            "traits": {"first_name": "Ann"}})");
    }
    static json order(json money) {
        json o = {{"type", "order"},
                  {"record_id", "o-1"},
                  {"occurred_at", "2024-05-01T09:31:00+02:00"},
                  {"identifiers", {{"user_id", "42"}}},
                  {"order", {{"id", "991"}, {"lines", json::array()}}}};
        o["order"].update(money);
        return o;
    }

    Normalizer normalizer_{Options{}};
};

TEST_F(NormalizerTest, IdentifyNormalized) {
    auto r = accept(identify());
    EXPECT_EQ(r.type, RecordType::identify);
    EXPECT_EQ(r.source, "crm-main");
    EXPECT_EQ(r.record_id, "u42-1");
    EXPECT_EQ(r.occurred_at, sys_days{2024y / May / 1} + 9h + 30min);
    EXPECT_EQ(r.received_at, kReceived);
    ASSERT_EQ(r.identifiers.size(), 2u);
    EXPECT_EQ(r.identifiers[0].type, "email");
    EXPECT_EQ(r.identifiers[0].value, "ann@example.com");
    EXPECT_EQ(r.identifiers[0].original, " Ann@Example.com ");
    EXPECT_EQ(r.identifiers[1].value, "42");
    EXPECT_EQ(r.traits["first_name"], "Ann");
    EXPECT_TRUE(r.warnings.empty());
}

TEST_F(NormalizerTest, TrackNeedsEvent) {
    json t = identify();
    t["type"] = "track";
    auto rej = refuse(t, RejectReason::invalid_field);
    EXPECT_NE(rej.message.find("event"), std::string::npos);
    t["event"] = "Order Completed";
    t["properties"] = {{"value", 3}};
    auto r = accept(t);
    EXPECT_EQ(r.event, "Order Completed");
    EXPECT_EQ(r.properties["value"], 3);
}

TEST_F(NormalizerTest, RejectNotAnObject) {
    for (const char* text : {"[1,2]", "\"hello\"", "42", "null"}) {
        auto r = run_text(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_EQ(r.rejection().reason, RejectReason::not_an_object);
        EXPECT_EQ(r.rejection().raw, json::parse(text).dump());
    }
}

TEST_F(NormalizerTest, RejectUnknownType) {
    json j = identify();
    j.erase("type");
    EXPECT_NE(refuse(j, RejectReason::unknown_type).message.find("missing"), std::string::npos);
    j["type"] = "page";
    EXPECT_NE(refuse(j, RejectReason::unknown_type).message.find("\"page\""), std::string::npos);
    j["type"] = 3;
    refuse(j, RejectReason::unknown_type);
    j["type"] = "Identify";  // case matters: the schema enum is lower-case
    refuse(j, RejectReason::unknown_type);
}

TEST_F(NormalizerTest, RejectMissingRecordId) {
    json j = identify();
    j.erase("record_id");
    refuse(j, RejectReason::missing_record_id);
    j["record_id"] = "";
    refuse(j, RejectReason::missing_record_id);
    j["record_id"] = 17;
    refuse(j, RejectReason::missing_record_id);
    j["record_id"] = std::string(257, 'x');
    refuse(j, RejectReason::missing_record_id);
    j["record_id"] = std::string(256, 'x');
    accept(j);
    j.erase("record_id");
    j["messageId"] = "seg-1";  // Segment spelling accepted
    EXPECT_EQ(accept(j).record_id, "seg-1");
}

TEST_F(NormalizerTest, RejectBadTimestamp) {
    json j = identify();
    j.erase("occurred_at");
    refuse(j, RejectReason::bad_timestamp);
    j["occurred_at"] = "2024-02-30T00:00:00Z";
    EXPECT_NE(refuse(j, RejectReason::bad_timestamp).message.find("no such date"),
              std::string::npos);
    j["occurred_at"] = "2024-05-01T09:30:00";  // no offset
    EXPECT_NE(refuse(j, RejectReason::bad_timestamp).message.find("offset"), std::string::npos);
    j["occurred_at"] = 1714555800;
    refuse(j, RejectReason::bad_timestamp);
    // Beyond the allowed skew after received_at (10:00Z + 1h).
    j["occurred_at"] = "2024-05-01T11:00:01Z";
    EXPECT_NE(refuse(j, RejectReason::bad_timestamp).message.find("skew"), std::string::npos);
    j["occurred_at"] = "2024-05-01T11:00:00Z";
    accept(j);
}

TEST_F(NormalizerTest, RejectNoIdentifier) {
    json j = identify();
    j.erase("identifiers");
    refuse(j, RejectReason::no_identifier);
    j["identifiers"] = json::object();
    refuse(j, RejectReason::no_identifier);
    // Only unusable values: the message lists why each was dropped.
    j["identifiers"] = {{"email", "not-an-email"}, {"phone", "12"}};
    auto rej = refuse(j, RejectReason::no_identifier);
    EXPECT_NE(rej.message.find("identifiers.email"), std::string::npos) << rej.message;
    EXPECT_NE(rej.message.find("identifiers.phone"), std::string::npos) << rej.message;
}

TEST_F(NormalizerTest, BadIdentifierIsAWarningWhenAnotherRemains) {
    json j = identify();
    j["identifiers"] = {{"email", "not-an-email"},
                        {"phone", {"+49 30 1234567", "12", "+49 (30) 123-4567"}},
                        {"Bad-Type", "x"},
                        {"crm_id", 1234}};
    auto r = accept(j);
    ASSERT_EQ(r.identifiers.size(), 2u);  // phone deduplicated after cleansing
    EXPECT_EQ(r.identifiers[0].type, "crm_id");
    EXPECT_EQ(r.identifiers[0].value, "1234");
    EXPECT_EQ(r.identifiers[1].value, "+49301234567");
    EXPECT_EQ(r.warnings.size(), 3u);  // bad type, bad email, bad phone
}

TEST_F(NormalizerTest, HashedEmailInEmailFieldMoved) {
    json j = identify();
    const std::string h(64, 'A');
    j["identifiers"] = {{"email", h}};
    auto r = accept(j);
    ASSERT_EQ(r.identifiers.size(), 1u);
    EXPECT_EQ(r.identifiers[0].type, "email_sha256");
    EXPECT_EQ(r.identifiers[0].value, std::string(64, 'a'));
    EXPECT_TRUE(r.identifiers[0].hashed);
}

TEST_F(NormalizerTest, MoneyEur) {
    auto r = accept(order({{"currency", "eur"},
                           {"total_minor", 1299},
                           {"tax_minor", 207},
                           {"discount_minor", 100},
                           {"status", "paid"},
                           {"lines", {{{"sku", "A-1"}, {"quantity", 2}, {"price_minor", 699}}}}}));
    ASSERT_TRUE(r.order);
    EXPECT_EQ(r.order->currency, "EUR");
    EXPECT_EQ(r.order->total_minor, 1299);
    EXPECT_EQ(r.order->tax_minor, 207);
    EXPECT_EQ(r.order->discount_minor, 100);
    EXPECT_EQ(r.order->status, "paid");
    ASSERT_EQ(r.order->lines.size(), 1u);
    EXPECT_EQ(r.order->lines[0].price_minor, 699);
    EXPECT_EQ(r.occurred_at, sys_days{2024y / May / 1} + 7h + 31min);
}

TEST_F(NormalizerTest, MoneyJpyAndKwd) {
    EXPECT_EQ(accept(order({{"currency", "JPY"}, {"total_minor", 1500}})).order->total_minor, 1500);
    EXPECT_EQ(accept(order({{"currency", "KWD"}, {"total_minor", 1299}})).order->total_minor, 1299);
    auto rej =
        refuse(order({{"currency", "JPY"}, {"total_minor", 15.5}}), RejectReason::invalid_money);
    EXPECT_NE(rej.message.find("JPY has no minor unit"), std::string::npos) << rej.message;
    rej = refuse(order({{"currency", "KWD"}, {"total_minor", 1.299}}), RejectReason::invalid_money);
    EXPECT_NE(rej.message.find("1.299 KWD is 1299"), std::string::npos) << rej.message;
    rej = refuse(order({{"currency", "EUR"}, {"total_minor", 12.99}}), RejectReason::invalid_money);
    EXPECT_NE(rej.message.find("12.99 EUR is 1299"), std::string::npos) << rej.message;
}

TEST_F(NormalizerTest, NegativeTotalsAllowedForRefunds) {
    auto r =
        accept(order({{"currency", "EUR"},
                      {"total_minor", -1299},
                      {"status", "refunded"},
                      {"lines", {{{"sku", "A-1"}, {"quantity", -1}, {"price_minor", 1299}}}}}));
    EXPECT_EQ(r.order->total_minor, -1299);
    EXPECT_EQ(r.order->lines[0].quantity, -1);
}

TEST_F(NormalizerTest, RejectInvalidMoney) {
    refuse(order({{"total_minor", 100}}), RejectReason::invalid_money);  // no currency
    refuse(order({{"currency", "XXX"}, {"total_minor", 100}}), RejectReason::invalid_money);
    refuse(order({{"currency", "EURO"}, {"total_minor", 100}}), RejectReason::invalid_money);
    refuse(order({{"currency", 978}, {"total_minor", 100}}), RejectReason::invalid_money);
    refuse(order({{"currency", "EUR"}}), RejectReason::invalid_money);  // no total
    refuse(order({{"currency", "EUR"}, {"total_minor", "1299"}}), RejectReason::invalid_money);
    refuse(order({{"currency", "EUR"}, {"total_minor", 9007199254740992}}),
           RejectReason::invalid_money);
    refuse(order({{"currency", "EUR"}, {"total_minor", 18446744073709551615ull}}),
           RejectReason::invalid_money);
    refuse(order({{"currency", "EUR"}, {"total_minor", 1}, {"tax_minor", 0.5}}),
           RejectReason::invalid_money);
    auto rej = refuse(order({{"currency", "EUR"},
                             {"total_minor", 1},
                             {"lines", {{{"sku", "A"}, {"quantity", 1}, {"price_minor", 1.5}}}}}),
                      RejectReason::invalid_money);
    EXPECT_NE(rej.message.find("order.lines[0].price_minor"), std::string::npos) << rej.message;
}

TEST_F(NormalizerTest, RejectInvalidOrderFields) {
    json j = order({{"currency", "EUR"}, {"total_minor", 1}});
    j.erase("order");
    refuse(j, RejectReason::invalid_field);
    j["order"] = "991";
    refuse(j, RejectReason::invalid_field);
    refuse(order({{"id", nullptr}, {"currency", "EUR"}, {"total_minor", 1}}),
           RejectReason::invalid_field);
    refuse(order({{"currency", "EUR"}, {"total_minor", 1}, {"lines", "A"}}),
           RejectReason::invalid_field);
    refuse(order({{"currency", "EUR"},
                  {"total_minor", 1},
                  {"lines", {{{"quantity", 1}, {"price_minor", 1}}}}}),
           RejectReason::invalid_field);  // line without sku
    refuse(order({{"currency", "EUR"},
                  {"total_minor", 1},
                  {"lines", {{{"sku", "A"}, {"quantity", 1.5}, {"price_minor", 1}}}}}),
           RejectReason::invalid_field);
}

TEST_F(NormalizerTest, Alias) {
    json j = identify();
    j["type"] = "alias";
    refuse(j, RejectReason::invalid_field);
    j["alias"] = {{"previous_id", {{"type", "anonymous_id"}, {"value", "anon-7"}}}};
    auto r = accept(j);
    ASSERT_TRUE(r.alias);
    EXPECT_EQ(r.alias->previous_id.type, "anonymous_id");
    EXPECT_EQ(r.alias->previous_id.value, "anon-7");
    j["alias"] = {{"previous_id", {{"type", "email"}, {"value", "nope"}}}};
    refuse(j, RejectReason::invalid_field);
    j["alias"] = {{"previous_id", {{"type", "Bad Type"}, {"value", "x"}}}};
    refuse(j, RejectReason::invalid_field);
}

TEST_F(NormalizerTest, Consent) {
    json j = identify();
    j["type"] = "consent";
    refuse(j, RejectReason::invalid_field);
    j["consent"] = {{"purpose", "email_marketing"}, {"granted", "yes"}};
    refuse(j, RejectReason::invalid_field);
    j["consent"] = {{"purpose", "email_marketing"}, {"granted", false}, {"source", "web-form"}};
    auto r = accept(j);
    ASSERT_TRUE(r.consent);
    EXPECT_EQ(r.consent->purpose, "email_marketing");
    EXPECT_FALSE(r.consent->granted);
    EXPECT_EQ(r.consent->source, "web-form");
}

TEST_F(NormalizerTest, RejectInvalidShapes) {
    json j = identify();
    j["traits"] = "Ann";
    refuse(j, RejectReason::invalid_field);
    j = identify();
    j["identifiers"] = json::array({"email", "ann@example.com"});
    refuse(j, RejectReason::invalid_field);
}

TEST_F(NormalizerTest, UnknownFieldsAndForeignSourceAreWarnings) {
    json j = identify();
    j["occured_at"] = "typo";
    j["source"] = "someone-else";
    auto r = accept(j);
    ASSERT_EQ(r.warnings.size(), 2u);
    EXPECT_NE(r.warnings[0].find("occured_at"), std::string::npos);
    EXPECT_EQ(r.source, "crm-main");
}

TEST_F(NormalizerTest, PluginReportedErrorKeepsMessageAndRawLine) {
    auto r = run_text(R"({"_raw": "{\"type\": \"identify\", oops", "_error":
        "not valid JSON: parse error at line 1, column 22: syntax error", "_file": "events-2.ndjson",
        "_line": 17})");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.rejection().reason, RejectReason::plugin_reported_error);
    EXPECT_NE(
        r.rejection().message.find("events-2.ndjson:17: not valid JSON: parse error at line 1, "
                                   "column 22: syntax error"),
        std::string::npos)
        << r.rejection().message;
    EXPECT_EQ(r.rejection().raw, R"({"type": "identify", oops)");

    // Without _raw/_file/_line the wrapper itself is kept.
    r = run_text(R"({"_error": "line longer than max_line_bytes"})");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.rejection().reason, RejectReason::plugin_reported_error);
    EXPECT_NE(r.rejection().message.find("max_line_bytes"), std::string::npos);
    EXPECT_NE(r.rejection().raw.find("_error"), std::string::npos);
}

TEST_F(NormalizerTest, RawTextPreservedInRejections) {
    json j = identify();
    j["type"] = "page";
    j["traits"]["nested"] = {1, 2, {{"k", "ü"}}};
    auto rej = refuse(j, RejectReason::unknown_type);
    EXPECT_EQ(json::parse(rej.raw), j);
}

TEST_F(NormalizerTest, InvalidUtf8InMemoryDoesNotThrow) {
    json j = identify();
    j["type"] = std::string("pa\xff\xfege");
    auto r = run(j);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.rejection().reason, RejectReason::unknown_type);
    EXPECT_FALSE(r.rejection().raw.empty());
}

TEST_F(NormalizerTest, ToJsonIsIdempotent) {
    json j =
        order({{"currency", "jpy"},
               {"total_minor", 1500},
               {"lines", {{{"sku", 7}, {"name", "Tea"}, {"quantity", 1}, {"price_minor", 1500}}}}});
    j["identifiers"] = {{"email", {"Ann@Example.com", "ann@work.example"}},
                        {"phone", "+49 30 1234567"}};
    auto first = accept(j);
    json wire = to_json(first);
    EXPECT_EQ(wire["occurred_at"], "2024-05-01T07:31:00.000Z");
    EXPECT_EQ(wire["identifiers"]["email"], json({"ann@example.com", "ann@work.example"}));
    EXPECT_EQ(wire["order"]["lines"][0]["sku"], "7");
    auto second = accept(wire);
    EXPECT_EQ(to_json(second), wire);
    EXPECT_TRUE(second.warnings.empty());
}

TEST_F(NormalizerTest, ReasonNamesStable) {
    EXPECT_EQ(to_string(RejectReason::not_an_object), "not_an_object");
    EXPECT_EQ(to_string(RejectReason::plugin_reported_error), "plugin_reported_error");
    EXPECT_THROW(Normalizer(Options{"ZZ"}), std::invalid_argument);
}

}  // namespace
}  // namespace cdphub::normalize

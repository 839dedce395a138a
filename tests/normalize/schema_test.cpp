// The published JSON Schema and the normalizer must agree: documented examples validate, the
// normalizer's wire form validates, and records the schema forbids are caught by it.
#include <gtest/gtest.h>

#include <fstream>

#include "manifest/schema_check.hpp"
#include "normalize/normalizer.hpp"

namespace cdphub::normalize {
namespace {

using nlohmann::json;
using namespace std::chrono;

const manifest::detail::SchemaChecker& checker() {
    static const manifest::detail::SchemaChecker c = [] {
        std::ifstream in(std::string(CDPHUB_SOURCE_DIR) +
                         "/sdk/schema/canonical-record.schema.json");
        return manifest::detail::SchemaChecker(json::parse(in));
    }();
    return c;
}

std::string problems(const json& doc) {
    std::string out;
    for (const auto& d : checker().check(doc, {}))
        if (d.is_error()) out += d.pointer + ": " + d.message + "\n";
    return out;
}

const char* kExamples[] = {
    R"({"type": "identify", "record_id": "u42-1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"email": "ann@example.com", "user_id": "42"}, "traits": {"first_name": "Ann"}})",
    R"({"type": "order", "record_id": "o-991", "occurred_at": "2024-05-01T09:31:00Z", "identifiers": {"user_id": "42"}, "order": {"id": "991", "currency": "EUR", "total_minor": 1299, "lines": []}})",
    R"({"type": "track", "record_id": "e-1", "occurred_at": "2024-05-01T11:30:00.250+02:00", "identifiers": {"anonymous_id": "d-9", "phone": ["+49 30 1234567"]}, "event": "Product Viewed", "properties": {"sku": "A-1"}})",
    R"({"type": "alias", "record_id": "a-1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "42"}, "alias": {"previous_id": {"type": "anonymous_id", "value": "d-9"}}})",
    R"({"type": "consent", "record_id": "c-1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"email_sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}, "consent": {"purpose": "email_marketing", "granted": true, "source": "web-form"}})",
};

TEST(CanonicalSchema, ExamplesValidateAndNormalize) {
    const Normalizer n;
    const Timestamp received = sys_days{2024y / May / 1} + 10h;
    for (const char* text : kExamples) {
        const json raw = json::parse(text);
        EXPECT_EQ(problems(raw), "") << text;
        const Result r = n.normalize(raw, "src", received);
        ASSERT_TRUE(r.ok()) << r.rejection().message;
        EXPECT_EQ(problems(to_json(r.record())), "") << to_json(r.record()).dump();
    }
}

TEST(CanonicalSchema, ForbiddenShapesFail) {
    const char* bad[] = {
        R"({"type": "identify", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "1"}})",
        R"({"type": "page", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "1"}})",
        R"({"type": "track", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "1"}})",
        R"({"type": "order", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "1"}, "order": {"id": "1", "currency": "EUR", "total_minor": 12.99}})",
        R"({"type": "identify", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"Bad-Type": "1"}})",
        R"({"type": "identify", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"email_sha256": "abc"}})",
        R"({"type": "identify", "record_id": "1", "occurred_at": "2024-05-01T09:30:00Z", "identifiers": {"user_id": "1"}, "occured_at": "x"})",
    };
    for (const char* text : bad) EXPECT_NE(problems(json::parse(text)), "") << text;
}

}  // namespace
}  // namespace cdphub::normalize

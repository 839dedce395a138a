// The typed canonical record: what every source record becomes after normalization.
// See docs/canonical-record.md and sdk/schema/canonical-record.schema.json for the wire form.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdphub::normalize {

// Millisecond precision: finer digits in source timestamps are truncated (documented), which keeps
// every value representable in SQL and JavaScript consumers of the store.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

enum class RecordType { identify, track, order, alias, consent };

std::string_view to_string(RecordType t);
std::optional<RecordType> parse_record_type(std::string_view s);

// One cleansed identifier. `original` keeps the value as the source sent it, for explain output
// and for audits of the cleansing rules.
struct Identifier {
    std::string type;   // "email", "phone", "email_sha256", a custom type, ...
    std::string value;  // cleansed: lower-case email, E.164 phone, lower-case hex digest, ...
    bool hashed = false;
    std::string original;

    bool operator==(const Identifier&) const = default;
};

struct OrderLine {
    std::string sku;
    std::string name;  // empty when not sent
    std::int64_t quantity = 0;
    std::int64_t price_minor = 0;  // unit price, in the order's currency minor units

    bool operator==(const OrderLine&) const = default;
};

struct Order {
    std::string id;
    std::string currency;  // ISO-4217 alphabetic code, upper-case
    std::int64_t total_minor = 0;
    std::optional<std::int64_t> tax_minor;
    std::optional<std::int64_t> discount_minor;
    std::string status;  // empty when not sent
    std::vector<OrderLine> lines;

    bool operator==(const Order&) const = default;
};

struct Alias {
    Identifier previous_id;
    bool operator==(const Alias&) const = default;
};

struct Consent {
    std::string purpose;
    bool granted = false;
    std::string source;  // where the consent was collected; empty when not sent
    bool operator==(const Consent&) const = default;
};

struct NormalizedRecord {
    RecordType type = RecordType::identify;
    std::string source;  // connector instance, filled by the hub
    std::string record_id;
    Timestamp occurred_at{};
    Timestamp received_at{};
    std::vector<Identifier> identifiers;
    nlohmann::json traits = nlohmann::json::object();
    std::string event;  // track only
    nlohmann::json properties = nlohmann::json::object();
    std::optional<Order> order;
    std::optional<Alias> alias;
    std::optional<Consent> consent;
    // Non-fatal findings (an unusable identifier value, an ignored field). The record is still
    // used; the pipeline logs or stores these so nothing is lost without a trace.
    std::vector<std::string> warnings;

    bool operator==(const NormalizedRecord&) const = default;
};

// The canonical wire form (validates against canonical-record.schema.json). Identifiers become an
// object of type -> value (or array when a type has several values); warnings and originals are
// not part of the wire form. Normalizing the output again yields the same record (idempotent).
nlohmann::json to_json(const NormalizedRecord& r);

}  // namespace cdphub::normalize

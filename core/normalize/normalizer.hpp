// The normalizer: one raw record (JSON from a source) in, a typed NormalizedRecord or a Rejection
// out. Stateless after construction and const, so one instance serves all pipeline threads.
#pragma once

#include "normalize/identifiers.hpp"
#include "normalize/record.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cdphub::normalize {

// Why a record went to the rejected store. Stable names (to_string) are stored and documented in
// docs/canonical-record.md; append new codes, never renumber.
enum class RejectReason {
    not_an_object,          // the record is not a JSON object
    unknown_type,           // "type" missing or not one of identify/track/order/alias/consent
    missing_record_id,      // "record_id" missing, empty, not a string, or longer than 256
    no_identifier,          // no usable identifier remained after cleansing
    bad_timestamp,          // "occurred_at" missing, not RFC 3339 with offset, or too far ahead
    invalid_money,          // order currency unknown or an amount not integer minor units
    invalid_field,          // any other field with the wrong shape (event, order.id, consent ...)
    plugin_reported_error,  // the source passed a line it could not read ({"_raw","_error",...})
};

std::string_view to_string(RejectReason r);

struct Rejection {
    RejectReason reason = RejectReason::invalid_field;
    // What is wrong, where (field path, or file:line from the source), and what to do about it.
    std::string message;
    // The record as received, as JSON text (for plugin-reported errors: the source's raw line).
    std::string raw;
};

class Result {
  public:
    Result(NormalizedRecord r) : v_(std::move(r)) {}  // NOLINT: implicit by design
    Result(Rejection r) : v_(std::move(r)) {}         // NOLINT: implicit by design

    bool ok() const { return std::holds_alternative<NormalizedRecord>(v_); }
    const NormalizedRecord& record() const { return std::get<NormalizedRecord>(v_); }
    NormalizedRecord& record() { return std::get<NormalizedRecord>(v_); }
    const Rejection& rejection() const { return std::get<Rejection>(v_); }

  private:
    std::variant<NormalizedRecord, Rejection> v_;
};

struct Options {
    // Region for phone numbers written without '+', ISO 3166-1 alpha-2.
    std::string default_region = "US";
    bool strict_phone_validation = true;
    // occurred_at may be at most this far after received_at. Beyond it the clock or the offset is
    // wrong (a local time sent as 'Z' lands hours in the future), and a future event would win
    // every "most recent" trait decision until that time.
    std::chrono::milliseconds max_future_skew = std::chrono::hours(1);
};

class Normalizer {
  public:
    // Throws std::invalid_argument for an unknown default region.
    explicit Normalizer(Options options = {});

    // Never throws: every input ends as a record or a rejection with a non-empty message.
    Result normalize(const nlohmann::json& raw, std::string_view source,
                     Timestamp received_at) const;

    // An identifier as the store holds it (lower-cased email, E.164 phone, ...), for looking a
    // profile up by what an admin typed. nullopt if it is not a usable identifier.
    std::optional<std::pair<std::string, std::string>> lookup_form(std::string_view type,
                                                                   std::string_view value) const;

    const Options& options() const { return options_; }

  private:
    Options options_;
    IdentifierCleanser cleanser_;
};

}  // namespace cdphub::normalize

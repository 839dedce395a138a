// Writes the data set: three sources (crm, web, pos), each on its own thread into its own file,
// plus what was generated, for manifest.json. See docs/benchmark-data.md.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "population.hpp"

namespace cdphub::gen {

enum class SourceId : int { crm = 0, web = 1, pos = 2 };
constexpr int kSources = 3;
std::string_view source_name(SourceId s);

enum class RecType : int { identify, track, order, alias, consent };
constexpr int kRecTypes = 5;
std::string_view rec_type_name(RecType t);

// Deliberately bad records, and the reason the hub rejects them with.
enum class BadKind : int {
    bad_timestamp,
    missing_identifiers,
    decimal_money,
    unknown_type,
    malformed_json
};
constexpr int kBadKinds = 5;
std::string_view bad_kind_name(BadKind k);
std::string_view expected_reason(BadKind k);

struct SourceStats {
    uint64_t records = 0;  // lines written
    uint64_t bytes = 0;
    uint64_t good = 0;        // valid, distinct records (not duplicates, not bad)
    uint64_t duplicates = 0;  // exact re-sends of an earlier good line (same record_id)
    uint64_t bad = 0;
    std::array<uint64_t, kRecTypes> by_type{};  // good records only
    std::array<uint64_t, kBadKinds> bad_by_kind{};
    uint64_t person_sessions = 0;   // histories of population members
    uint64_t visitor_sessions = 0;  // web: anonymous visitors, one fresh device each
    uint64_t placeholder_values = 0;
    uint64_t placeholder_only_records = 0;  // records whose every identifier is a placeholder
    uint64_t shared_device_visits = 0;      // web: visits on another person's device
    uint64_t second_email_records = 0;      // records with the person's second address
    uint64_t records_with_phone = 0;
    uint64_t refunds = 0;                          // pos: refund/return records of an earlier order
    std::array<uint64_t, 4> orders_by_currency{};  // pos, good orders (EUR, USD, GBP, JPY)
};

struct Summary {
    std::array<uint64_t, kSources> planned{};  // records per source
    std::array<SourceStats, kSources> sources{};
    uint64_t people = 0;
    uint64_t people_with_records = 0;
    std::array<uint64_t, kSources + 1> people_by_source_count{};  // in 0, 1, 2 or 3 sources
    uint64_t recycled_email_pairs = 0;  // previous and new owner both appear
    uint64_t visitor_devices = 0;
    uint64_t expected_distinct_people = 0;
};

// Records per source for `cfg` (crm and pos rounded down, web gets the rest).
std::array<uint64_t, kSources> plan_counts(const Config& cfg);

// Writes DIR/{crm,web,pos}.ndjson and DIR/{crm,web,pos}.expected-rejections.jsonl. Throws
// std::runtime_error on I/O errors.
Summary generate(const Config& cfg, const std::filesystem::path& dir);

}  // namespace cdphub::gen

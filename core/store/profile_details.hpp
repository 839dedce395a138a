// Read models of one profile, for `cdphub profile show/explain`, the admin API and tests.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/profile_writer.hpp"

namespace cdphub::store {

struct IdentifierDetail {
    IdentifierValue id;
    bool hashed = false;
    std::string first_seen_at;
    std::string source;
    std::optional<RecordKey> record;
    std::optional<std::string> record_id;  // the source's id of that record
};

struct TraitDetail {
    std::string name;
    TraitObservation observation;
    std::optional<std::string> record_id;  // the source's id of the record that set it
};

// A record of this profile whose identifiers resolution did not all link: blocked placeholder
// values, identifiers dropped because of a limit or a separation.
struct ResolutionNote {
    RecordKey record = 0;
    std::string source;
    std::string record_id;
    nlohmann::json resolution;
};

struct MembershipDetail {
    std::string segment;
    std::string entered_at;
};

struct ProfileDetails {
    ProfileId id = 0;                    // the live profile
    std::optional<ProfileId> requested;  // the id asked for, when it was merged into `id`
    std::string created_at;
    std::string updated_at;
    std::vector<IdentifierDetail> identifiers;
    std::vector<TraitDetail> traits;
    std::map<std::string, std::pair<nlohmann::json, std::string>> computed;  // value, computed_at
    std::map<std::string, ConsentDecision> consents;
    std::int64_t events = 0;
    std::int64_t orders = 0;
    std::map<std::string, std::int64_t> records_by_source;
    // Every merge that built this profile (into it or into a profile absorbed by it), undone ones
    // included (with undone_by), in order.
    std::vector<MergeEntry> merges;
    std::vector<ResolutionNote> notes;  // at most 100, newest last
    std::vector<std::pair<IdentifierValue, IdentifierValue>> separations;
    std::vector<MembershipDetail> segments;
};

struct ProfileCounts {
    std::int64_t live = 0;
    std::int64_t merged = 0;  // tombstones
    std::int64_t identifiers = 0;
    std::int64_t merges = 0;  // not undone
    std::int64_t unmerges = 0;
    std::int64_t unresolved_records = 0;  // accepted but no identifier could link them
};

}  // namespace cdphub::store

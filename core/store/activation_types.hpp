// Segments, memberships and activation diffs as the store keeps them (schema versions 3 and 4).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/profile_writer.hpp"

namespace cdphub::store {

struct SegmentDefinition {
    std::string name;
    std::string expression;
    nlohmann::json ast;  // the parsed expression, as the segment language serializes it
};

// What a membership update did.
struct MembershipDelta {
    std::int64_t entered = 0;
    std::int64_t exited = 0;
    // Current members afterwards. Real-time updates (sqlite_update_members without counting,
    // SegmentEngine::on_changed) leave it unset: counting scans the whole segment, which on
    // every real-time batch cost more than the batch itself once segments grew.
    std::optional<std::int64_t> members;
};

// Where one destination field's value comes from. Operands name profile data the way segment
// expressions do: traits.NAME[.path...], identifiers.TYPE (the first-seen value),
// consent.PURPOSE (true/false), computed.NAME (the materialized value), profile.id.
struct FieldMapping {
    std::string field;    // destination field name
    std::string operand;  // e.g. "identifiers.email"
};

struct BindingDefinition {
    std::string name;
    std::string segment;      // segment name
    std::string destination;  // connector instance id
    std::vector<FieldMapping> mapping;
    // A profile without granted consent for this purpose is treated as not a member: never sent,
    // and removed from the destination once consent is withdrawn.
    std::optional<std::string> purpose;
};

struct DiffSummary {
    std::int64_t diff_id = 0;  // 0: nothing changed, no diff written
    bool backfill = false;     // the binding's first diff: the full membership
    std::int64_t entered = 0;
    std::int64_t exited = 0;
    std::int64_t changed = 0;
};

struct PendingChange {
    std::int64_t id = 0;
    std::int64_t diff_id = 0;
    ProfileId profile = 0;
    std::string op;  // enter, exit, update
    nlohmann::json payload;
    std::int64_t attempts = 0;
};

enum class ChangeOutcome { delivered, rejected, dead, retry };

struct BindingStatus {
    std::string name;
    std::string segment;
    std::string destination;
    std::int64_t members_planned = 0;  // rows in activation_state
    std::int64_t pending = 0;
    std::int64_t delivered = 0;
    std::int64_t rejected = 0;
    std::int64_t dead = 0;
    std::optional<std::string> last_diff_at;
};

}  // namespace cdphub::store

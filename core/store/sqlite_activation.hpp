// Segment memberships and activation diffs on SQLite: set-based SQL, so that a full evaluation or
// a diff over a million members stays one pass over indexed tables.
#pragma once

#include <chrono>

#include <SQLiteCpp/Database.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/activation_types.hpp"

namespace cdphub::store {

class StatementCache;

using SqlParam = std::variant<std::monostate, std::int64_t, double, std::string>;

std::int64_t sqlite_define_segment(SQLite::Database& db, const SegmentDefinition& s,
                                   const std::string& now);
std::vector<SegmentDefinition> sqlite_segments(SQLite::Database& db);
// Makes the members of `segment` exactly the live profiles `select_sql` returns (its first column
// is the profile id). Entered/exited timestamps are written for the difference only.
MembershipDelta sqlite_evaluate_segment(SQLite::Database& db, std::string_view segment,
                                        const std::string& select_sql,
                                        const std::vector<SqlParam>& params,
                                        const std::string& now);
// Real-time: sets membership for the given profiles only. `count_members` also counts the
// segment's members afterwards (a scan of the whole segment).
MembershipDelta sqlite_update_members(SQLite::Database& db, std::string_view segment,
                                      const std::vector<std::pair<ProfileId, bool>>& changes,
                                      const std::string& now, bool count_members = true);
std::vector<ProfileId> sqlite_members(SQLite::Database& db, std::string_view segment);

void sqlite_define_binding(SQLite::Database& db, const BindingDefinition& b,
                           const std::string& now);
// `cache` holds the diff's statements between calls (one per connection).
DiffSummary sqlite_plan_diff(SQLite::Database& db, StatementCache& cache, std::string_view binding,
                             const std::string& now,
                             std::chrono::milliseconds coalesce = std::chrono::milliseconds(0));
std::vector<PendingChange> sqlite_pending_changes(SQLite::Database& db, std::string_view binding,
                                                  std::size_t limit);
void sqlite_settle_changes(SQLite::Database& db,
                           const std::vector<std::pair<std::int64_t, ChangeOutcome>>& outcomes,
                           const std::string& error, const std::string& now);
std::vector<BindingStatus> sqlite_binding_status(SQLite::Database& db);

// Thrown for a segment or binding name the store does not know.
class UnknownName : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace cdphub::store

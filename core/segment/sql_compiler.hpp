// Full evaluation: a segment compiled to one parameterized SQLite query over the store's profile
// tables (docs/store.md, schema versions 2 and 3) that returns the ids of the live profiles in the
// segment. Gives exactly the in-memory evaluator's answers (evaluator.hpp) on the same data and
// `now`.
//
// The query is set algebra over profile ids: each condition is a SELECT of profile ids that an
// index answers (profile_traits_by_value, events_by_name, orders_by_time, consents_by_purpose,
// the identifiers' primary key); `and` is INTERSECT, `or` is UNION, `not` is a complement against
// the live profiles. Conditions that hold for profiles without rows (count(...) < 2) are compiled
// as complements, so no condition ever scans every profile. See docs/segments.md.
//
// User text never appears in the SQL: names, JSON paths, event names and values are all bound
// parameters. The SQL calls cdphub_sum (the exact sum of values.hpp); run_segment_sql
// (sqlite_backend.hpp) registers it on the connection.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "segment/ast.hpp"
#include "segment/context.hpp"

namespace cdphub::segment {

using SqlValue = std::variant<std::int64_t, double, std::string>;

struct CompiledSql {
    std::string sql;               // returns one column, profile_id: each member once, unordered
    std::vector<SqlValue> params;  // ?1, ?2, ... in order
};

// Throws EvalError for an unknown computed trait, a malformed `now` (when a window needs it) or a
// tree that check() would reject in ways SQL cannot express.
CompiledSql compile_sql(const Expr& expr, const Context& context);

// The name of the exact-sum SQL aggregate the compiled SQL uses.
inline constexpr const char* kSumFunction = "cdphub_sum";

}  // namespace cdphub::segment

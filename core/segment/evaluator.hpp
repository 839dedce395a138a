// Real-time evaluation: a segment, operand or aggregate on one profile snapshot, in memory. Gives
// exactly the answers of the SQL path (sql_compiler.hpp) on the same data and `now`; the property
// test in tests/segment checks that.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "profile/snapshot.hpp"
#include "segment/ast.hpp"
#include "segment/context.hpp"

namespace cdphub::segment {

// Whether the profile is in the segment. Throws EvalError (unknown computed trait, bad `now`).
bool evaluate(const Expr& expr, const profile::ProfileSnapshot& profile, const Context& context);

// The value of an operand on the profile, for activation field mappings; nullopt when missing.
//   traits.NAME[.key...]  the JSON value (JSON null counts as missing)
//   identifiers.TYPE      a JSON array of every value of that type (sorted), nullopt when none
//   consent.PURPOSE       true or false
//   computed.NAME, aggregates: the aggregate's value (count/sum/distinct_count are never missing)
std::optional<nlohmann::json> evaluate_operand(const Operand& operand,
                                               const profile::ProfileSnapshot& profile,
                                               const Context& context);

std::optional<nlohmann::json> evaluate_aggregate(const Aggregate& aggregate,
                                                 const profile::ProfileSnapshot& profile,
                                                 const Context& context);

}  // namespace cdphub::segment

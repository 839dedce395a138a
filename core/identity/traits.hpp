// Trait precedence: which of two observations of one trait a profile keeps. Each strategy is a
// strict order over observations, so the winner of many observations does not depend on the
// order in which they arrive (except for exact ties, settled by the later record).
#pragma once

#include "identity/rules.hpp"
#include "store/profile_writer.hpp"

namespace cdphub::identity {

// True when `candidate` should replace `current` under `rule`.
bool prefers(const TraitRule& rule, const store::TraitObservation& candidate,
             const store::TraitObservation& current);

// How much a value holds, for most_filled: string length in bytes, members of an object or array
// (counted recursively), 1 for numbers and booleans, 0 for null and "".
std::size_t filled(const nlohmann::json& value);

}  // namespace cdphub::identity

// What evaluating a segment needs besides the tree and the data: the evaluation instant and the
// computed-trait definitions. Both evaluation paths (in-memory and SQL) take the same Context, so
// the same `now` gives the same windows.
#pragma once

#include <stdexcept>
#include <string>

#include "segment/ast.hpp"

namespace cdphub::segment {

struct Context {
    // The evaluation instant in the store's format ("2024-05-01T12:00:00.000Z",
    // store::format_timestamp). Windows end here: `within 90d` means occurred_at >= now - 90d.
    // Only needed when the expression has a window.
    std::string now;
    // Definitions for computed.NAME; nullptr: none.
    const ComputedTraits* computed = nullptr;
};

// Evaluation could not run: an unknown computed trait, a malformed `now`, a tree that never went
// through check(). Never thrown for data: any stored value evaluates to true or false.
class EvalError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace cdphub::segment

// The operation format a destination's write() receives: one JSON object per outbox change,
// mapped from the planner's enter/update/exit to what a destination does with it. Documented for
// plugin authors in docs/sdk.md ("Destinations") and docs/delivery.md.
//
//   {"op": "upsert" | "remove",      what the destination should do with this person
//    "change": "enter" | "update" | "exit",   why: entered the segment, data changed, left it
//    "change_id": 1234,              outbox row id: unique, stable across retries (idempotency)
//    "binding": "vip_to_sfmc", "segment": "vip", "profile_id": 42,
//    "fields": {"email": "a@x.io", ...},   the binding's mapping; for a remove, what the
//                                          destination was last given (so it can find the person)
//    "attempt": 1}                   1 on the first try, 2 on the first retry, ...
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/activation_types.hpp"

namespace cdphub::delivery {

struct BindingRef {
    std::string name;
    std::string segment;
    std::string destination;  // connector instance id
};

nlohmann::json to_operation(const store::PendingChange& change, const BindingRef& binding);

}  // namespace cdphub::delivery

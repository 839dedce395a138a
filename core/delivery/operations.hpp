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
//
// The batch is written as text directly: the outbox keeps each change's fields as the JSON text
// the planner produced (SQLite's json_object, checked by json_valid), and parsing it only to
// serialize it again for the plugin call was a fifth of the hub's delivery cost
// (docs/benchmarks.md, "Delivery").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/activation_types.hpp"

namespace cdphub::delivery {

struct BindingRef {
    std::string name;
    std::string segment;
    std::string destination;  // connector instance id
};

// One outbox change as the delivery worker sends it.
struct OutboxChange {
    std::int64_t id = 0;
    store::ProfileId profile = 0;
    std::string op;           // enter, exit, update
    std::string fields_json;  // the mapped fields: a JSON object, as stored
    std::int64_t attempts = 0;
};

// Assembles a batch of operations for one binding: append() each change, then text() is the
// JSON array to hand to Connector::write.
class OperationBatch {
  public:
    explicit OperationBatch(const BindingRef& binding);

    // The size in bytes `change` adds to the batch (its operation and a separator).
    std::size_t size_of(const OutboxChange& change) const;
    void append(const OutboxChange& change);

    std::size_t count() const { return count_; }
    // The batch as a JSON array; the batch is not usable afterwards.
    std::string take_text();

  private:
    std::string binding_json_, segment_json_;  // quoted and escaped once per batch
    std::string text_ = "[";
    std::size_t count_ = 0;
};

}  // namespace cdphub::delivery

// What delivery needs from the store beyond the planner's outbox (store/profile_store.hpp):
// eligible changes in per-profile order, per-change outcomes with the vendor's answer, retry
// times, destination worker state and dead-letter replay. An interface so that a PostgreSQL
// backend can implement it too; sqlite_delivery_store.hpp is the embedded default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/operations.hpp"
#include "store/activation_types.hpp"

namespace cdphub::delivery {

enum class DestinationState { running, paused, auth_failed, config_failed };
std::string_view to_string(DestinationState s);
DestinationState parse_state(std::string_view s);

struct DestinationStatus {
    std::string destination;
    DestinationState state = DestinationState::running;
    std::optional<std::string> paused_until;  // store timestamp
    std::int64_t failures = 0;                // consecutive failed batches
    std::int64_t sent = 0, failed = 0;
    std::optional<std::string> last_sync_at, last_success_at, last_error;
};

// One change's fate after a write.
struct Settlement {
    std::int64_t change_id = 0;
    store::ChangeOutcome outcome = store::ChangeOutcome::retry;
    std::string error;                           // the vendor's answer, kept for failed ones
    bool count_attempt = true;                   // false: not the change's fault (429, auth)
    std::optional<std::string> next_attempt_at;  // retry: not before this (store timestamp)
};

struct ReplayResult {
    std::int64_t requeued = 0;
    // Dead changes not requeued because a later change of the same profile was delivered since:
    // sending the older one now would undo the newer.
    std::int64_t superseded = 0;
};

// Per binding, for `cdphub activations`.
struct BindingDeliveryStatus {
    store::BindingStatus counts;
    std::optional<std::string> last_delivered_at;
    std::optional<std::string> last_error;  // of the most recent failed change
};

class DeliveryStore {
  public:
    virtual ~DeliveryStore() = default;

    virtual std::vector<BindingRef> bindings() = 0;
    // Up to `limit` pending changes of `binding` that may go now, in outbox order: for each
    // profile only its earliest pending change, and only once its retry time has come. A
    // profile's later change therefore never overtakes an earlier one that is still pending.
    virtual std::vector<OutboxChange> next_changes(std::string_view binding, std::size_t limit) = 0;
    // Records the outcomes of one batch and the destination's counters in one transaction.
    // Outcomes may come in any order; each change is settled once, and only while pending.
    // A retry whose attempts reach `max_attempts` becomes dead (the dead-letter store).
    virtual void settle(std::string_view destination, const std::vector<Settlement>& outcomes,
                        int max_attempts) = 0;
    // Pending changes of `binding`, eligible now or waiting for their retry time.
    virtual std::int64_t pending(std::string_view binding) = 0;
    virtual DestinationStatus destination_status(std::string_view destination) = 0;
    virtual void save_destination_status(const DestinationStatus& status) = 0;
    virtual ReplayResult replay_dead(std::string_view binding) = 0;
    virtual std::vector<BindingDeliveryStatus> binding_status() = 0;
    // Failed changes (rejected and dead) of a binding with the vendor's answer, newest first.
    struct Failure {
        std::int64_t change_id = 0;
        std::int64_t profile_id = 0;
        std::string op, status, error;
        std::int64_t attempts = 0;
    };
    virtual std::vector<Failure> failures(std::string_view binding, std::size_t limit) = 0;
    // The store's clock, as text (timestamps above are compared as text).
    virtual std::string now_text(std::int64_t plus_ms = 0) = 0;
};

}  // namespace cdphub::delivery

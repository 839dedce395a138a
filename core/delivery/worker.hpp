// One destination's delivery worker: takes eligible changes of the destination's bindings from
// the outbox, batches them to the plugin's declared limits, calls write(), and settles the
// per-record outcomes in one transaction per batch.
//
// What it does with each outcome (docs/delivery.md has the full table):
//   ok                       delivered
//   invalid_record           rejected: a data error, kept with the vendor's answer; never retried
//   retryable / fatal        (for some records of a batch that otherwise went through) retried
//                            later with jittered backoff; dead after `max_attempts`
//   batch-wide outage        the whole destination waits (jittered exponential backoff, or the
//                            vendor's Retry-After); `breaker_threshold` failed batches in a row
//                            open the circuit breaker (state "paused") until a batch succeeds
//   rate_limited             the destination waits Retry-After (or backoff); attempts not counted
//   auth_error/config_error  the worker stops (state auth_failed / config_failed) and nothing is
//                            retried until the admin fixes the connector: no retry loop
// A profile's changes go strictly in order: a batch holds at most one change per profile, and a
// profile whose earliest change is waiting holds back its later ones (DeliveryStore).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "delivery/backoff.hpp"
#include "delivery/delivery_store.hpp"
#include "plugin_host/connector.hpp"

namespace cdphub::delivery {

struct DeliveryOptions {
    // Upper bounds; the plugin's capabilities.batch {max_records, max_bytes} lower them. High
    // enough for the largest vendor batches (SFMC async rows, Meta and LiveRamp: 10,000): a lower
    // hub cap multiplies the vendor calls (docs/benchmarks.md, "Delivery").
    std::size_t max_records = 10000;
    std::size_t max_bytes = 32u << 20;
    int max_attempts = 8;       // the retry budget per change, then the dead-letter store
    int breaker_threshold = 3;  // consecutive failed batches that open the circuit breaker
    std::chrono::milliseconds backoff_base{1000};
    std::chrono::milliseconds backoff_max{5 * 60 * 1000};
    std::uint64_t seed = 0;  // jitter; 0: random
};

struct WorkerReport {
    std::string destination;
    std::int64_t batches = 0;
    std::int64_t delivered = 0, rejected = 0, retried = 0;
    std::int64_t pending = 0;  // left in the outbox when the run ended
    DestinationState state = DestinationState::running;
    std::string last_error;
    bool stopped = false;  // asked to stop, or a wait was longer than the run allowed
};

class DestinationWorker {
  public:
    DestinationWorker(DeliveryStore& store, plugin_host::Connector& connector,
                      std::vector<BindingRef> bindings, DeliveryOptions options, StopSignal& stop);

    // Delivers until no change is left (or none can go before `max_wait` has passed), the
    // destination stops (auth/config), or `stop` is set. A pause longer than `max_wait` ends the
    // run with the pause recorded in the destination's status.
    WorkerReport run(std::chrono::milliseconds max_wait);

    std::size_t batch_records() const { return max_records_; }

  private:
    enum class Next { more, idle, wait, stop };
    Next one_batch(const BindingRef& binding, WorkerReport& report,
                   std::chrono::milliseconds& wait);

    DeliveryStore& store_;
    plugin_host::Connector& connector_;
    std::vector<BindingRef> bindings_;
    DeliveryOptions options_;
    StopSignal& stop_;
    Backoff backoff_;
    std::size_t max_records_, max_bytes_;
    DestinationStatus status_;
    std::int64_t throttled_ = 0;  // consecutive rate-limited batches
};

}  // namespace cdphub::delivery

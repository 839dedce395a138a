// Delivery for every destination at once: one worker thread per destination instance, each with
// its own connector (and so its own HTTP client and rate limit), so a slow, throttled or failing
// destination never delays another. The store serializes their short transactions; the vendors'
// HTTP calls, where the time goes, run in parallel.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "delivery/worker.hpp"
#include "manifest/manifest.hpp"

namespace cdphub::delivery {

// `defaults` with a destination's manifest "delivery" settings applied (unset ones keep theirs).
DeliveryOptions with_settings(DeliveryOptions defaults,
                              const std::optional<manifest::DeliverySettings>& settings);

class DeliveryService {
  public:
    DeliveryService(DeliveryStore& store, DeliveryOptions options);
    ~DeliveryService();  // stops and joins
    DeliveryService(const DeliveryService&) = delete;
    DeliveryService& operator=(const DeliveryService&) = delete;

    // A destination instance and the bindings it serves (all of them if `bindings` is empty),
    // delivered with `options` (the service's own if not given).
    void add(std::unique_ptr<plugin_host::Connector> connector,
             std::vector<BindingRef> bindings = {},
             std::optional<DeliveryOptions> options = std::nullopt);

    // Runs every destination's worker on its own thread until each has nothing left it can
    // deliver within `max_wait`; returns their reports by destination.
    std::map<std::string, WorkerReport> run_until_idle(std::chrono::milliseconds max_wait);

    // Daemon mode: keeps every worker running, looking for new changes every `poll`, until stop().
    void start(std::chrono::milliseconds poll);
    // Interrupts waits and the plugin calls in progress, then joins the threads.
    void stop();

  private:
    struct Destination {
        std::unique_ptr<plugin_host::Connector> connector;
        std::vector<BindingRef> bindings;
        DeliveryOptions options;
    };
    DeliveryStore& store_;
    DeliveryOptions options_;
    std::vector<Destination> destinations_;
    StopSignal stop_;
    std::vector<std::thread> threads_;
};

}  // namespace cdphub::delivery

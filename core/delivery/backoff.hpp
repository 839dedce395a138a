// Jittered exponential backoff and a stop signal that interrupts waits: what every delivery
// worker uses between failed attempts.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>

namespace cdphub::delivery {

// base * 2^(n-1), capped, then scaled by a random factor in [0.5, 1]: retries of many workers (or
// many hubs) hitting the same vendor spread out instead of arriving together.
class Backoff {
  public:
    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed)
        : base_(base), max_(max), rng_(seed != 0 ? seed : std::random_device{}()) {}

    std::chrono::milliseconds delay(std::int64_t n) {
        const auto shift = std::clamp<std::int64_t>(n - 1, 0, 30);
        const auto raw = std::min<std::int64_t>(max_.count(), base_.count() << shift);
        std::uniform_real_distribution<double> f(0.5, 1.0);
        return std::chrono::milliseconds(
            static_cast<std::int64_t>(static_cast<double>(raw) * f(rng_)));
    }

  private:
    std::chrono::milliseconds base_, max_;
    std::mt19937_64 rng_;
};

// Set once to stop every worker; waits wake up at once when it is set.
class StopSignal {
  public:
    void stop() {
        {
            std::lock_guard lock(mu_);
            stopped_ = true;
        }
        cv_.notify_all();
    }
    bool stopped() const {
        std::lock_guard lock(mu_);
        return stopped_;
    }
    // Waits up to `d`; false if stopped meanwhile (or before).
    bool wait_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mu_);
        return !cv_.wait_for(lock, d, [&] { return stopped_; });
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopped_ = false;
};

}  // namespace cdphub::delivery

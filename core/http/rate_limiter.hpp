// The per-connector request budget behind ClientOptions::rate_limit.
//
// A token bucket of `requests` tokens refilled evenly over `per`, computed as a "theoretical
// arrival time" (GCRA) so that it needs no refill timer. Callers reserve a slot and are told how
// long to wait for it; the wait itself happens outside (through Control::sleep), so tests can fake
// time and cancellation can interrupt it. Slots are handed out in order, so concurrent callers
// queue up instead of racing for the next free token.
#pragma once

#include "http/client.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

namespace cdphub::http {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    // Injected by tests; empty means Clock::now.
    using Now = std::function<Clock::time_point()>;

    explicit RateLimiter(RateLimit limit, Now now = {});

    bool unlimited() const { return interval_.count() == 0; }

    // Takes the next slot and returns how long the caller must wait before using it (zero: at
    // once). If that wait would exceed `max_wait`, takes nothing and returns nullopt, so a caller
    // with a deadline does not hold a slot it will never use.
    std::optional<std::chrono::milliseconds> reserve(
        std::chrono::milliseconds max_wait = std::chrono::milliseconds::max());

    // Returns a slot taken by reserve() whose request never went out (cancelled while waiting),
    // so that the next caller does not wait for it.
    void release();

  private:
    Clock::time_point now() const { return now_ ? now_() : Clock::now(); }

    Now now_;
    Clock::duration interval_{0};  // time to earn one token; zero: unlimited
    Clock::duration burst_{0};     // interval_ * requests: how far ahead slots can be handed out
    std::mutex mutex_;
    // When the bucket is next full again if nothing more is taken; every slot moves it on by one
    // interval. A value in the past means the bucket is full.
    Clock::time_point full_at_;
};

}  // namespace cdphub::http

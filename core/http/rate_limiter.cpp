#include "http/rate_limiter.hpp"

#include <algorithm>

namespace cdphub::http {

RateLimiter::RateLimiter(RateLimit limit, Now now) : now_(std::move(now)) {
    if (limit.requests > 0 && limit.per.count() > 0) {
        // Integer nanoseconds keep the arithmetic exact for tests with an injected clock; the
        // truncation makes the real rate at most one nanosecond per slot faster than configured.
        interval_ = std::chrono::duration_cast<Clock::duration>(limit.per) / limit.requests;
        if (interval_.count() == 0) interval_ = Clock::duration(1);
        burst_ = interval_ * limit.requests;
    }
    full_at_ = this->now();
}

std::optional<std::chrono::milliseconds> RateLimiter::reserve(std::chrono::milliseconds max_wait) {
    if (unlimited()) return std::chrono::milliseconds(0);
    std::lock_guard lock(mutex_);
    const auto t = now();
    const auto next_full = std::max(full_at_, t) + interval_;
    // The slot may be used once the bucket, after taking it, would not overflow: no earlier than
    // `burst_` before it is full again.
    const auto usable_at = next_full - burst_;
    auto wait = Clock::duration(0);
    if (usable_at > t) wait = usable_at - t;
    // Rounded up: waking a fraction of a millisecond early would exceed the limit.
    const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
    if (wait_ms > max_wait) return std::nullopt;
    full_at_ = next_full;
    return wait_ms;
}

void RateLimiter::release() {
    if (unlimited()) return;
    std::lock_guard lock(mutex_);
    full_at_ -= interval_;
}

}  // namespace cdphub::http

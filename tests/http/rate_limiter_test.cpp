// The token bucket on its own, driven by a fake clock so that every expected wait is exact.
#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace cdphub::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct FakeClock {
    RateLimiter::Clock::time_point now{std::chrono::hours(1000)};
    RateLimiter::Now fn() {
        return [this] { return now; };
    }
};

TEST(RateLimiter, UnlimitedNeverWaits) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{0, 1000ms}, clock.fn());
    EXPECT_TRUE(limiter.unlimited());
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.reserve(), 0ms);
}

TEST(RateLimiter, BurstOfCapacityThenEvenlySpaced) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{3, 3000ms}, clock.fn());
    EXPECT_FALSE(limiter.unlimited());
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 0ms);
    // The bucket is empty: each further slot comes one interval (1 s) after the previous one.
    EXPECT_EQ(limiter.reserve(), 1000ms);
    EXPECT_EQ(limiter.reserve(), 2000ms);
    EXPECT_EQ(limiter.reserve(), 3000ms);
}

TEST(RateLimiter, RefillsWithTime) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{2, 1000ms}, clock.fn());
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 0ms);
    clock.now += 500ms;  // one token earned
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 500ms);
    clock.now += 200ms;
    EXPECT_EQ(limiter.reserve(), 800ms);
}

TEST(RateLimiter, IdleTimeDoesNotBuildABurstBeyondCapacity) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{2, 1000ms}, clock.fn());
    clock.now += 1h;
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 500ms);
}

TEST(RateLimiter, WaitsRoundUpToWholeMilliseconds) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{3, 1000ms}, clock.fn());
    for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.reserve(), 0ms);
    // One interval is 333.33 ms; waking at 333 ms would be a fraction too early.
    EXPECT_EQ(limiter.reserve(), 334ms);
}

TEST(RateLimiter, MaxWaitRefusesWithoutTakingASlot) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{1, 1000ms}, clock.fn());
    EXPECT_EQ(limiter.reserve(500ms), 0ms);
    EXPECT_EQ(limiter.reserve(500ms), std::nullopt);
    // Had the refused call taken a slot, this one would have to wait 2 s.
    EXPECT_EQ(limiter.reserve(1000ms), 1000ms);
}

TEST(RateLimiter, ReleaseGivesTheSlotBack) {
    FakeClock clock;
    RateLimiter limiter(RateLimit{1, 1000ms}, clock.fn());
    EXPECT_EQ(limiter.reserve(), 0ms);
    EXPECT_EQ(limiter.reserve(), 1000ms);
    limiter.release();  // that caller was cancelled while waiting
    EXPECT_EQ(limiter.reserve(), 1000ms);
    EXPECT_EQ(limiter.reserve(), 2000ms);
}

TEST(RateLimiter, ConcurrentCallersGetDistinctSlots) {
    FakeClock clock;  // frozen: every slot beyond the burst must queue behind the others
    RateLimiter limiter(RateLimit{10, 1000ms}, clock.fn());
    constexpr int kThreads = 8, kPerThread = 50;
    std::vector<std::vector<milliseconds>> waits(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) waits[t].push_back(*limiter.reserve());
        });
    }
    for (auto& t : threads) t.join();
    std::vector<milliseconds> all;
    for (const auto& w : waits) all.insert(all.end(), w.begin(), w.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
    // Ten immediate slots, then one every 100 ms with no slot handed out twice.
    for (size_t i = 0; i < all.size(); ++i) {
        const auto expected = i < 10 ? 0ms : milliseconds(100 * (static_cast<int64_t>(i) - 9));
        ASSERT_EQ(all[i], expected) << "slot " << i;
    }
}

}  // namespace
}  // namespace cdphub::http

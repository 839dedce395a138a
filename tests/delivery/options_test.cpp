// A destination's manifest "delivery" settings over the hub's DeliveryOptions defaults.
#include <gtest/gtest.h>

#include "delivery/service.hpp"

namespace cdphub::delivery {
namespace {

using namespace std::chrono_literals;

TEST(DeliverySettings, UnsetKeepsTheDefaultsAndSetOverrides) {
    const DeliveryOptions defaults;
    const auto same = with_settings(defaults, std::nullopt);
    EXPECT_EQ(same.max_attempts, defaults.max_attempts);
    EXPECT_EQ(same.max_records, defaults.max_records);

    manifest::DeliverySettings s;
    s.max_attempts = 20;
    s.breaker_after = 5;
    s.batch_records = 250;
    s.backoff_base = 2s;
    s.backoff_max = 10min;
    const auto o = with_settings(defaults, s);
    EXPECT_EQ(o.max_attempts, 20);
    EXPECT_EQ(o.breaker_threshold, 5);
    EXPECT_EQ(o.max_records, 250u);
    EXPECT_EQ(o.backoff_base, 2s);
    EXPECT_EQ(o.backoff_max, 10min);
    EXPECT_EQ(o.max_bytes, defaults.max_bytes);  // not a setting
}

TEST(DeliverySettings, OneBackoffBoundBeyondTheOthersDefaultMovesIt) {
    manifest::DeliverySettings base_only;
    base_only.backoff_base = 10min;  // above the default max (5 min)
    auto o = with_settings({}, base_only);
    EXPECT_EQ(o.backoff_base, 10min);
    EXPECT_EQ(o.backoff_max, 10min);

    manifest::DeliverySettings max_only;
    max_only.backoff_max = 200ms;  // below the default base (1 s)
    o = with_settings({}, max_only);
    EXPECT_EQ(o.backoff_base, 200ms);
    EXPECT_EQ(o.backoff_max, 200ms);
}

}  // namespace
}  // namespace cdphub::delivery

// The scheduler: cadence, no overlapping runs, backoff, parking on auth errors, run_now, stop.
// Intervals are tens of milliseconds, and assertions allow generous slack for a loaded machine:
// they check order and bounds, never exact timing.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "scheduler/scheduler.hpp"

namespace cdphub::scheduler {
namespace {

using namespace std::chrono_literals;

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = 5000ms) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(2ms);
    }
    return p();
}

TaskStatus status_of(const Scheduler& s, const std::string& name) {
    for (const auto& t : s.status())
        if (t.name == name) return t;
    ADD_FAILURE() << "no task " << name;
    return {};
}

TEST(Scheduler, RunsOnItsIntervalAndNeverOverlapsItself) {
    std::atomic<int> running{0}, max_running{0}, runs{0};
    Task slow{"slow", 10ms, [&](std::stop_token) {
                  int now = ++running;
                  max_running = std::max(max_running.load(), now);
                  std::this_thread::sleep_for(30ms);  // three intervals
                  --running;
                  ++runs;
                  return RunResult{{}, 1};
              }};
    Scheduler s({slow});
    ASSERT_TRUE(eventually([&] { return runs >= 4; }));
    s.stop();
    EXPECT_EQ(max_running.load(), 1);
    auto st = status_of(s, "slow");
    EXPECT_GE(st.runs, 4u);
    EXPECT_EQ(st.items, st.runs);
    EXPECT_EQ(st.failures, 0u);
}

TEST(Scheduler, OneSlowTaskDoesNotDelayAnother) {
    std::atomic<int> fast_runs{0};
    std::atomic<bool> release{false};
    Task stuck{"stuck", 5ms, [&](std::stop_token stop) {
                   while (!release && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
                   return RunResult{};
               }};
    Task fast{"fast", 5ms, [&](std::stop_token) {
                  ++fast_runs;
                  return RunResult{};
              }};
    Scheduler s({stuck, fast});
    EXPECT_TRUE(eventually([&] { return fast_runs >= 10; }));
    EXPECT_EQ(status_of(s, "stuck").state, TaskState::running);
    release = true;
}

TEST(Scheduler, RetryableFailuresBackOffAndRecover) {
    std::atomic<int> calls{0};
    std::vector<Clock::time_point> starts;
    std::mutex mu;
    Task flaky{
        "flaky", 1000ms, [&](std::stop_token) {
            {
                std::lock_guard lock(mu);
                starts.push_back(Clock::now());
            }
            if (++calls <= 3)
                return RunResult{{StatusCode::retryable, std::nullopt, "503 from vendor"}, 0};
            return RunResult{{}, 5};
        }};
    SchedulerOptions o;
    o.backoff_base = 20ms;
    Scheduler s({flaky}, o);
    ASSERT_TRUE(eventually([&] { return calls >= 4; }));
    s.stop();
    std::lock_guard lock(mu);
    ASSERT_GE(starts.size(), 4u);
    // Backoff doubles: 20, 40, 80 ms (at least; the machine may be slower, never faster).
    EXPECT_GE(starts[1] - starts[0], 20ms);
    EXPECT_GE(starts[2] - starts[1], 40ms);
    EXPECT_GE(starts[3] - starts[2], 80ms);
    auto st = status_of(s, "flaky");
    EXPECT_EQ(st.failures, 3u);
    EXPECT_EQ(st.consecutive_failures, 0);
    EXPECT_TRUE(st.last_status->ok());
}

TEST(Scheduler, RetryAfterIsHonoured) {
    std::atomic<int> calls{0};
    Clock::time_point first, second;
    Task limited{"limited", 10ms, [&](std::stop_token) {
                     if (++calls == 1) {
                         first = Clock::now();
                         return RunResult{{StatusCode::rate_limited, 150ms, "429"}, 0};
                     }
                     if (calls == 2) second = Clock::now();
                     return RunResult{};
                 }};
    SchedulerOptions o;
    o.backoff_base = 1ms;
    Scheduler s({limited}, o);
    ASSERT_TRUE(eventually([&] { return calls >= 2; }));
    s.stop();
    EXPECT_GE(second - first, 150ms);
}

TEST(Scheduler, AuthErrorsParkTheTaskUntilAskedAgain) {
    std::atomic<int> calls{0};
    Task refused{"refused", 5ms, [&](std::stop_token) {
                     ++calls;
                     return RunResult{{StatusCode::auth_error, std::nullopt, "401 bad token"}, 0};
                 }};
    Scheduler s({refused});
    ASSERT_TRUE(eventually([&] { return status_of(s, "refused").state == TaskState::parked; }));
    std::this_thread::sleep_for(50ms);  // ten intervals: a retry loop would show here
    EXPECT_EQ(calls.load(), 1);
    EXPECT_FALSE(status_of(s, "refused").next_run.has_value());
    ASSERT_TRUE(s.run_now("refused"));
    EXPECT_TRUE(eventually([&] { return calls == 2; }));
    EXPECT_FALSE(s.run_now("no-such-task"));
}

TEST(Scheduler, ManualTasksRunOnlyWhenAskedAndExceptionsAreFailures) {
    std::atomic<int> calls{0};
    Task manual{"manual", 0ms, [&](std::stop_token) -> RunResult {
                    if (++calls == 1) throw std::runtime_error("plugin bug");
                    return {};
                }};
    Scheduler s({manual});
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(calls.load(), 0);
    s.run_now("manual");
    ASSERT_TRUE(eventually([&] { return status_of(s, "manual").runs == 1; }));
    auto st = status_of(s, "manual");
    EXPECT_EQ(st.last_status->code, StatusCode::fatal);
    EXPECT_NE(st.last_status->message.find("plugin bug"), std::string::npos);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(calls.load(), 1);  // a failed manual task is not retried on its own
    s.run_now("manual");
    EXPECT_TRUE(eventually([&] { return calls == 2; }));
}

TEST(Scheduler, StopCancelsARunningTaskPromptly) {
    std::atomic<bool> saw_stop{false};
    Task blocking{"blocking", 5ms, [&](std::stop_token stop) {
                      std::mutex m;
                      std::condition_variable_any cv;
                      std::unique_lock lock(m);
                      cv.wait(lock, stop, [] { return false; });
                      saw_stop = stop.stop_requested();
                      return RunResult{{StatusCode::cancelled, std::nullopt, "stopped"}, 0};
                  }};
    auto s = std::make_unique<Scheduler>(std::vector<Task>{blocking});
    ASSERT_TRUE(eventually([&] { return status_of(*s, "blocking").state == TaskState::running; }));
    const auto t0 = Clock::now();
    s.reset();  // the destructor stops and joins
    EXPECT_LT(Clock::now() - t0, 2000ms);
    EXPECT_TRUE(saw_stop.load());
}

}  // namespace
}  // namespace cdphub::scheduler

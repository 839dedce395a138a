// Runs named tasks on their schedules: each connector sync and each activation delivery is one
// task. A task never runs twice at once (a run that outlasts its interval delays the next one
// instead of overlapping it), failures back off, and an authentication or configuration failure
// parks the task until the admin fixes the manifest (a reload replaces the tasks). One slow task
// never holds up another: each runs on its own worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/status.hpp"

namespace cdphub::scheduler {

using Clock = std::chrono::steady_clock;

// What one run reports: its status (ok, or why it stopped) and how many items it moved.
struct RunResult {
    CallStatus status;
    std::uint64_t items = 0;
};

struct Task {
    std::string name;
    // Interval between the starts of two runs; 0: manual only (run_now).
    std::chrono::milliseconds every{0};
    // The work. It must return soon after `stop` is requested (connectors: cancel()).
    std::function<RunResult(std::stop_token stop)> run;
};

enum class TaskState { idle, running, backing_off, parked };
const char* state_name(TaskState s);

struct TaskStatus {
    std::string name;
    TaskState state = TaskState::idle;
    std::uint64_t runs = 0, failures = 0, items = 0;
    int consecutive_failures = 0;
    std::optional<std::chrono::system_clock::time_point> last_started, last_finished;
    std::optional<CallStatus> last_status;
    std::optional<Clock::time_point> next_run;  // nullopt: manual or parked
};

struct SchedulerOptions {
    // Failed runs are retried after backoff_base * 2^(n-1), capped at backoff_max and at the
    // task's interval, or after the Retry-After the failure carried.
    std::chrono::milliseconds backoff_base{1000};
    std::chrono::milliseconds backoff_max{300'000};
    // A manual task never runs unless asked; a scheduled one runs first this long after start.
    std::chrono::milliseconds initial_delay{0};
};

class Scheduler {
  public:
    explicit Scheduler(std::vector<Task> tasks, SchedulerOptions options = {});
    // Stops every task (requesting stop of running ones) and joins the workers.
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Runs `name` as soon as it is not running (also a parked one: the admin asked). False if no
    // such task.
    bool run_now(const std::string& name);
    // Stops scheduling, asks running tasks to stop and waits for them. Idempotent.
    void stop();

    std::vector<TaskStatus> status() const;

  private:
    struct Slot;
    void work(Slot& slot, std::stop_token stop);

    SchedulerOptions options_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::jthread> workers_;
};

}  // namespace cdphub::scheduler

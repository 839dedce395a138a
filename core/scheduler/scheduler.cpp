#include "scheduler/scheduler.hpp"

#include <algorithm>

namespace cdphub::scheduler {

const char* state_name(TaskState s) {
    switch (s) {
        case TaskState::idle:
            return "idle";
        case TaskState::running:
            return "running";
        case TaskState::backing_off:
            return "backing off";
        case TaskState::parked:
            return "parked";
    }
    return "idle";
}

// One task, its status and the worker's wake-up signal. The worker is the only thread that runs
// the task, which is what makes overlapping runs impossible.
struct Scheduler::Slot {
    Task task;
    mutable std::mutex mu;
    std::condition_variable_any cv;
    TaskStatus status;
    bool requested = false;  // run_now
};

namespace {

// Outcomes only an admin can fix: retrying on a timer would be a retry loop against a vendor
// that already said no.
bool needs_admin(const CallStatus& s) {
    return s.code == StatusCode::auth_error || s.code == StatusCode::config_error ||
           s.code == StatusCode::unsupported;
}

}  // namespace

Scheduler::Scheduler(std::vector<Task> tasks, SchedulerOptions options) : options_(options) {
    const auto start = Clock::now();
    for (auto& t : tasks) {
        auto slot = std::make_unique<Slot>();
        slot->status.name = t.name;
        if (t.every.count() > 0) slot->status.next_run = start + options_.initial_delay;
        slot->task = std::move(t);
        slots_.push_back(std::move(slot));
    }
    for (auto& s : slots_)
        workers_.emplace_back([this, slot = s.get()](std::stop_token st) { work(*slot, st); });
}

Scheduler::~Scheduler() {
    stop();
}

void Scheduler::stop() {
    for (auto& w : workers_) w.request_stop();
    for (auto& s : slots_) {
        std::lock_guard lock(s->mu);
        s->cv.notify_all();
    }
    for (auto& w : workers_)
        if (w.joinable()) w.join();
}

bool Scheduler::run_now(const std::string& name) {
    for (auto& s : slots_) {
        if (s->task.name != name) continue;
        std::lock_guard lock(s->mu);
        s->requested = true;
        s->cv.notify_all();
        return true;
    }
    return false;
}

std::vector<TaskStatus> Scheduler::status() const {
    std::vector<TaskStatus> out;
    for (const auto& s : slots_) {
        std::lock_guard lock(s->mu);
        out.push_back(s->status);
    }
    return out;
}

void Scheduler::work(Slot& slot, std::stop_token stop) {
    std::unique_lock lock(slot.mu);
    while (!stop.stop_requested()) {
        // Sleep until due, asked, or stopped.
        auto due = [&] {
            return slot.requested ||
                   (slot.status.next_run && Clock::now() >= *slot.status.next_run);
        };
        if (slot.status.next_run)
            slot.cv.wait_until(lock, stop, *slot.status.next_run, due);
        else
            slot.cv.wait(lock, stop, [&] { return slot.requested; });
        if (stop.stop_requested()) break;
        if (!due()) continue;

        slot.requested = false;
        const auto started = Clock::now();
        slot.status.state = TaskState::running;
        slot.status.last_started = std::chrono::system_clock::now();
        lock.unlock();
        RunResult r;
        try {
            r = slot.task.run(stop);
        } catch (const std::exception& e) {
            r.status = CallStatus{StatusCode::fatal, std::nullopt,
                                  std::string("the run threw: ") + e.what()};
        }
        lock.lock();
        auto& st = slot.status;
        st.last_finished = std::chrono::system_clock::now();
        st.last_status = r.status;
        ++st.runs;
        st.items += r.items;
        const auto every = slot.task.every;
        if (r.status.ok() || r.status.code == StatusCode::cancelled) {
            st.consecutive_failures = 0;
            st.state = TaskState::idle;
            // The next start is one interval after this one began; a run that overran its
            // interval is followed at once, never overlapped.
            st.next_run = every.count() > 0 ? std::optional(std::max(started + every, Clock::now()))
                                            : std::nullopt;
        } else if (needs_admin(r.status)) {
            ++st.failures;
            ++st.consecutive_failures;
            st.state = TaskState::parked;
            st.next_run.reset();
        } else if (every.count() == 0) {
            // A manual task runs when asked; retrying it is the admin's call.
            ++st.failures;
            ++st.consecutive_failures;
            st.state = TaskState::idle;
            st.next_run.reset();
        } else {
            ++st.failures;
            ++st.consecutive_failures;
            st.state = TaskState::backing_off;
            std::chrono::milliseconds wait =
                options_.backoff_base * (1LL << std::min(st.consecutive_failures - 1, 20));
            wait = std::min(wait, options_.backoff_max);
            wait = std::min<std::chrono::milliseconds>(wait, every);
            if (r.status.retry_after)
                wait = std::max<std::chrono::milliseconds>(wait, *r.status.retry_after);
            st.next_run = Clock::now() + wait;
        }
    }
    slot.status.state =
        slot.status.state == TaskState::parked ? TaskState::parked : TaskState::idle;
}

}  // namespace cdphub::scheduler

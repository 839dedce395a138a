// A stop request the hub can raise while a plugin call runs; sleeps wake up when it is raised.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace cdphub::plugin_host {

class Cancellation {
  public:
    void request() {
        {
            std::lock_guard lock(mu_);
            requested_ = true;
        }
        cv_.notify_all();
    }
    void reset() {
        std::lock_guard lock(mu_);
        requested_ = false;
    }
    bool requested() const { return requested_.load(); }
    // Waits up to `d`; returns false if cancellation was requested before or meanwhile.
    bool sleep_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mu_);
        return !cv_.wait_for(lock, d, [&] { return requested_.load(); });
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<bool> requested_{false};
};

}  // namespace cdphub::plugin_host

// A Control::sleep that records what the client asked to wait instead of waiting, so tests can
// check backoff, Retry-After and rate-limit waits exactly and without spending the time.
#pragma once

#include "http/client.hpp"

#include <chrono>
#include <mutex>
#include <vector>

namespace cdphub::test {

class FakeSleep {
  public:
    // What the next sleeps return: false plays "cancelled while waiting".
    void set_result(bool r) {
        std::lock_guard lock(mutex_);
        result_ = r;
    }

    http::Control control() {
        http::Control c;
        c.sleep = [this](std::chrono::milliseconds d) {
            std::lock_guard lock(mutex_);
            waits_.push_back(d);
            return result_;
        };
        return c;
    }

    std::vector<std::chrono::milliseconds> waits() const {
        std::lock_guard lock(mutex_);
        return waits_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::chrono::milliseconds> waits_;
    bool result_ = true;
};

}  // namespace cdphub::test

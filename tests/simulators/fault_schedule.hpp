// A seeded, deterministic schedule of the failures real vendor APIs show. Every simulator asks it
// before answering a request; the same seed and the same sequence of requests give the same
// faults, so a failing connector test replays exactly. Each vendor renders a fault in its own
// wire shape (Salesforce's error array, HubSpot's category object, ...).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace cdphub::sim {

enum class Fault {
    none,
    expire_token,       // the access token stops working now (401 in the vendor's shape)
    throttle,           // 429 with Retry-After
    throttle_silent,    // 429 without Retry-After
    server_error,       // 5xx, in bursts of FaultPlan::burst consecutive requests
    hang_up,            // close the connection without answering
    slow,               // answer after FaultPlan::slow_ms
    short_page,         // a page shorter than asked for (the listing is not over)
    invalidate_cursor,  // the paging cursor/locator the client holds expires
    mutate_rows,        // rows change (and their modification stamp moves) during the sync
    partial_failure,    // a batch call where some items fail, in the vendor's shape
};

std::string_view fault_name(Fault f);
// Parses a name as fault_name() prints it; Fault::none if unknown.
Fault parse_fault(std::string_view name);

struct FaultPlan {
    std::uint64_t seed = 1;
    double rate = 0.0;         // probability that a request draws a fault
    std::vector<Fault> kinds;  // the faults that may be drawn; empty: none
    int burst = 3;             // consecutive 5xx answers per server_error
    int slow_ms = 200;         // delay of a `slow` answer
    // Requests 1..quiet_first are never faulted (so a client can at least authenticate).
    std::uint64_t quiet_first = 0;
};

class FaultSchedule {
  public:
    explicit FaultSchedule(FaultPlan plan = {});

    // The fault for the next request. `operation` is the vendor's logical endpoint ("token",
    // "query", ...); a vendor may pass `allowed` to restrict which kinds make sense there.
    Fault next(std::string_view operation, const std::vector<Fault>& allowed = {});

    // Forces the n-th request overall (1-based, counted by next()) to get `f`, whatever the draw.
    void script(std::uint64_t request_number, Fault f);

    std::uint64_t requests() const;
    // How often each fault was injected so far, by fault_name.
    std::map<std::string, std::uint64_t> injected() const;
    const FaultPlan& plan() const { return plan_; }

  private:
    mutable std::mutex mu_;
    FaultPlan plan_;
    std::mt19937_64 rng_;
    std::uint64_t count_ = 0;
    int burst_left_ = 0;
    std::map<std::uint64_t, Fault> scripted_;
    std::map<std::string, std::uint64_t> injected_;
};

}  // namespace cdphub::sim

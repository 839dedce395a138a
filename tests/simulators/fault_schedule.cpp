#include "simulators/fault_schedule.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace cdphub::sim {
namespace {

constexpr std::array<std::pair<Fault, std::string_view>, 11> kNames{{
    {Fault::none, "none"},
    {Fault::expire_token, "expire_token"},
    {Fault::throttle, "throttle"},
    {Fault::throttle_silent, "throttle_silent"},
    {Fault::server_error, "server_error"},
    {Fault::hang_up, "hang_up"},
    {Fault::slow, "slow"},
    {Fault::short_page, "short_page"},
    {Fault::invalidate_cursor, "invalidate_cursor"},
    {Fault::mutate_rows, "mutate_rows"},
    {Fault::partial_failure, "partial_failure"},
}};

}  // namespace

std::string_view fault_name(Fault f) {
    for (const auto& [k, n] : kNames)
        if (k == f) return n;
    return "none";
}

Fault parse_fault(std::string_view name) {
    for (const auto& [k, n] : kNames)
        if (n == name) return k;
    return Fault::none;
}

FaultSchedule::FaultSchedule(FaultPlan plan) : plan_(std::move(plan)), rng_(plan_.seed) {}

Fault FaultSchedule::next(std::string_view /*operation*/, const std::vector<Fault>& allowed) {
    std::lock_guard lock(mu_);
    const auto n = ++count_;
    // The draw happens for every request, so the sequence of draws depends only on the seed
    // and the number of requests, not on which faults a vendor allows where.
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    const double roll = coin(rng_);
    const auto pick = rng_();
    Fault f = Fault::none;
    if (auto it = scripted_.find(n); it != scripted_.end()) {
        f = it->second;
    } else if (burst_left_ > 0) {
        --burst_left_;
        f = Fault::server_error;
    } else if (n > plan_.quiet_first && roll < plan_.rate && !plan_.kinds.empty()) {
        std::vector<Fault> choices;
        for (auto k : plan_.kinds)
            if (allowed.empty() || std::find(allowed.begin(), allowed.end(), k) != allowed.end())
                choices.push_back(k);
        if (!choices.empty()) {
            f = choices[pick % choices.size()];
            if (f == Fault::server_error) burst_left_ = std::max(0, plan_.burst - 1);
        }
    }
    if (f != Fault::none) ++injected_[std::string(fault_name(f))];
    return f;
}

void FaultSchedule::script(std::uint64_t request_number, Fault f) {
    std::lock_guard lock(mu_);
    scripted_[request_number] = f;
}

std::uint64_t FaultSchedule::requests() const {
    std::lock_guard lock(mu_);
    return count_;
}

std::map<std::string, std::uint64_t> FaultSchedule::injected() const {
    std::lock_guard lock(mu_);
    return injected_;
}

}  // namespace cdphub::sim

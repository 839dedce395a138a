#include "identity/traits.hpp"

#include <algorithm>
#include <tuple>

namespace cdphub::identity {

namespace {

// Records are numbered in the order the hub stored them; an observation without a record (set by
// an admin tool) counts as oldest.
std::int64_t record_of(const store::TraitObservation& o) {
    return o.record.value_or(0);
}

bool more_recent(const store::TraitObservation& a, const store::TraitObservation& b) {
    return std::forward_as_tuple(a.observed_at, record_of(a)) >
           std::forward_as_tuple(b.observed_at, record_of(b));
}

std::size_t source_rank(const TraitRule& rule, const std::string& source) {
    auto it = std::find(rule.sources.begin(), rule.sources.end(), source);
    return static_cast<std::size_t>(it - rule.sources.begin());  // unlisted: after all listed
}

}  // namespace

std::size_t filled(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return 0;
        case nlohmann::json::value_t::string:
            return value.get_ref<const std::string&>().size();
        case nlohmann::json::value_t::object:
        case nlohmann::json::value_t::array: {
            std::size_t n = 0;
            for (const auto& v : value) n += 1 + filled(v);
            return n;
        }
        default:
            return 1;
    }
}

bool prefers(const TraitRule& rule, const store::TraitObservation& candidate,
             const store::TraitObservation& current) {
    switch (rule.strategy) {
        case TraitStrategy::most_recent:
            return more_recent(candidate, current);
        case TraitStrategy::first_seen:
            // Earliest observation wins; among equal times the earlier record.
            return std::forward_as_tuple(candidate.observed_at, record_of(candidate)) <
                   std::forward_as_tuple(current.observed_at, record_of(current));
        case TraitStrategy::most_filled: {
            auto a = filled(candidate.value), b = filled(current.value);
            if (a != b) return a > b;
            return more_recent(candidate, current);
        }
        case TraitStrategy::source_priority: {
            auto a = source_rank(rule, candidate.source), b = source_rank(rule, current.source);
            if (a != b) return a < b;
            return more_recent(candidate, current);
        }
    }
    return false;
}

}  // namespace cdphub::identity

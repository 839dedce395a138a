// One profile as the segment evaluator and the activation planner see it: everything a segment
// condition or a destination mapping can refer to, loaded from the store in one go. Plain data,
// backend-neutral; the store fills it (ProfileStore::load_snapshot) and tests build it by hand.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace cdphub::profile {

using ProfileId = std::int64_t;

// Timestamps are ISO-8601 UTC text with milliseconds ("2024-05-01T12:00:00.000Z", the store's
// format: store::format_timestamp), so text order is time order in memory and in SQL alike.

struct EventFact {
    std::int64_t id = 0;  // events.id: orders ties between events at the same instant
    std::string event;
    std::string occurred_at;
    std::string source;
    nlohmann::json properties = nlohmann::json::object();
};

struct OrderFact {
    std::int64_t id = 0;  // orders.id
    std::string source;
    std::string order_id;
    std::string occurred_at;  // when the order was placed
    std::string currency;
    std::int64_t total_minor = 0;
    std::optional<std::int64_t> tax_minor;
    std::optional<std::int64_t> discount_minor;
    std::optional<std::string> status;
    nlohmann::json lines = nlohmann::json::array();
};

struct ConsentFact {
    bool granted = false;
    std::string source;
    std::string occurred_at;
};

struct ProfileSnapshot {
    ProfileId id = 0;
    std::string created_at;
    std::map<std::string, nlohmann::json> traits;                 // name -> winning value
    std::map<std::string, std::vector<std::string>> identifiers;  // type -> values (sorted)
    std::vector<EventFact> events;                                // by occurred_at, then id
    std::vector<OrderFact> orders;                                // by occurred_at, then id
    std::map<std::string, ConsentFact> consent;                   // purpose -> decision
};

}  // namespace cdphub::profile

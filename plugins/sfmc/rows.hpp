// Operations (docs/delivery.md) as Data Extension rows, and the per-row outcome of delivering them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "settings.hpp"

namespace cdphub::sfmc {

struct Row {
    std::size_t index = 0;  // in the hub's batch
    std::string key;        // primary-key value
    json values;            // column -> value (without the key)
    bool enter = false;     // entered the segment: a journey entry event is due
};

enum class RowState { pending, upserted, invalid };

struct RowOutcome {
    RowState state = RowState::pending;
    std::string message;  // SFMC's answer for an invalid row
};

// The row for one operation, or the reason it cannot be one (a data error).
inline std::optional<Row> make_row(const Settings& s, const json& op, std::size_t index,
                                   std::string& why) {
    const auto& fields = op.at("fields");
    auto k = fields.find(s.key_field);
    if (k == fields.end() || k->is_null() || (k->is_string() && k->get<std::string>().empty())) {
        why = "the profile has no value for \"" + s.key_field + "\", the Data Extension's key (" +
              s.key_column + "); map it in the binding or filter such profiles out";
        return std::nullopt;
    }
    Row r;
    r.index = index;
    r.key = k->is_string() ? k->get<std::string>() : k->dump();
    r.values = json::object();
    const bool remove = op.value("op", "upsert") == "remove";
    if (!remove)
        for (const auto& [name, v] : fields.items())
            if (name != s.key_field) r.values[name] = v;
    r.values[s.membership_column] = !remove;
    r.enter = !remove && op.value("change", "") == "enter";
    return r;
}

}  // namespace cdphub::sfmc

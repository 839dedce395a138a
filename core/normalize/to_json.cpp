#include "normalize/record.hpp"
#include "normalize/time.hpp"

namespace cdphub::normalize {

using nlohmann::json;

json to_json(const NormalizedRecord& r) {
    json j = json::object();
    j["type"] = to_string(r.type);
    j["record_id"] = r.record_id;
    j["source"] = r.source;
    j["occurred_at"] = format_rfc3339(r.occurred_at);
    j["received_at"] = format_rfc3339(r.received_at);

    // One value stays a string, several become an array, in the order they were seen.
    json ids = json::object();
    for (const auto& id : r.identifiers) {
        auto it = ids.find(id.type);
        if (it == ids.end()) {
            ids[id.type] = id.value;
        } else {
            if (!it->is_array()) *it = json::array({*it});
            it->push_back(id.value);
        }
    }
    j["identifiers"] = std::move(ids);
    if (!r.traits.empty()) j["traits"] = r.traits;
    if (r.type == RecordType::track) j["event"] = r.event;
    if (!r.properties.empty()) j["properties"] = r.properties;

    if (r.order) {
        const Order& o = *r.order;
        json order = {{"id", o.id}, {"currency", o.currency}, {"total_minor", o.total_minor}};
        if (o.tax_minor) order["tax_minor"] = *o.tax_minor;
        if (o.discount_minor) order["discount_minor"] = *o.discount_minor;
        if (!o.status.empty()) order["status"] = o.status;
        json lines = json::array();
        for (const auto& l : o.lines) {
            json line = {{"sku", l.sku}, {"quantity", l.quantity}, {"price_minor", l.price_minor}};
            if (!l.name.empty()) line["name"] = l.name;
            lines.push_back(std::move(line));
        }
        order["lines"] = std::move(lines);
        j["order"] = std::move(order);
    }
    if (r.alias)
        j["alias"] = {
            {"previous_id",
             {{"type", r.alias->previous_id.type}, {"value", r.alias->previous_id.value}}}};
    if (r.consent) {
        json c = {{"purpose", r.consent->purpose}, {"granted", r.consent->granted}};
        if (!r.consent->source.empty()) c["source"] = r.consent->source;
        j["consent"] = std::move(c);
    }
    return j;
}

}  // namespace cdphub::normalize

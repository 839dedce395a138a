#include "records.hpp"

#include <cdphub_plugins/web.hpp>

namespace cdphub_hubspot {
namespace {

// Datetime properties come as ISO-8601 strings; some accounts and older objects send epoch
// milliseconds as a string.
std::optional<int64_t> parse_stamp(const json& v) {
    if (!v.is_string()) return std::nullopt;
    const auto& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    return cdphub::plugins::parse_utc_ms(s);
}

// The value of a mapped property: "id" is the object's own id; unset properties are null and
// empty strings carry nothing, so both are left out.
std::optional<std::string> value_of(const json& object, const std::string& property) {
    const json* v = nullptr;
    if (property == "id") {
        v = object.contains("id") ? &object["id"] : nullptr;
    } else if (auto p = object.find("properties"); p != object.end() && p->is_object()) {
        if (auto it = p->find(property); it != p->end()) v = &*it;
    }
    if (v == nullptr || v->is_null()) return std::nullopt;
    std::string s = v->is_string() ? v->get<std::string>() : v->dump();
    if (s.empty()) return std::nullopt;
    return s;
}

}  // namespace

Mapped map_object(const ObjectSpec& spec, const json& object) {
    Mapped m;
    if (object.contains("id") && object["id"].is_string()) m.id = object["id"].get<std::string>();
    const auto props = object.value("properties", json::object());
    if (props.is_object() && props.contains(spec.modified_property))
        m.modified = parse_stamp(props[spec.modified_property]);
    if (m.id.empty() || !m.modified) {
        // Not silently dropped: the hub rejects this with the reason, into its rejected store.
        m.record = {{"_raw", object.dump()},
                    {"_error", "HubSpot " + spec.type + " object without " +
                                   (m.id.empty() ? std::string("an id")
                                                 : "a readable " + spec.modified_property)}};
        return m;
    }
    const std::string at = cdphub::plugins::format_utc_ms(*m.modified);
    json identifiers = json::object(), traits = json::object();
    for (const auto& [property, type] : spec.identifiers)
        if (auto v = value_of(object, property)) identifiers[type] = *v;
    for (const auto& [property, name] : spec.traits)
        if (auto v = value_of(object, property)) traits[name] = *v;
    m.record = {{"type", "identify"},
                {"record_id", spec.type + "/" + m.id + "@" + at},
                {"occurred_at", at},
                {"identifiers", identifiers},
                {"traits", traits}};
    return m;
}

}  // namespace cdphub_hubspot

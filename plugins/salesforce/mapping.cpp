#include "mapping.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <cctype>

namespace cdphub::salesforce {

json field_value(const json& row, const std::string& path) {
    const json* cur = &row;
    std::size_t start = 0;
    for (;;) {
        const auto dot = path.find('.', start);
        const auto name =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!cur->is_object()) return nullptr;
        // Salesforce answers with the field's canonical spelling; configs may differ in case.
        const json* next = nullptr;
        if (auto it = cur->find(name); it != cur->end()) {
            next = &*it;
        } else {
            for (auto it2 = cur->begin(); it2 != cur->end(); ++it2) {
                const auto& k = it2.key();
                if (k.size() == name.size() &&
                    std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b));
                    })) {
                    next = &it2.value();
                    break;
                }
            }
        }
        if (next == nullptr) return nullptr;
        cur = next;
        if (dot == std::string::npos) return *cur;
        start = dot + 1;
    }
}

json to_record(const ObjectSpec& spec, DeletedRows deleted_rows, const json& row,
               const std::string& id, const std::string& stamp, std::int64_t stamp_ms) {
    json identifiers = json::object();
    for (const auto& [field, type] : spec.identifiers) {
        json v = field_value(row, field);
        if (!(v.is_string() && !v.get<std::string>().empty()) && !v.is_number_integer()) continue;
        // Two fields mapped to one type (Email and Secondary_Email__c) give an array.
        if (!identifiers.contains(type))
            identifiers[type] = v;
        else if (identifiers[type].is_array())
            identifiers[type].push_back(v);
        else
            identifiers[type] = json::array({identifiers[type], v});
    }
    const bool deleted = field_value(row, "IsDeleted") == json(true);
    json rec = {{"record_id", spec.name + "/" + id + "@" + stamp},
                {"occurred_at", plugins::format_utc_ms(stamp_ms)},
                {"identifiers", identifiers}};
    if (deleted && deleted_rows == DeletedRows::event) {
        // The row is gone from the CRM. A profile trait would be wrong here when Salesforce
        // merged duplicates (the loser is deleted, the person lives on as the winner), so the
        // profile gets an event instead: segments and audits can see it, nothing is overwritten.
        rec["type"] = "track";
        rec["event"] = "CRM Record Deleted";
        rec["properties"] = {{"object", spec.name}, {"id", id}, {"system", "salesforce"}};
        return rec;
    }
    rec["type"] = "identify";
    json traits = json::object();
    if (deleted) {
        traits["deleted_in_crm"] = true;  // only the fact: the row's old values say nothing new
    } else {
        for (const auto& [field, name] : spec.traits) {
            json v = field_value(row, field);
            // Attributes of a relationship object are no trait values.
            if (v.is_object() && v.contains("attributes")) continue;
            traits[name] = v;  // null: empty in Salesforce; the hub does not erase with it
        }
        if (deleted_rows == DeletedRows::trait) traits["deleted_in_crm"] = false;
    }
    rec["traits"] = traits;
    return rec;
}

}  // namespace cdphub::salesforce

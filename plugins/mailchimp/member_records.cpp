#include "member_records.hpp"

namespace cdphub::mailchimp {

namespace {

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool empty_value(const json& v) {
    return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
           (v.is_object() && v.empty());
}

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

json merge_traits(const Config& config, const json& merges) {
    json traits = json::object();
    if (!merges.is_object()) return traits;
    for (const auto& [tag, value] : merges.items()) {
        if (tag == "EMAIL" || empty_value(value)) continue;
        if (auto m = config.merge_fields.find(tag); m != config.merge_fields.end())
            traits[m->second] = value;
        else if (config.keep_unmapped_merge_fields)
            traits["mailchimp_" + lower(tag)] = value;
    }
    return traits;
}

json consent_for_status(const std::string& status) {
    return {{"purpose", "email_marketing"},
            {"granted", status == "subscribed"},
            {"source", "mailchimp:" + (status.empty() ? std::string("unknown") : status)}};
}

json unreadable(std::string raw, std::string error, std::string where) {
    if (raw.size() > 4096) raw = raw.substr(0, 4096);
    return {{"_raw", std::move(raw)}, {"_error", std::move(error)}, {"_file", std::move(where)}};
}

void append_member_records(const Config& config, const json& member, json& records) {
    const auto id = str(member, "id");
    const auto email = str(member, "email_address");
    const auto changed = str(member, "last_changed");
    const auto status = str(member, "status");
    if (id.empty() || email.empty() || changed.empty()) {
        records.push_back(unreadable(member.dump(-1, ' ', false, json::error_handler_t::replace),
                                     "member without id, email_address or last_changed",
                                     "mailchimp members"));
        return;
    }
    const auto version = "member:" + id + "@" + changed;
    json traits = merge_traits(config, member.value("merge_fields", json::object()));
    traits["mailchimp_status"] = status;
    if (auto u = str(member, "unique_email_id"); !u.empty())
        traits["mailchimp_unique_email_id"] = u;
    if (auto l = str(member, "language"); !l.empty()) traits["language"] = l;
    if (auto v = member.find("vip"); v != member.end() && v->is_boolean())
        traits["mailchimp_vip"] = *v;
    if (auto r = str(member, "unsubscribe_reason"); !r.empty())
        traits["mailchimp_unsubscribe_reason"] = r;
    if (auto t = member.find("tags"); t != member.end() && t->is_array()) {
        json names = json::array();
        for (const auto& tag : *t)
            if (tag.is_object() && tag.contains("name")) names.push_back(tag["name"]);
        traits["mailchimp_tags"] = std::move(names);
    }
    records.push_back({{"type", "identify"},
                       {"record_id", version},
                       {"occurred_at", changed},
                       {"identifiers", {{"email", email}}},
                       {"traits", std::move(traits)}});
    records.push_back({{"type", "consent"},
                       {"record_id", version + ":consent"},
                       {"occurred_at", changed},
                       {"identifiers", {{"email", email}}},
                       {"consent", consent_for_status(status)}});
}

}  // namespace cdphub::mailchimp

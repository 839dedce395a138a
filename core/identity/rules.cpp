#include "identity/rules.hpp"

#include <tuple>

namespace cdphub::identity {

Rules Rules::defaults() {
    Rules r;
    r.set_type("user_id", {1, 1, true});
    r.set_type("email", {2, 5, false});
    r.set_type("phone", {3, 5, false});
    r.set_type("crm_id", {4, 1, false});
    r.set_type("pos_customer_id", {5, 1, false});
    r.set_type("email_sha256", {6, 5, false});
    r.set_type("phone_sha256", {7, 5, false});
    r.set_type("anonymous_id", {8, 10, false});
    // Placeholders that forms, SDKs and exports put where a value is missing. They would link
    // every customer who left the field empty into one profile.
    r.add_blocked(
        "(null|nil|none|undefined|anonymous|unknown|n/?a|-1|0+|test@test\\.com|"
        "(no|none|noemail|no-email|noreply|no-reply)@.*)",
        {});
    return r;
}

void Rules::add_blocked(const std::string& pattern, std::set<std::string> types,
                        bool case_insensitive) {
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    if (case_insensitive) flags |= std::regex::icase;
    blocked_.push_back({pattern, std::make_shared<const std::regex>(pattern, flags),
                        std::move(types)});
}

int Rules::limit(std::string_view type) const {
    auto it = types_.find(type);
    if (it == types_.end()) return default_limit_;
    return it->second.unique ? 1 : it->second.limit;
}

bool Rules::unique(std::string_view type) const {
    auto it = types_.find(type);
    return it != types_.end() && it->second.unique;
}

bool Rules::ranks_before(std::string_view a, std::string_view b) const {
    auto key = [&](std::string_view t) {
        auto it = types_.find(t);
        bool listed = it != types_.end();
        return std::make_tuple(listed ? 0 : 1, listed ? it->second.priority : 0, t);
    };
    return key(a) < key(b);
}

const BlockedPattern* Rules::blocked(std::string_view type, const std::string& value) const {
    for (const auto& b : blocked_) {
        if (!b.types.empty() && b.types.find(std::string(type)) == b.types.end()) continue;
        if (std::regex_match(value, *b.regex)) return &b;
    }
    return nullptr;
}

const TraitRule& Rules::trait_rule(const std::string& trait) const {
    auto it = trait_rules_.find(trait);
    return it == trait_rules_.end() ? default_trait_ : it->second;
}

}  // namespace cdphub::identity

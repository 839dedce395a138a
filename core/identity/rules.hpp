// Identity resolution rules as the engine uses them: which identifier types rank highest, how
// many values of a type one profile may hold, which values are placeholders that must never link
// anyone, and which trait value wins when sources disagree. Admins write them in
// manifests/identity.json (docs/identity.md); defaults() is what applies without that file.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cdphub::identity {

struct TypeRule {
    int priority = 0;  // 1 = highest
    int limit = 5;     // most values of this type one profile may hold
    bool unique = false;  // a person has one: never merge across values, drop others first
};

struct BlockedPattern {
    std::string pattern;                  // as written, for explain output
    std::shared_ptr<const std::regex> regex;  // matched against the whole cleansed value
    std::set<std::string> types;          // empty: every type
};

enum class TraitStrategy { most_recent, first_seen, most_filled, source_priority };

struct TraitRule {
    TraitStrategy strategy = TraitStrategy::most_recent;
    std::vector<std::string> sources;  // source_priority: highest first
};

class Rules {
  public:
    // The built-in rules (documented in docs/identity.md).
    static Rules defaults();

    // Listed types keep their priority; unlisted types rank after all listed ones, by name.
    void set_type(const std::string& type, TypeRule rule) { types_[type] = rule; }
    void set_default_limit(int limit) { default_limit_ = limit; }
    // Throws std::regex_error for a bad pattern.
    void add_blocked(const std::string& pattern, std::set<std::string> types,
                     bool case_insensitive = true);
    void clear_blocked() { blocked_.clear(); }
    void set_default_trait_rule(TraitRule rule) { default_trait_ = std::move(rule); }
    void set_trait_rule(const std::string& trait, TraitRule rule) {
        trait_rules_[trait] = std::move(rule);
    }

    int limit(std::string_view type) const;
    bool unique(std::string_view type) const;
    // Orders identifiers from most to least important: (listed?, priority, name).
    bool ranks_before(std::string_view a, std::string_view b) const;
    // The pattern that blocks this value, or nullptr.
    const BlockedPattern* blocked(std::string_view type, const std::string& value) const;
    const TraitRule& trait_rule(const std::string& trait) const;

    const std::map<std::string, TypeRule, std::less<>>& types() const { return types_; }
    const std::vector<BlockedPattern>& blocked_patterns() const { return blocked_; }
    int default_limit() const { return default_limit_; }

  private:
    std::map<std::string, TypeRule, std::less<>> types_;
    int default_limit_ = 5;
    std::vector<BlockedPattern> blocked_;
    TraitRule default_trait_;
    std::map<std::string, TraitRule> trait_rules_;
};

}  // namespace cdphub::identity

// A real store file with the full ingest pipeline (normalizer, resolver) for identity tests.
#pragma once

#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

namespace cdphub::test {

// Sets (or adds) one identifier type's rule, the way identity.json would.
inline void set_type(identity::Rules& rules, const std::string& type, int priority, int limit,
                     bool unique) {
    for (auto& r : rules.identifiers)
        if (r.type == type) {
            r.priority = priority;
            r.limit = limit;
            r.unique = unique;
            return;
        }
    manifest::IdentifierRule r;
    r.type = type;
    r.priority = priority;
    r.limit = limit;
    r.unique = unique;
    rules.identifiers.push_back(r);
}

inline void set_trait_rule(identity::Rules& rules, const std::string& trait,
                           identity::TraitStrategy strategy,
                           std::vector<std::string> sources = {}) {
    rules.trait_rules[trait] = identity::TraitRule{strategy, std::move(sources)};
}

class IdentityTest : public ::testing::Test {
  protected:
    void SetUp() override { open(identity::Rules::defaults()); }

    void open(identity::Rules rules) {
        ingestor_.reset();
        resolver_ = std::make_unique<identity::Resolver>(std::move(rules));
        if (!store_) store_ = store::open_sqlite_store(dir_.path() / "hub.db");
        ingestor_ = std::make_unique<pipeline::Ingestor>(*store_, normalizer_, *resolver_);
    }

    // One canonical record with defaults filled in.
    static nlohmann::json rec(const std::string& id, nlohmann::json identifiers,
                              const std::string& at = "2024-05-01T10:00:00Z",
                              nlohmann::json traits = nlohmann::json::object()) {
        return {{"type", "identify"},
                {"record_id", id},
                {"occurred_at", at},
                {"identifiers", std::move(identifiers)},
                {"traits", std::move(traits)}};
    }

    store::BatchResult ingest(const std::string& source, nlohmann::json records) {
        if (!records.is_array()) records = nlohmann::json::array({records});
        return ingestor_->ingest(source, records);
    }

    std::optional<store::ProfileId> profile(const std::string& type, const std::string& value) {
        return store_->find_profile(type, value);
    }

    store::ProfileDetails details(store::ProfileId id) {
        auto d = store_->profile_details(id);
        EXPECT_TRUE(d.has_value()) << "profile " << id;
        return d.value_or(store::ProfileDetails{});
    }

    nlohmann::json trait(store::ProfileId id, const std::string& name) {
        for (const auto& t : details(id).traits)
            if (t.name == name) return t.observation.value;
        return nullptr;
    }

    SQLite::Database plain() {
        return SQLite::Database(dir_.path() / "hub.db", SQLite::OPEN_READWRITE);
    }

    std::int64_t sql_int(const std::string& sql) { return plain().execAndGet(sql).getInt64(); }

    TempDir dir_;
    normalize::Normalizer normalizer_;
    std::unique_ptr<store::ProfileStore> store_;
    std::unique_ptr<identity::Resolver> resolver_;
    std::unique_ptr<pipeline::Ingestor> ingestor_;
};

}  // namespace cdphub::test

// Identity resolution: turns a normalized record into a place in the unified profile store.
//
// For each record: placeholder values are blocked (kept on the record, never linked); the
// remaining identifiers are looked up; if linking them all would give a profile more values of a
// type than its limit allows (two user_ids, say), or would join two identifiers an unmerge
// separated, the lowest-priority identifier that takes part in the conflict is dropped (unique
// types last) and matching is retried. What is left matches zero profiles (a new one is made), one
// (the record joins it) or several (they merge into the oldest, and the merge log says which
// identifiers of which record linked them). Then the record's traits, event, order or consent are
// applied with trait precedence. docs/identity.md explains the rules with examples.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "identity/rules.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/record.hpp"
#include "store/profile_store.hpp"
#include "store/profile_writer.hpp"

namespace cdphub::identity {

struct ApplyOptions {
    // Also set the record's resolved_profile_id (its first resolution).
    bool first = true;
    // Makes the profile a record starts when it matches none (default: a new one).
    std::function<store::ProfileId()> allocate;
};

struct Outcome {
    std::optional<store::ProfileId> profile;  // nullopt: every identifier was blocked
    nlohmann::json resolution;                // what was stored in records.resolution
};

// Thrown for an unmerge that cannot be done (unknown merge, already undone).
class UnmergeError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct UnmergeResult {
    std::int64_t unmerge_id = 0;
    std::vector<store::ProfileId> profiles;  // where the affected records resolved afterwards
    std::vector<store::ProfileId> changed;   // every profile touched (for segment updates)
};

class Resolver {
  public:
    explicit Resolver(Rules rules) : rules_(std::move(rules)) {}

    // Runs inside the caller's store transaction (a RecordApplier or write_profiles).
    Outcome apply(const normalize::NormalizedRecord& record, store::RecordKey key,
                  store::ProfileWriter& writer, const ApplyOptions& options = {}) const;

    // Splits merge `merge_id`: the two identifiers it linked by are separated for good, and every
    // record of the merged profile is resolved again in its original order. Profiles get their
    // old ids back where their records allow. One transaction. Throws UnmergeError, StoreError.
    UnmergeResult unmerge(std::int64_t merge_id, const std::string& reason,
                          store::ProfileStore& store,
                          const normalize::Normalizer& normalizer) const;

    const Rules& rules() const { return rules_; }

  private:
    void apply_content(const normalize::NormalizedRecord& record, store::RecordKey key,
                       store::ProfileId profile, bool new_profile,
                       store::ProfileWriter& writer) const;
    void merge_into(store::ProfileId survivor, store::ProfileId absorbed,
                    const store::IdentifierValue& survivor_link,
                    const store::IdentifierValue& absorbed_link, store::RecordKey key,
                    store::ProfileWriter& writer) const;

    Rules rules_;
};

}  // namespace cdphub::identity

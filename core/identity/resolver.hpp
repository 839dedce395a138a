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

// Where a record goes, decided before anything it contributes is written (Resolver::place). The
// store can then write the record row once, with its profile and resolution, instead of
// inserting it and updating it after resolution.
struct Placement {
    struct Link {
        store::StoredIdentifier id;
        std::optional<store::ProfileId> match;  // the profile already holding it, if any
    };
    std::optional<store::ProfileId> profile;  // nullopt: no identifier could link the record
    bool new_profile = false;                 // `profile` was made for this record
    std::vector<Link> links;                  // the identifiers that link, by priority
    std::vector<store::ProfileId> absorbed;   // profiles that merge into `profile`
    nlohmann::json resolution;                // what records.resolution will say
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

    // Runs inside the caller's store transaction (write_profiles): place, file the record with
    // ProfileWriter::assign_record, then contribute.
    Outcome apply(const normalize::NormalizedRecord& record, store::RecordKey key,
                  store::ProfileWriter& writer, const ApplyOptions& options = {}) const;

    // The two halves of apply, for a store that writes the record row in between (a
    // RecordApplier). place() only reads, except that it creates the profile a record starts;
    // contribute() merges, attaches the new identifiers and applies traits, event, order or
    // consent. Both run in the same transaction, with nothing else written in between but the
    // record row.
    Placement place(const normalize::NormalizedRecord& record, store::ProfileWriter& writer,
                    const ApplyOptions& options = {}) const;
    void contribute(const normalize::NormalizedRecord& record, const Placement& placement,
                    store::RecordKey key, store::ProfileWriter& writer) const;

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

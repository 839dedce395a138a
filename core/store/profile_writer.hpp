// What the identity engine may do to profiles inside one store transaction. Backend-neutral like
// ProfileStore: the engine (core/identity) decides *what* happens (which profiles match, which
// trait wins, who merges into whom); a backend implements *how* it is stored. Every call runs in
// the transaction of the ProfileStore call that handed out the writer, so a failure anywhere rolls
// back the records, the cursor and every profile change together.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub::store {

using ProfileId = std::int64_t;
using RecordKey = std::int64_t;  // records.id

struct IdentifierValue {
    std::string type;
    std::string value;
    auto operator<=>(const IdentifierValue&) const = default;
    bool operator==(const IdentifierValue&) const = default;
};

struct StoredIdentifier {
    IdentifierValue id;
    bool hashed = false;
};

// A trait value with where and when it was observed.
struct TraitObservation {
    nlohmann::json value;
    std::string source;
    std::string observed_at;  // ISO-8601 UTC, milliseconds (format_timestamp)
    std::optional<RecordKey> record;
};

struct ConsentDecision {
    bool granted = false;
    std::string source;
    std::optional<std::string> collected_via;
    std::string occurred_at;
    std::optional<RecordKey> record;
};

struct OrderWrite {
    std::string order_id;
    std::string currency;
    std::int64_t total_minor = 0;
    std::optional<std::int64_t> tax_minor;
    std::optional<std::int64_t> discount_minor;
    std::optional<std::string> status;
    nlohmann::json lines = nlohmann::json::array();
};

// One merge: `absorbed` joins `survivor` because the triggering record matched the survivor by
// `survivor_link` and the absorbed profile by `absorbed_link`.
struct MergeEntry {
    std::int64_t id = 0;  // merge_log.id (0 before it is written)
    std::string merged_at;
    ProfileId survivor = 0;
    ProfileId absorbed = 0;
    IdentifierValue survivor_link;
    IdentifierValue absorbed_link;
    std::optional<RecordKey> record;
    std::optional<std::int64_t> undone_by;
};

// A record as unmerge replays it.
struct RecordForReplay {
    RecordKey key = 0;
    std::string source;
    std::optional<ProfileId> resolved_profile;  // where it first resolved
    std::string body;                           // canonical JSON
    std::string received_at;
};

class ProfileWriter {
  public:
    virtual ~ProfileWriter() = default;

    // The transaction's timestamp (one per transaction, so a batch's changes share it).
    virtual const std::string& now() const = 0;

    // --- identity graph -----------------------------------------------------------------
    virtual std::optional<ProfileId> profile_of(const IdentifierValue& id) = 0;
    virtual std::vector<StoredIdentifier> identifiers_of(ProfileId profile) = 0;
    // Separations (pairs that must never share a profile) with either side in `ids`.
    virtual std::vector<std::pair<IdentifierValue, IdentifierValue>> separations_of(
        std::span<const IdentifierValue> ids) = 0;
    virtual ProfileId create_profile() = 0;
    virtual void attach_identifier(ProfileId profile, const StoredIdentifier& id,
                                   std::string_view source, RecordKey record) = 0;
    // Moves everything of `entry.absorbed` (identifiers, records, events, orders) to
    // `entry.survivor`, drops its traits, consents and computed traits (the engine has already
    // written the winners to the survivor), ends its segment memberships, leaves it as a tombstone
    // pointing at the survivor and appends the merge log. Returns the merge id.
    virtual std::int64_t merge_profiles(const MergeEntry& entry) = 0;

    // --- what a record contributes --------------------------------------------------------
    virtual std::map<std::string, TraitObservation> traits_of(ProfileId profile) = 0;
    virtual void set_trait(ProfileId profile, const std::string& name,
                           const TraitObservation& value) = 0;
    virtual void add_event(ProfileId profile, RecordKey record, std::string_view source,
                           std::string_view event, std::string_view occurred_at,
                           const nlohmann::json& properties) = 0;
    // Inserts the order or, for a later record of the same (source, order_id), updates it.
    virtual void upsert_order(ProfileId profile, RecordKey record, std::string_view source,
                              const OrderWrite& order, std::string_view occurred_at) = 0;
    virtual std::map<std::string, ConsentDecision> consents_of(ProfileId profile) = 0;
    virtual void set_consent(ProfileId profile, const std::string& purpose,
                             const ConsentDecision& decision) = 0;
    // Files the record under `profile` (nullopt: no identifier could link it) with what
    // resolution did to its identifiers. `first` also sets resolved_profile_id.
    virtual void assign_record(RecordKey record, std::optional<ProfileId> profile,
                               const nlohmann::json& resolution, bool first) = 0;

    // --- unmerge ----------------------------------------------------------------------------
    virtual std::optional<MergeEntry> merge_entry(std::int64_t merge_id) = 0;
    // Follows merged_into to the live profile (the id itself if live); nullopt if unknown.
    virtual std::optional<ProfileId> live_profile(ProfileId profile) = 0;
    // Tombstones merged into `profile`, directly or through other tombstones.
    virtual std::vector<ProfileId> absorbed_into(ProfileId profile) = 0;
    virtual std::vector<RecordForReplay> records_of(ProfileId profile) = 0;
    // Empties a live profile before its records are replayed: identifiers, traits, events,
    // orders, consents and computed traits go; its records are unassigned; memberships end.
    virtual void clear_profile(ProfileId profile) = 0;
    // Makes a tombstone (or an emptied profile) live and empty again, for unmerge to reuse.
    virtual void revive_profile(ProfileId profile) = 0;
    // Turns an emptied profile that no record needs any more into a tombstone pointing at
    // `successor`, so that its id still leads somewhere (no merge log entry: nothing merged).
    virtual void retire_profile(ProfileId profile, ProfileId successor) = 0;
    // Marks merges as undone by an unmerge and records the separation and the outcome.
    virtual std::int64_t record_unmerge(std::int64_t merge_id, const std::string& reason,
                                        const IdentifierValue& a, const IdentifierValue& b,
                                        std::span<const std::int64_t> undone_merges) = 0;
    virtual void set_unmerge_result(std::int64_t unmerge_id,
                                    std::span<const ProfileId> profiles) = 0;
    // Merge log rows whose survivor is one of `profiles` and that are not undone.
    virtual std::vector<std::int64_t> merges_into(std::span<const ProfileId> profiles) = 0;

    // Profiles created, changed, merged or emptied in this transaction (for segment updates).
    virtual const std::set<ProfileId>& changed_profiles() const = 0;
};

// Where a new record is filed, written with its row (records.profile_id, resolved_profile_id and
// resolution).
struct RecordAssignment {
    std::optional<ProfileId> profile;  // nullopt: no identifier could link it
    std::string resolution;            // JSON text: what resolution did with its identifiers
};

// Called by ProfileStore::commit_batch for each accepted record that is new (not for duplicates),
// in batch order, inside the batch's transaction, in two steps around the record row: place()
// before it is written (decides its profile; may create one), contribute() after (writes what it
// adds to the profile, which may refer to the row by `key`). Throwing aborts the whole batch.
class RecordApplier {
  public:
    virtual ~RecordApplier() = default;
    virtual RecordAssignment place(std::size_t accepted_index, ProfileWriter& writer) = 0;
    virtual void contribute(std::size_t accepted_index, RecordKey key, ProfileWriter& writer) = 0;
};

}  // namespace cdphub::store

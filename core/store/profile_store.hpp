// The profile store as the engine sees it. Backend-neutral on purpose: nothing here names SQLite,
// so a PostgreSQL backend can implement the same interface without the engine changing. The
// SQLite implementation (the embedded default) is in sqlite_store.hpp; the schema both backends
// expose to BI tools is documented in docs/store.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/activation_types.hpp"
#include "store/profile_details.hpp"
#include "store/profile_writer.hpp"

namespace cdphub::store {

// A record the hub accepted, ready to store. `body` is the record's JSON text as it will be kept
// (the canonical record once the normalizer produces it).
struct AcceptedRecord {
    std::string record_id;                   // idempotency key, unique per source
    std::string type;                        // identify, track, order, alias, consent, ...
    std::optional<std::string> occurred_at;  // ISO-8601 UTC as given by the normalizer
    std::string body;                        // JSON text
};

// A record the hub could not use, kept with the reason so nothing is silently dropped.
struct RejectedRecord {
    std::optional<std::string> record_id;  // when the record had a usable one
    std::string reason_code;               // machine-readable, e.g. "missing_type"
    std::string reason;                    // one sentence for the admin
    std::string raw;                       // the record as received (text, not necessarily JSON)
};

// One unit of work from a source: its accepted and rejected records and, optionally, the cursor
// that covers them. A backend commits all of it or none of it.
struct Batch {
    std::string source;  // connector instance id
    std::vector<AcceptedRecord> accepted;
    std::vector<RejectedRecord> rejected;
    std::optional<std::string> cursor;  // JSON text; nullopt leaves the stored cursor unchanged
};

struct BatchResult {
    std::size_t inserted = 0;    // accepted records newly stored
    std::size_t duplicates = 0;  // accepted records already stored (same source + record_id)
    std::size_t rejected = 0;    // rejections newly stored
    std::size_t rejected_duplicates = 0;  // rejections already stored (same source + raw text)
    bool cursor_changed = false;
    // The ingest batch row that records this commit; nullopt when the batch changed nothing
    // (a pure replay leaves no trace, so replaying is idempotent down to the audit table).
    std::optional<std::int64_t> batch_id;
    // Profiles the batch's records created or changed (merged-away ones included), sorted.
    std::vector<ProfileId> changed_profiles;

    bool changed_anything() const { return batch_id.has_value(); }
};

struct StoreCounts {
    std::int64_t records = 0;
    std::int64_t rejected_records = 0;
    std::int64_t ingest_batches = 0;
};

struct StoredRejection {
    std::int64_t id = 0;
    std::string source;
    std::optional<std::string> record_id;
    std::string reason_code;
    std::string reason;
    std::string raw;
    std::string received_at;
};

struct StoredRecord {
    std::int64_t id = 0;
    std::string source;
    std::string record_id;
    std::string type;
    std::optional<std::string> occurred_at;
    std::string received_at;
    std::string body;
};

// Why a store operation failed, in terms the caller can act on (retry later or stop).
class StoreError : public std::runtime_error {
  public:
    enum class Kind {
        busy,            // another writer holds the lock past the busy timeout: retry later
        full,            // disk or quota full: retry after the admin frees space
        io,              // the OS reported an I/O error
        corrupt,         // the file is damaged or not a database
        not_a_store,     // a database, but not one this hub created
        schema_too_new,  // written by a newer hub; refusing rather than guessing
        migration,       // a schema migration failed (the file stays at its previous version)
        constraint,      // a write violated the schema (a hub bug or a trigger refused it)
        internal,        // anything else
    };
    StoreError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }
    // Whether the same operation may succeed later without anyone changing the hub or its data.
    bool transient() const {
        return kind_ == Kind::busy || kind_ == Kind::full || kind_ == Kind::io;
    }

  private:
    Kind kind_;
};

// Every method throws StoreError on failure. Implementations are safe to call from several threads
// (they serialize writes); readers outside the hub (BI tools) see committed data only.
class ProfileStore {
  public:
    virtual ~ProfileStore() = default;

    // Stores the batch atomically: every accepted record, every rejection and the cursor, or
    // nothing. Replaying a batch (same source + record_id, same rejected raw text, same cursor)
    // changes nothing and reports the records as duplicates.
    // With an applier, each newly stored record is handed to it (identity resolution) in the
    // same transaction; if it throws, nothing of the batch is stored.
    virtual BatchResult commit_batch(const Batch& batch, RecordApplier* applier) = 0;
    BatchResult commit_batch(const Batch& batch) { return commit_batch(batch, nullptr); }

    // Runs `work` in one write transaction (unmerge, maintenance): all of it or nothing.
    // Returns the profiles it changed.
    virtual std::vector<ProfileId> write_profiles(
        const std::function<void(ProfileWriter&)>& work) = 0;

    // The live profile holding identifier (type, value), nullopt if none does.
    virtual std::optional<ProfileId> find_profile(std::string_view type,
                                                  std::string_view value) = 0;
    // Everything known about a profile (a merged id is followed to its live profile).
    virtual std::optional<ProfileDetails> profile_details(ProfileId id) = 0;
    virtual ProfileCounts profile_counts() = 0;

    // --- segments (schema version 3) ---------------------------------------------------------
    // Inserts or updates a segment by name; membership stays until the next evaluation.
    virtual void define_segment(const SegmentDefinition& segment) = 0;
    virtual std::vector<SegmentDefinition> segments() = 0;
    // Real-time membership: enters or exits the given profiles only. Throws UnknownName.
    virtual MembershipDelta update_members(
        std::string_view segment, const std::vector<std::pair<ProfileId, bool>>& changes) = 0;
    virtual std::vector<ProfileId> members(std::string_view segment) = 0;

    // --- activation (schema version 4) -------------------------------------------------------
    virtual void define_binding(const BindingDefinition& binding) = 0;
    // Compares the binding's segment (members with consent, mapped fields) with what the
    // destination was planned to hold and writes the difference to the outbox, atomically: a
    // crash before delivery repeats delivery, never loses a change. Throws UnknownName.
    // With a `coalesce` window, changes are added to the binding's latest diff when that one is
    // not a backfill and was made less than `coalesce` ago: real-time plans run after every
    // ingest batch, and one activation_diffs row per batch would grow without bound.
    virtual DiffSummary plan_diff(std::string_view binding, std::chrono::milliseconds coalesce) = 0;
    DiffSummary plan_diff(std::string_view binding) {
        return plan_diff(binding, std::chrono::milliseconds(0));
    }
    virtual std::vector<PendingChange> pending_changes(std::string_view binding,
                                                       std::size_t limit) = 0;
    // Records delivery outcomes; `error` is kept for failed ones (the vendor's answer).
    virtual void settle_changes(const std::vector<std::pair<std::int64_t, ChangeOutcome>>& outcomes,
                                const std::string& error = {}) = 0;
    virtual std::vector<BindingStatus> binding_status() = 0;

    // The last committed cursor of `source`, nullopt if it never committed one.
    virtual std::optional<std::string> cursor(std::string_view source) = 0;

    // Counts over all sources, or over one.
    virtual StoreCounts counts(std::optional<std::string_view> source = std::nullopt) = 0;

    // One stored record, nullopt if absent.
    virtual std::optional<StoredRecord> find_record(std::string_view source,
                                                    std::string_view record_id) = 0;

    // Rejections in id order, for review: those with id > after_id, at most `limit`, optionally
    // of one source. Page by passing the last id seen.
    virtual std::vector<StoredRejection> list_rejected(std::optional<std::string_view> source,
                                                       std::int64_t after_id,
                                                       std::size_t limit) = 0;

    // The schema version of the underlying store (docs/store.md lists what each one adds).
    virtual int schema_version() = 0;
};

}  // namespace cdphub::store

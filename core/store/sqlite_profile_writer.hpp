// ProfileWriter on a SQLite connection (schema version 2+). Statements are prepared once per
// connection and reused across transactions: resolution runs several per record.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>

#include "store/profile_writer.hpp"

namespace cdphub::store {

// Trait and computed-trait values are stored as (kind, native SQL value); see migrations.cpp.
void bind_json_value(SQLite::Statement& s, int kind_index, int value_index,
                     const nlohmann::json& value);
nlohmann::json read_json_value(const SQLite::Column& kind, const SQLite::Column& value);

class SqliteProfileWriter final : public ProfileWriter {
  public:
    explicit SqliteProfileWriter(SQLite::Database& db);
    ~SqliteProfileWriter() override;

    // Starts a unit of work inside an already-open transaction.
    void begin(std::string now);
    // Resets every cached statement (after a failure mid-step).
    void reset_statements();
    // Marks `profile` changed in this unit and writes its updated_at once (the store calls it
    // for the profile a new record row is filed under).
    void touch(ProfileId profile);

    const std::string& now() const override { return now_; }
    std::optional<ProfileId> profile_of(const IdentifierValue& id) override;
    std::vector<StoredIdentifier> identifiers_of(ProfileId profile) override;
    std::vector<std::pair<IdentifierValue, IdentifierValue>> separations_of(
        std::span<const IdentifierValue> ids) override;
    ProfileId create_profile() override;
    void attach_identifier(ProfileId profile, const StoredIdentifier& id, std::string_view source,
                           RecordKey record) override;
    std::int64_t merge_profiles(const MergeEntry& entry) override;
    std::map<std::string, TraitObservation> traits_of(ProfileId profile) override;
    void set_trait(ProfileId profile, const std::string& name,
                   const TraitObservation& value) override;
    void add_event(ProfileId profile, RecordKey record, std::string_view source,
                   std::string_view event, std::string_view occurred_at,
                   const nlohmann::json& properties) override;
    void upsert_order(ProfileId profile, RecordKey record, std::string_view source,
                      const OrderWrite& order, std::string_view occurred_at) override;
    std::map<std::string, ConsentDecision> consents_of(ProfileId profile) override;
    void set_consent(ProfileId profile, const std::string& purpose,
                     const ConsentDecision& decision) override;
    void assign_record(RecordKey record, std::optional<ProfileId> profile,
                       const nlohmann::json& resolution, bool first) override;
    std::optional<MergeEntry> merge_entry(std::int64_t merge_id) override;
    std::optional<ProfileId> live_profile(ProfileId profile) override;
    std::vector<ProfileId> absorbed_into(ProfileId profile) override;
    std::vector<RecordForReplay> records_of(ProfileId profile) override;
    void clear_profile(ProfileId profile) override;
    void revive_profile(ProfileId profile) override;
    void retire_profile(ProfileId profile, ProfileId successor) override;
    std::int64_t record_unmerge(std::int64_t merge_id, const std::string& reason,
                                const IdentifierValue& a, const IdentifierValue& b,
                                std::span<const std::int64_t> undone_merges) override;
    void set_unmerge_result(std::int64_t unmerge_id, std::span<const ProfileId> profiles) override;
    std::vector<std::int64_t> merges_into(std::span<const ProfileId> profiles) override;
    const std::set<ProfileId>& changed_profiles() const override { return changed_; }

  private:
    struct Statements;
    struct MergeStatements;  // prepared on the first merge: many imports have none
    void end_memberships(ProfileId profile);

    SQLite::Database& db_;
    std::unique_ptr<Statements> st_;
    std::unique_ptr<MergeStatements> merge_st_;
    std::string now_;
    std::set<ProfileId> changed_;
    std::set<ProfileId> touched_;  // updated_at already written in this unit
};

}  // namespace cdphub::store

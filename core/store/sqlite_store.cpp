#include "store/sqlite_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <mutex>

#include "common/sha256.hpp"
#include "store/checkpointer.hpp"
#include "store/sqlite_profile_reads.hpp"
#include "store/sqlite_profile_writer.hpp"
#include "store/statement_cache.hpp"

namespace cdphub::store {

namespace {

std::optional<std::string> optional_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

// Every use of the store's connection is under SqliteStore::mutex_.
DatabaseOptions locked_by_us(DatabaseOptions o) {
    o.externally_locked = true;
    return o;
}

class SqliteStore final : public SqliteProfileStore {
  public:
    SqliteStore(const std::filesystem::path& path, SqliteStoreOptions options)
        : options_(std::move(options)),
          db_(open_database(path, locked_by_us(options_.database))),
          // Prepared once: the ingest path runs these per record, and preparing dominates
          // otherwise.
          insert_batch_(db_, "INSERT INTO ingest_batches (source, received_at) VALUES (?, ?)"),
          finish_batch_(db_,
                        "UPDATE ingest_batches SET records_inserted = ?, records_duplicate = ?, "
                        "records_rejected = ?, cursor = ? WHERE id = ?"),
          drop_batch_(db_, "DELETE FROM ingest_batches WHERE id = ?"),
          insert_record_(db_,
                         "INSERT INTO records (source, record_id, type, occurred_at, received_at, "
                         "batch_id, body) VALUES (?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (source, record_id) DO NOTHING"),
          // With an applier, a record is looked up first and written once, with its resolution,
          // rather than inserted and then updated (a second write of the whole row).
          record_exists_(db_, "SELECT 1 FROM records WHERE source = ? AND record_id = ?"),
          insert_resolved_record_(
              db_,
              "INSERT INTO records (source, record_id, type, occurred_at, received_at, batch_id, "
              "body, profile_id, resolved_profile_id, resolution) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)"),
          insert_rejected_(
              db_,
              "INSERT INTO rejected_records (source, record_id, reason_code, reason, "
              "raw, raw_sha256, received_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (source, raw_sha256) DO NOTHING"),
          // The WHERE makes re-committing the same cursor a no-op, so a replay changes nothing,
          // not even updated_at.
          upsert_cursor_(
              db_,
              "INSERT INTO cursors (source, cursor, updated_at, batch_id) "
              "VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
              "cursor = excluded.cursor, updated_at = excluded.updated_at, "
              "batch_id = excluded.batch_id WHERE cursors.cursor IS NOT excluded.cursor"),
          select_cursor_(db_, "SELECT cursor FROM cursors WHERE source = ?"),
          writer_(db_) {
        if (options_.background_checkpoints)
            checkpointer_ = std::make_unique<BackgroundCheckpointer>(db_, path);
    }

    BatchResult commit_batch(const Batch& batch, RecordApplier* applier) override {
        std::lock_guard lock(mutex_);
        try {
            return commit_locked(batch, applier);
        } catch (...) {
            // A statement that failed mid-step must be reset before its next use.
            for (auto* s :
                 {&insert_batch_, &finish_batch_, &drop_batch_, &insert_record_, &record_exists_,
                  &insert_resolved_record_, &insert_rejected_, &upsert_cursor_})
                s->tryReset();
            writer_.reset_statements();
            rethrow_as_store_error("committing a batch of source '" + batch.source + "'");
        }
    }

    std::vector<ProfileId> write_profiles(
        const std::function<void(ProfileWriter&)>& work) override {
        std::lock_guard lock(mutex_);
        try {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            writer_.begin(format_timestamp(options_.clock()));
            work(writer_);
            tx.commit();
            const auto& changed = writer_.changed_profiles();
            return {changed.begin(), changed.end()};
        } catch (const SQLite::Exception&) {
            writer_.reset_statements();
            rethrow_as_store_error("updating profiles");
        } catch (...) {
            // The work's own errors (StoreError, an engine's refusal) pass through unchanged;
            // the transaction has rolled back either way.
            writer_.reset_statements();
            throw;
        }
    }

    std::optional<ProfileId> find_profile(std::string_view type, std::string_view value) override {
        std::lock_guard lock(mutex_);
        try {
            return read_find_profile(db_, type, value);
        } catch (...) {
            rethrow_as_store_error("looking up a profile");
        }
    }

    std::optional<ProfileDetails> profile_details(ProfileId id) override {
        std::lock_guard lock(mutex_);
        try {
            return read_profile_details(db_, id);
        } catch (...) {
            rethrow_as_store_error("reading profile " + std::to_string(id));
        }
    }

    void with_connection(
        const std::function<void(SQLite::Database&, const std::string&)>& fn) override {
        std::lock_guard lock(mutex_);
        try {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            fn(db_, format_timestamp(options_.clock()));
            tx.commit();
        } catch (const SQLite::Exception&) {
            rethrow_as_store_error("running a store query");
        }
    }

    void define_segment(const SegmentDefinition& segment) override {
        with_connection([&](SQLite::Database& db, const std::string& now) {
            sqlite_define_segment(db, segment, now);
        });
    }

    std::vector<SegmentDefinition> segments() override {
        std::vector<SegmentDefinition> out;
        with_connection(
            [&](SQLite::Database& db, const std::string&) { out = sqlite_segments(db); });
        return out;
    }

    MembershipDelta update_members(
        std::string_view segment, const std::vector<std::pair<ProfileId, bool>>& changes) override {
        MembershipDelta d;
        with_connection([&](SQLite::Database& db, const std::string& now) {
            d = sqlite_update_members(db, segment, changes, now);
        });
        return d;
    }

    std::vector<ProfileId> members(std::string_view segment) override {
        std::vector<ProfileId> out;
        with_connection(
            [&](SQLite::Database& db, const std::string&) { out = sqlite_members(db, segment); });
        return out;
    }

    void define_binding(const BindingDefinition& binding) override {
        with_connection([&](SQLite::Database& db, const std::string& now) {
            sqlite_define_binding(db, binding, now);
        });
    }

    using SqliteProfileStore::plan_diff;
    DiffSummary plan_diff(std::string_view binding, std::chrono::milliseconds coalesce) override {
        DiffSummary d;
        with_connection([&](SQLite::Database& db, const std::string& now) {
            // The cache's statements are reset even when the diff fails, before the rollback.
            struct Release {
                StatementCache& c;
                ~Release() { c.release(); }
            } release{diff_statements_};
            d = sqlite_plan_diff(db, diff_statements_, binding, now, coalesce);
        });
        return d;
    }

    std::vector<PendingChange> pending_changes(std::string_view binding,
                                               std::size_t limit) override {
        std::vector<PendingChange> out;
        with_connection([&](SQLite::Database& db, const std::string&) {
            out = sqlite_pending_changes(db, binding, limit);
        });
        return out;
    }

    void settle_changes(const std::vector<std::pair<std::int64_t, ChangeOutcome>>& outcomes,
                        const std::string& error) override {
        with_connection([&](SQLite::Database& db, const std::string& now) {
            sqlite_settle_changes(db, outcomes, error, now);
        });
    }

    std::vector<BindingStatus> binding_status() override {
        std::vector<BindingStatus> out;
        with_connection(
            [&](SQLite::Database& db, const std::string&) { out = sqlite_binding_status(db); });
        return out;
    }

    ProfileCounts profile_counts() override {
        std::lock_guard lock(mutex_);
        try {
            return read_profile_counts(db_);
        } catch (...) {
            rethrow_as_store_error("counting profiles");
        }
    }

    std::optional<std::string> cursor(std::string_view source) override {
        std::lock_guard lock(mutex_);
        try {
            select_cursor_.tryReset();
            select_cursor_.bind(1, std::string(source));
            std::optional<std::string> out;
            if (select_cursor_.executeStep()) out = select_cursor_.getColumn(0).getString();
            select_cursor_.tryReset();
            return out;
        } catch (...) {
            select_cursor_.tryReset();
            rethrow_as_store_error("reading the cursor of source '" + std::string(source) + "'");
        }
    }

    StoreCounts counts(std::optional<std::string_view> source) override {
        std::lock_guard lock(mutex_);
        try {
            StoreCounts c;
            c.records = count("records", source);
            c.rejected_records = count("rejected_records", source);
            c.ingest_batches = count("ingest_batches", source);
            return c;
        } catch (...) {
            rethrow_as_store_error("counting records");
        }
    }

    std::optional<StoredRecord> find_record(std::string_view source,
                                            std::string_view record_id) override {
        std::lock_guard lock(mutex_);
        try {
            SQLite::Statement q(
                db_,
                "SELECT id, source, record_id, type, occurred_at, received_at, body "
                "FROM records WHERE source = ? AND record_id = ?");
            q.bind(1, std::string(source));
            q.bind(2, std::string(record_id));
            if (!q.executeStep()) return std::nullopt;
            return StoredRecord{q.getColumn(0).getInt64(),     q.getColumn(1).getString(),
                                q.getColumn(2).getString(),    q.getColumn(3).getString(),
                                optional_text(q.getColumn(4)), q.getColumn(5).getString(),
                                q.getColumn(6).getString()};
        } catch (...) {
            rethrow_as_store_error("reading a record");
        }
    }

    std::vector<StoredRejection> list_rejected(std::optional<std::string_view> source,
                                               std::int64_t after_id, std::size_t limit) override {
        std::lock_guard lock(mutex_);
        try {
            const char* columns =
                "SELECT id, source, record_id, reason_code, reason, raw, received_at "
                "FROM rejected_records ";
            SQLite::Statement q(db_, std::string(columns) +
                                         (source ? "WHERE id > ? AND source = ? ORDER BY id LIMIT ?"
                                                 : "WHERE id > ? ORDER BY id LIMIT ?"));
            int i = 1;
            q.bind(i++, static_cast<std::int64_t>(after_id));
            if (source) q.bind(i++, std::string(*source));
            q.bind(i++, static_cast<std::int64_t>(limit));
            std::vector<StoredRejection> out;
            while (q.executeStep())
                out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                               optional_text(q.getColumn(2)), q.getColumn(3).getString(),
                               q.getColumn(4).getString(), q.getColumn(5).getString(),
                               q.getColumn(6).getString()});
            return out;
        } catch (...) {
            rethrow_as_store_error("listing rejected records");
        }
    }

    int schema_version() override {
        std::lock_guard lock(mutex_);
        try {
            return store::schema_version(db_);
        } catch (...) {
            rethrow_as_store_error("reading the schema version");
        }
    }

  private:
    BatchResult commit_locked(const Batch& batch, RecordApplier* applier) {
        BatchResult result;
        // IMMEDIATE: take the write lock now rather than fail to upgrade a read lock halfway.
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        const std::string now = format_timestamp(options_.clock());
        writer_.begin(now);

        run(insert_batch_, [&](SQLite::Statement& s) {
            s.bind(1, batch.source);
            s.bind(2, now);
        });
        const std::int64_t batch_id = db_.getLastInsertRowid();

        for (std::size_t i = 0; i < batch.accepted.size(); ++i) {
            const auto& r = batch.accepted[i];
            auto bind_record = [&](SQLite::Statement& s) {
                s.bindNoCopy(1, batch.source);
                s.bindNoCopy(2, r.record_id);
                s.bindNoCopy(3, r.type);
                if (r.occurred_at)
                    s.bindNoCopy(4, *r.occurred_at);
                else
                    s.bind(4);
                s.bindNoCopy(5, now);
                s.bind(6, batch_id);
                s.bindNoCopy(7, r.body);
            };
            if (!applier) {
                int changes = run(insert_record_, bind_record);
                ++(changes > 0 ? result.inserted : result.duplicates);
                continue;
            }
            if (exists(batch.source, r.record_id)) {
                ++result.duplicates;
                continue;
            }
            const auto assignment = applier->place(i, writer_);
            run(insert_resolved_record_, [&](SQLite::Statement& s) {
                bind_record(s);
                if (assignment.profile)
                    s.bind(8, *assignment.profile);
                else
                    s.bind(8);
                s.bindNoCopy(9, assignment.resolution);
            });
            const RecordKey key = db_.getLastInsertRowid();
            if (assignment.profile) writer_.touch(*assignment.profile);
            ++result.inserted;
            applier->contribute(i, key, writer_);
        }

        for (const auto& r : batch.rejected) {
            // Keyed by the raw text's digest, not record_id: a rejected record may have no id,
            // and the same bad record sent again should not pile up.
            const std::string digest = sha256_hex(r.raw);
            int changes = run(insert_rejected_, [&](SQLite::Statement& s) {
                s.bindNoCopy(1, batch.source);
                if (r.record_id)
                    s.bindNoCopy(2, *r.record_id);
                else
                    s.bind(2);
                s.bindNoCopy(3, r.reason_code);
                s.bindNoCopy(4, r.reason);
                s.bindNoCopy(5, r.raw);
                s.bindNoCopy(6, digest);
                s.bindNoCopy(7, now);
                s.bind(8, batch_id);
            });
            ++(changes > 0 ? result.rejected : result.rejected_duplicates);
        }

        if (batch.cursor) {
            result.cursor_changed = run(upsert_cursor_, [&](SQLite::Statement& s) {
                                        s.bindNoCopy(1, batch.source);
                                        s.bindNoCopy(2, *batch.cursor);
                                        s.bindNoCopy(3, now);
                                        s.bind(4, batch_id);
                                    }) > 0;
        }

        if (result.inserted == 0 && result.rejected == 0 && !result.cursor_changed) {
            // A pure replay: remove the audit row too, so replaying leaves the file as it was.
            run(drop_batch_, [&](SQLite::Statement& s) { s.bind(1, batch_id); });
        } else {
            run(finish_batch_, [&](SQLite::Statement& s) {
                s.bind(1, static_cast<std::int64_t>(result.inserted));
                s.bind(2, static_cast<std::int64_t>(result.duplicates));
                s.bind(3, static_cast<std::int64_t>(result.rejected));
                if (result.cursor_changed)
                    s.bindNoCopy(4, *batch.cursor);
                else
                    s.bind(4);
                s.bind(5, batch_id);
            });
            result.batch_id = batch_id;
        }
        tx.commit();
        const auto& changed = writer_.changed_profiles();
        result.changed_profiles.assign(changed.begin(), changed.end());
        return result;
    }

    bool exists(const std::string& source, const std::string& record_id) {
        auto& q = record_exists_;
        q.bindNoCopy(1, source);
        q.bindNoCopy(2, record_id);
        const bool found = q.executeStep();
        q.reset();
        q.clearBindings();
        return found;
    }

    // Binds, executes and resets a cached write statement; returns the rows it changed.
    template <typename Bind>
    static int run(SQLite::Statement& s, Bind&& bind) {
        bind(s);
        int changes = s.exec();
        s.reset();
        // bindNoCopy leaves pointers into the caller's strings; do not keep them past the call.
        s.clearBindings();
        return changes;
    }

    std::int64_t count(const char* table, std::optional<std::string_view> source) {
        // Table names come from the three literals above, never from input.
        std::string sql = std::string("SELECT count(*) FROM ") + table;
        if (source) sql += " WHERE source = ?";
        SQLite::Statement q(db_, sql);
        if (source) q.bind(1, std::string(*source));
        q.executeStep();
        return q.getColumn(0).getInt64();
    }

    SqliteStoreOptions options_;
    std::mutex mutex_;
    // The connection must outlive its statements: members are destroyed in reverse order.
    SQLite::Database db_;
    SQLite::Statement insert_batch_;
    SQLite::Statement finish_batch_;
    SQLite::Statement drop_batch_;
    SQLite::Statement insert_record_;
    SQLite::Statement record_exists_;
    SQLite::Statement insert_resolved_record_;
    SQLite::Statement insert_rejected_;
    SQLite::Statement upsert_cursor_;
    SQLite::Statement select_cursor_;
    SqliteProfileWriter writer_;
    StatementCache diff_statements_{db_};  // plan_diff's, kept across calls
    // Last: it hands checkpoints back to db_ before db_ closes.
    std::unique_ptr<BackgroundCheckpointer> checkpointer_;
};

}  // namespace

std::unique_ptr<SqliteProfileStore> open_sqlite_store(const std::filesystem::path& path,
                                                      SqliteStoreOptions options) {
    try {
        return std::make_unique<SqliteStore>(path, std::move(options));
    } catch (...) {
        rethrow_as_store_error("opening the store " + path.string());
    }
}

}  // namespace cdphub::store

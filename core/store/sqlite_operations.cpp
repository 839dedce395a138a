#include "store/sqlite_operations.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <nlohmann/json.hpp>

namespace cdphub::store {

void SqliteOperations::record_sync_run(const SyncRun& r) {
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "INSERT INTO sync_runs (source, trigger, started_at, finished_at, "
                            "status, message, batches, inserted, duplicates, rejected, "
                            "changed_profiles) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
        q.bind(1, r.source);
        q.bind(2, r.trigger);
        q.bind(3, r.started_at);
        q.bind(4, r.finished_at);
        q.bind(5, r.status);
        if (r.message.empty())
            q.bind(6);
        else
            q.bind(6, r.message);
        q.bind(7, r.batches);
        q.bind(8, r.inserted);
        q.bind(9, r.duplicates);
        q.bind(10, r.rejected);
        q.bind(11, r.changed_profiles);
        q.exec();
    });
}

std::vector<SyncRun> SqliteOperations::sync_runs(std::optional<std::string_view> source,
                                                 std::size_t limit) {
    std::vector<SyncRun> out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(
            db, std::string("SELECT id, source, trigger, started_at, finished_at, status, "
                            "coalesce(message, ''), batches, inserted, duplicates, rejected, "
                            "changed_profiles FROM sync_runs ") +
                    (source ? "WHERE source = ? " : "") + "ORDER BY id DESC LIMIT ?");
        int i = 1;
        if (source) q.bind(i++, std::string(*source));
        q.bind(i, static_cast<std::int64_t>(limit));
        while (q.executeStep()) {
            SyncRun r;
            r.id = q.getColumn(0).getInt64();
            r.source = q.getColumn(1).getString();
            r.trigger = q.getColumn(2).getString();
            r.started_at = q.getColumn(3).getString();
            r.finished_at = q.getColumn(4).getString();
            r.status = q.getColumn(5).getString();
            r.message = q.getColumn(6).getString();
            r.batches = q.getColumn(7).getInt64();
            r.inserted = q.getColumn(8).getInt64();
            r.duplicates = q.getColumn(9).getInt64();
            r.rejected = q.getColumn(10).getInt64();
            r.changed_profiles = q.getColumn(11).getInt64();
            out.push_back(std::move(r));
        }
    });
    return out;
}

std::vector<Replayable> SqliteOperations::replayable(std::optional<std::string_view> source,
                                                     const std::vector<std::int64_t>& ids,
                                                     std::size_t limit) {
    std::vector<Replayable> out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        std::string sql = "SELECT id, source, raw FROM rejected_records WHERE replayed_at IS NULL";
        if (source) sql += " AND source = ?";
        if (!ids.empty()) sql += " AND id IN (SELECT value FROM json_each(?))";
        sql += " ORDER BY id LIMIT ?";
        SQLite::Statement q(db, sql);
        int i = 1;
        if (source) q.bind(i++, std::string(*source));
        if (!ids.empty()) q.bind(i++, nlohmann::json(ids).dump());
        q.bind(i, static_cast<std::int64_t>(limit));
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                           q.getColumn(2).getString()});
    });
    return out;
}

void SqliteOperations::mark_replayed(
    const std::vector<std::pair<std::int64_t, std::string>>& outcomes) {
    if (outcomes.empty()) return;
    store_.with_connection([&](SQLite::Database& db, const std::string& now) {
        SQLite::Statement q(db,
                            "UPDATE rejected_records SET replayed_at = ?, replay_outcome = ? "
                            "WHERE id = ? AND replayed_at IS NULL");
        for (const auto& [id, outcome] : outcomes) {
            q.bind(1, now);
            q.bind(2, outcome);
            q.bind(3, id);
            q.exec();
            q.reset();
        }
    });
}

std::vector<ReplayMark> SqliteOperations::replay_marks(const std::vector<std::int64_t>& ids) {
    std::vector<ReplayMark> out;
    if (ids.empty()) return out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT id, replay_outcome, replayed_at FROM "
                            "rejected_records WHERE replayed_at IS NOT NULL AND id IN "
                            "(SELECT value FROM json_each(?)) ORDER BY id");
        q.bind(1, nlohmann::json(ids).dump());
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                           q.getColumn(2).getString()});
    });
    return out;
}

}  // namespace cdphub::store

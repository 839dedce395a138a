// The hub's operations history in the SQLite store (schema version 6): source sync runs, and
// which rejected records a replay stored. Beside the ProfileStore like the delivery store: the
// engine never needs it, the daemon, the CLI and the admin API do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_store.hpp"

namespace cdphub::store {

struct SyncRun {
    std::int64_t id = 0;  // set when read
    std::string source;
    std::string trigger;  // daemon (scheduled or asked by the admin API) | cli
    std::string started_at, finished_at;
    std::string status;  // a StatusCode name
    std::string message;
    std::int64_t batches = 0, inserted = 0, duplicates = 0, rejected = 0, changed_profiles = 0;
};

struct Replayable {
    std::int64_t id = 0;
    std::string source;
    std::string raw;
};

struct ReplayMark {
    std::int64_t rejection_id = 0;
    std::string outcome;  // accepted | duplicate
    std::string at;
};

class SqliteOperations {
  public:
    explicit SqliteOperations(SqliteProfileStore& store) : store_(store) {}

    void record_sync_run(const SyncRun& run);
    // Newest first; of one source or all.
    std::vector<SyncRun> sync_runs(std::optional<std::string_view> source, std::size_t limit);

    // Rejections not yet replayed, in id order: of one source (or all), optionally only `ids`.
    std::vector<Replayable> replayable(std::optional<std::string_view> source,
                                       const std::vector<std::int64_t>& ids, std::size_t limit);
    void mark_replayed(const std::vector<std::pair<std::int64_t, std::string>>& outcomes);
    // Replay marks of rejection ids (those without one are absent).
    std::vector<ReplayMark> replay_marks(const std::vector<std::int64_t>& ids);

  private:
    SqliteProfileStore& store_;
};

}  // namespace cdphub::store

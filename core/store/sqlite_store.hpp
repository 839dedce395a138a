// The embedded default ProfileStore: one SQLite file (WAL) that BI tools can read directly.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/database.hpp"
#include "store/profile_store.hpp"
#include "store/sqlite_activation.hpp"

namespace cdphub::store {

struct SqliteStoreOptions {
    DatabaseOptions database;
    // WAL checkpoints on a thread of their own instead of in the committing thread
    // (checkpointer.hpp).
    bool background_checkpoints = true;
    // Where received_at/updated_at come from; replaceable so tests can pin time.
    std::function<std::chrono::system_clock::time_point()> clock = [] {
        return std::chrono::system_clock::now();
    };
};

// The SQLite store, with access to its connection for SQLite-specific engines (the segment SQL
// compiler's queries): the engine stays backend-neutral behind ProfileStore, and a PostgreSQL
// backend would bring its own dialect.
class SqliteProfileStore : public ProfileStore {
  public:
    // Runs `fn` with the connection under the store's lock, in a write transaction (committed if
    // `fn` returns, rolled back if it throws). `now` is the transaction's timestamp. SQLite errors
    // become StoreError; other exceptions pass through.
    virtual void with_connection(
        const std::function<void(SQLite::Database& db, const std::string& now)>& fn) = 0;
};

// Opens (creating and migrating as needed) the store file at `path`. Throws StoreError.
// One writer connection per store object; writes are serialized on it. Open one store per file per
// process: a second process (or object) on the same file works, but waits for the lock.
std::unique_ptr<SqliteProfileStore> open_sqlite_store(const std::filesystem::path& path,
                                                      SqliteStoreOptions options = {});

}  // namespace cdphub::store

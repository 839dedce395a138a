// The embedded default ProfileStore: one SQLite file (WAL) that BI tools can read directly.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/database.hpp"
#include "store/profile_store.hpp"

namespace cdphub::store {

struct SqliteStoreOptions {
    DatabaseOptions database;
    // Where received_at/updated_at come from; replaceable so tests can pin time.
    std::function<std::chrono::system_clock::time_point()> clock = [] {
        return std::chrono::system_clock::now();
    };
};

// Opens (creating and migrating as needed) the store file at `path`. Throws StoreError.
// One writer connection per store object; writes are serialized on it. Open one store per file per
// process: a second process (or object) on the same file works, but waits for the lock.
std::unique_ptr<ProfileStore> open_sqlite_store(const std::filesystem::path& path,
                                                SqliteStoreOptions options = {});

}  // namespace cdphub::store

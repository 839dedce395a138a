// Opening a SQLite store file the way the hub needs it (WAL, foreign keys, durable commits) and
// bringing its schema up to date with numbered migrations. SQLite-specific; the engine talks to
// the backend-neutral ProfileStore instead (profile_store.hpp).
#pragma once

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "store/profile_store.hpp"

namespace cdphub::store {

// How hard a commit tries to survive a power loss. Either way an application crash (even
// SIGKILL) loses nothing that was committed; the difference is only an OS crash or power cut.
enum class Durability {
    // synchronous=FULL: every commit fsyncs the WAL before returning. The default, because
    // webhook sources acknowledge records to their sender once committed and will not resend.
    full,
    // synchronous=NORMAL: a power cut may roll back the last commits. Still never skips work for
    // pull sources (records and cursor roll back together), and commits are cheaper.
    normal,
};

struct DatabaseOptions {
    Durability durability = Durability::full;
    // How long a write waits for another connection's lock before failing with "busy".
    std::chrono::milliseconds busy_timeout{5000};
    // True when the caller serializes every use of the connection itself (the profile store's
    // lock): SQLite then skips its own per-call mutex (SQLITE_OPEN_NOMUTEX), which showed as 5%
    // of an import's CPU time.
    bool externally_locked = false;
};

// "CDPH": stored in the file header (PRAGMA application_id) so the hub can tell its own files
// from other SQLite databases, and `file` tools can too.
inline constexpr std::int32_t kApplicationId = 0x43445048;

// One numbered schema step. `apply` runs inside the migration's transaction; it must not commit.
struct Migration {
    int version;
    std::string_view name;
    std::function<void(SQLite::Database&)> apply;
};

// The hub's migrations, in order (migrations.cpp). Append only: a released migration never changes.
std::span<const Migration> store_migrations();

// Applies every migration newer than the file's PRAGMA user_version, each in its own IMMEDIATE
// transaction that also bumps user_version and appends to schema_migrations, so a failure leaves
// the file at the last complete version. Throws StoreError (schema_too_new if the file is newer
// than `migrations` knows, migration if a step fails). Returns the resulting version.
int migrate(SQLite::Database& db, std::span<const Migration> migrations);

// Opens (creating if missing) a store file: checks that it is a cdphub store, sets the connection
// pragmas, registers the store's SQL functions (cdphub_payload_hash), and migrates it. Throws
// StoreError.
SQLite::Database open_database(const std::filesystem::path& path, const DatabaseOptions& options,
                               std::span<const Migration> migrations = store_migrations());

// PRAGMA user_version of an open connection.
int schema_version(SQLite::Database& db);

// The current time as the store writes it: ISO-8601 UTC with milliseconds
// ("2024-05-01T12:00:00.123Z"), which sorts as text, is understood by SQLite's date functions and
// parses as a PostgreSQL timestamptz.
std::string format_timestamp(std::chrono::system_clock::time_point t);

// Maps a SQLite failure to a StoreError the caller can act on; `what` says what was being done.
[[noreturn]] void rethrow_as_store_error(const std::string& what);

}  // namespace cdphub::store

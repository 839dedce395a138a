#include "store/database.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <cstdio>
#include <ctime>
#include <exception>

#include "common/sha256.hpp"

namespace cdphub::store {

namespace {

// cdphub_payload_hash(text): sha256_prefix64 of the text, NULL for NULL. The activation state
// keeps this fingerprint of what a destination holds instead of the payload itself (the
// payload stays in the outbox row the state points at), which keeps that 1-row-per-member
// table small enough to stay in the page cache.
void payload_hash(sqlite3_context* ctx, int, sqlite3_value** argv) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto size = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
    try {
        sqlite3_result_int64(ctx, sha256_prefix64(std::string_view(text ? text : "", size)));
    } catch (const std::exception& e) {
        sqlite3_result_error(ctx, e.what(), -1);
    }
}

void register_store_functions(SQLite::Database& db) {
    const int rc = sqlite3_create_function_v2(db.getHandle(), "cdphub_payload_hash", 1,
                                              SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                              payload_hash, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw SQLite::Exception(db.getHandle(), rc);
}

StoreError::Kind kind_of(int sqlite_code) {
    switch (sqlite_code & 0xff) {  // primary code; the extended bits only refine it
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return StoreError::Kind::busy;
        case SQLITE_FULL:
            return StoreError::Kind::full;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
            return StoreError::Kind::io;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return StoreError::Kind::corrupt;
        case SQLITE_CONSTRAINT:
            return StoreError::Kind::constraint;
        default:
            return StoreError::Kind::internal;
    }
}

std::int64_t pragma_int(SQLite::Database& db, const char* pragma) {
    return db.execAndGet(pragma).getInt64();
}

// A file with tables but without our application id was made by something else; migrating it
// would scribble our tables into someone's database.
void check_is_store(SQLite::Database& db, const std::filesystem::path& path, int latest) {
    auto app_id = pragma_int(db, "PRAGMA application_id");
    if (app_id != 0 && app_id != kApplicationId)
        throw StoreError(StoreError::Kind::not_a_store,
                         path.string() +
                             " is a SQLite database of another application (application_id " +
                             std::to_string(app_id) + "), not a cdphub store");
    if (app_id == 0 && db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt64() > 0)
        throw StoreError(StoreError::Kind::not_a_store,
                         path.string() +
                             " already holds tables but is not a cdphub store; point the hub at a "
                             "new file or at one it created");
    int version = schema_version(db);
    if (version > latest)
        throw StoreError(StoreError::Kind::schema_too_new,
                         path.string() + " has store schema version " + std::to_string(version) +
                             ", but this cdphub knows versions up to " + std::to_string(latest) +
                             ": it was written by a newer cdphub. Run that version (or newer), or "
                             "point this one at another file; the file was not modified");
}

}  // namespace

void rethrow_as_store_error(const std::string& what) {
    try {
        throw;
    } catch (const StoreError&) {
        throw;
    } catch (const SQLite::Exception& e) {
        throw StoreError(kind_of(e.getErrorCode()), what + ": " + e.what());
    } catch (const std::exception& e) {
        throw StoreError(StoreError::Kind::internal, what + ": " + e.what());
    }
}

int schema_version(SQLite::Database& db) {
    return static_cast<int>(pragma_int(db, "PRAGMA user_version"));
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    // Floor toward negative infinity so times before 1970 still get a 0..999 fraction.
    auto secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    auto frac = static_cast<int>(ms - secs * 1000);
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[96];  // roomy enough that -Wformat-truncation can prove it fits
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

int migrate(SQLite::Database& db, std::span<const Migration> migrations) {
    for (std::size_t i = 0; i < migrations.size(); ++i)
        if (migrations[i].version != static_cast<int>(i) + 1)
            throw StoreError(StoreError::Kind::internal,
                             "store migrations must be numbered 1, 2, 3, ... without gaps");
    const int latest = static_cast<int>(migrations.size());
    int current = 0;
    try {
        current = schema_version(db);
    } catch (...) {
        rethrow_as_store_error("reading the store's schema version");
    }
    if (current > latest)
        throw StoreError(StoreError::Kind::schema_too_new,
                         "the store has schema version " + std::to_string(current) +
                             ", but this cdphub knows versions up to " + std::to_string(latest) +
                             ": it was written by a newer cdphub");

    for (const auto& m : migrations) {
        if (m.version <= current) continue;
        try {
            // IMMEDIATE takes the write lock up front, so two hubs opening the same new file do
            // not both run a migration; the loser re-reads the version below and skips.
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            current = schema_version(db);
            if (current >= m.version) continue;  // tx rolls back an empty transaction
            // Bookkeeping the runner owns, so that every migration list (the tests' too) gets it.
            db.exec(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL)");
            if (m.version == 1)
                db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
            m.apply(db);
            // A migration that rebuilds tables can leave dangling references that FK
            // enforcement does not catch retroactively; refuse to commit such a schema.
            SQLite::Statement fk(db, "PRAGMA foreign_key_check");
            if (fk.executeStep())
                throw StoreError(StoreError::Kind::migration, "foreign key check failed in table " +
                                                                  fk.getColumn(0).getString());
            // PRAGMA takes no bound parameters; the value is our own integer, not input.
            db.exec("PRAGMA user_version = " + std::to_string(m.version));
            SQLite::Statement log(
                db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
            log.bind(1, m.version);
            log.bind(2, std::string(m.name));
            log.bind(3, format_timestamp(std::chrono::system_clock::now()));
            log.exec();
            tx.commit();
            current = m.version;
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::busy) throw;
            throw StoreError(StoreError::Kind::migration,
                             "migrating the store to version " + std::to_string(m.version) + " (" +
                                 std::string(m.name) + ") failed: " + e.what() +
                                 "; the store stays at version " + std::to_string(current));
        } catch (const SQLite::Exception& e) {
            if (kind_of(e.getErrorCode()) == StoreError::Kind::busy)
                throw StoreError(StoreError::Kind::busy,
                                 std::string("migrating the store: ") + e.what());
            throw StoreError(StoreError::Kind::migration,
                             "migrating the store to version " + std::to_string(m.version) + " (" +
                                 std::string(m.name) + ") failed: " + e.what() +
                                 "; the store stays at version " + std::to_string(current));
        }
    }
    return current;
}

SQLite::Database open_database(const std::filesystem::path& path, const DatabaseOptions& options,
                               std::span<const Migration> migrations) {
    try {
        SQLite::Database db(path,
                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE |
                                (options.externally_locked ? SQLite::OPEN_NOMUTEX : 0),
                            static_cast<int>(options.busy_timeout.count()));
        // Before any pragma that writes (journal_mode rewrites the header): a file from a newer
        // hub or another application is refused untouched.
        check_is_store(db, path, static_cast<int>(migrations.size()));

        // WAL: readers (BI tools, sqlite3) never block the writer and see only committed data.
        auto mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal")
            throw StoreError(
                StoreError::Kind::io,
                "cannot put " + path.string() + " in WAL mode (journal_mode is " + mode +
                    "); the store needs a local file system that supports shared memory");
        // Per connection, and off by default in SQLite: without it REFERENCES is documentation.
        db.exec("PRAGMA foreign_keys = ON");
        if (pragma_int(db, "PRAGMA foreign_keys") != 1)
            throw StoreError(StoreError::Kind::internal,
                             "this SQLite build does not enforce foreign keys");
        db.exec(options.durability == Durability::full ? "PRAGMA synchronous = FULL"
                                                       : "PRAGMA synchronous = NORMAL");
        // The profile tables are read at random (identifier lookups, trait reads) while records
        // append; SQLite's 2 MiB default cache turns that into disk reads. 64 MiB keeps the
        // hot indexes in memory and stays well inside the hub's memory budget.
        db.exec("PRAGMA cache_size = -65536");
        // Temporary tables (segment evaluation, diffs) live in memory, not in a temp file.
        db.exec("PRAGMA temp_store = MEMORY");
        register_store_functions(db);  // before migrate: migrations may call them
        migrate(db, migrations);
        return db;
    } catch (...) {
        rethrow_as_store_error("opening the store " + path.string());
    }
}

}  // namespace cdphub::store

// Opening store files: pragmas, migrations on new and existing files, refusing files the hub
// must not touch.
#include <gtest/gtest.h>

#include <SQLiteCpp/Exception.h>

#include "store/database.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

using store::Migration;
using store::StoreError;

int latest() {
    return static_cast<int>(store::store_migrations().size());
}

TEST(StoreDatabase, NewFileGetsTheSchemaAndVersion) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    {
        auto db = store::open_database(path, {});
        EXPECT_GE(latest(), 1);
        EXPECT_EQ(store::schema_version(db), latest());
    }
    auto db = plain_connection(path, false);
    EXPECT_EQ(query_int(db, "PRAGMA user_version"), latest());
    EXPECT_EQ(query_int(db, "PRAGMA application_id"), store::kApplicationId);
    for (const char* table :
         {"records", "rejected_records", "cursors", "ingest_batches", "schema_migrations"}) {
        SQLite::Statement q(db, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?");
        q.bind(1, table);
        ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getInt(), 1) << table;
    }
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations"), latest());
    EXPECT_EQ(query_int(db, "SELECT max(version) FROM schema_migrations"), latest());
}

TEST(StoreDatabase, ConnectionPragmas) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    {
        auto db = store::open_database(path, {});
        EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
        EXPECT_EQ(query_int(db, "PRAGMA foreign_keys"), 1);
        EXPECT_EQ(query_int(db, "PRAGMA synchronous"), 2);  // FULL
        EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 5000);
    }
    {
        store::DatabaseOptions o;
        o.durability = store::Durability::normal;
        o.busy_timeout = std::chrono::milliseconds(250);
        auto db = store::open_database(path, o);
        EXPECT_EQ(query_int(db, "PRAGMA synchronous"), 1);  // NORMAL
        EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 250);
    }
    // WAL is a property of the file, so every reader sees it, not only the hub's connection.
    auto plain = plain_connection(path, false);
    EXPECT_EQ(plain.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(StoreDatabase, ForeignKeysAreEnforced) {
    TempDir dir;
    auto db = store::open_database(dir.path() / "hub.db", {});
    EXPECT_THROW(
        db.exec("INSERT INTO records (source, record_id, type, received_at, batch_id, body) "
                "VALUES ('s', 'r', 't', 'now', 12345, '{}')"),
        SQLite::Exception);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM records"), 0);
}

TEST(StoreDatabase, ReopeningAnExistingFileChangesNothing) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    {
        auto store = store::open_sqlite_store(path);
        store::Batch b{"crm", {accepted("r1")}, {rejected("junk")}, R"({"page":1})"};
        store->commit_batch(b);
    }
    auto before = dump_tables(path);
    {
        auto db = store::open_database(path, {});
        EXPECT_EQ(store::schema_version(db), latest());
    }
    auto store = store::open_sqlite_store(path);
    EXPECT_EQ(store->schema_version(), latest());
    EXPECT_EQ(dump_tables(path), before);
    EXPECT_EQ(store->cursor("crm"), R"({"page":1})");
}

TEST(StoreDatabase, UpgradesAnExistingFileAndKeepsItsData) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    std::vector<Migration> v1 = {
        {1, "one", [](SQLite::Database& db) { db.exec("CREATE TABLE t (a TEXT NOT NULL)"); }}};
    {
        auto db = store::open_database(path, {}, v1);
        db.exec("INSERT INTO t (a) VALUES ('kept')");
    }
    auto v2 = v1;
    v2.push_back({2, "two", [](SQLite::Database& db) {
                      db.exec("ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7");
                      db.exec("CREATE TABLE u (x INTEGER)");
                  }});
    auto db = store::open_database(path, {}, v2);
    EXPECT_EQ(store::schema_version(db), 2);
    EXPECT_EQ(db.execAndGet("SELECT a || ':' || b FROM t").getString(), "kept:7");
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM u"), 0);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations"), 2);
    EXPECT_EQ(db.execAndGet("SELECT name FROM schema_migrations WHERE version = 2").getString(),
              "two");
}

TEST(StoreDatabase, AFailedMigrationLeavesTheFileAtTheLastGoodVersion) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    std::vector<Migration> ms = {
        {1, "one", [](SQLite::Database& db) { db.exec("CREATE TABLE t (a TEXT)"); }},
        {2, "two", [](SQLite::Database& db) {
             db.exec("CREATE TABLE half_done (x INTEGER)");
             db.exec("THIS IS NOT SQL");
         }}};
    try {
        store::open_database(path, {}, ms);
        FAIL() << "expected the migration to fail";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::migration);
        EXPECT_NE(std::string(e.what()).find("version 2 (two)"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("stays at version 1"), std::string::npos) << e.what();
    }
    auto db = plain_connection(path, false);
    EXPECT_EQ(query_int(db, "PRAGMA user_version"), 1);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'"), 0);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM schema_migrations"), 1);
}

TEST(StoreDatabase, AFileFromANewerHubIsRefusedUntouched) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    {
        auto db = plain_connection(path);
        db.exec("PRAGMA application_id = " + std::to_string(store::kApplicationId));
        db.exec("CREATE TABLE from_the_future (x)");
        db.exec("PRAGMA user_version = 99");
    }
    try {
        store::open_database(path, {});
        FAIL() << "expected a newer file to be refused";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::schema_too_new);
        std::string m = e.what();
        EXPECT_NE(m.find("version 99"), std::string::npos) << m;
        EXPECT_NE(m.find("newer cdphub"), std::string::npos) << m;
        EXPECT_NE(m.find(path.string()), std::string::npos) << m;
    }
    EXPECT_THROW(store::open_sqlite_store(path), StoreError);
    auto db = plain_connection(path, false);
    EXPECT_EQ(query_int(db, "PRAGMA user_version"), 99);
    // Not even switched to WAL: the refusal happens before any write.
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "delete");
}

TEST(StoreDatabase, ADatabaseOfAnotherApplicationIsRefused) {
    TempDir dir;
    auto theirs = dir.path() / "theirs.db";
    {
        auto db = plain_connection(theirs);
        db.exec("CREATE TABLE customers (id INTEGER)");
    }
    try {
        store::open_database(theirs, {});
        FAIL() << "expected a foreign database to be refused";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::not_a_store) << e.what();
    }
    auto other_app = dir.path() / "other.db";
    {
        auto db = plain_connection(other_app);
        db.exec("PRAGMA application_id = 1234");
    }
    try {
        store::open_database(other_app, {});
        FAIL() << "expected another application's database to be refused";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::not_a_store) << e.what();
    }
    auto db = plain_connection(theirs, false);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'records'"), 0);
}

TEST(StoreDatabase, NotADatabaseIsReportedAsCorrupt) {
    TempDir dir;
    auto path = dir.write("hub.db", std::string(4096, 'x'));
    try {
        store::open_database(path, {});
        FAIL() << "expected garbage to be refused";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::corrupt) << e.what();
    }
}

TEST(StoreDatabase, MigrationsMustBeNumberedWithoutGaps) {
    TempDir dir;
    std::vector<Migration> ms = {{1, "one", [](SQLite::Database&) {}},
                                 {3, "three", [](SQLite::Database&) {}}};
    EXPECT_THROW(store::open_database(dir.path() / "hub.db", {}, ms), StoreError);
}

TEST(StoreDatabase, TimestampsAreIsoUtcWithMilliseconds) {
    using std::chrono::milliseconds;
    using tp = std::chrono::system_clock::time_point;
    EXPECT_EQ(store::format_timestamp(tp(milliseconds(0))), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(store::format_timestamp(tp(milliseconds(1714564800123))), "2024-05-01T12:00:00.123Z");
    EXPECT_EQ(store::format_timestamp(tp(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace cdphub::test

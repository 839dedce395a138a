// Helpers for the store tests: a pinned clock, a plain second connection (as a BI tool would
// open the file), a table dump to compare whole-file state, and batch builders.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "store/profile_store.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::test {

inline store::SqliteStoreOptions pinned_clock_options() {
    store::SqliteStoreOptions o;
    // 2024-05-01T12:00:00.123Z
    o.clock = [] {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(1714564800123));
    };
    return o;
}

// A connection that bypasses the hub, the way sqlite3 or a BI tool reads the file.
inline SQLite::Database plain_connection(const std::filesystem::path& p, bool writable = true) {
    return SQLite::Database(
        p, writable ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READONLY);
}

inline std::int64_t query_int(SQLite::Database& db, const std::string& sql) {
    return db.execAndGet(sql).getInt64();
}

// Every row of every table (schema_migrations included), in a stable order: two equal dumps
// mean the replay or failed commit in between changed nothing a reader could see.
inline std::string dump_tables(const std::filesystem::path& p) {
    auto db = plain_connection(p, false);
    std::string out;
    SQLite::Statement tables(db,
                             "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND "
                             "type = 'table' AND name != 'sqlite_schema' ORDER BY name");
    while (tables.executeStep()) {
        std::string name = tables.getColumn(0).getString();
        const bool without_rowid = tables.getColumn(1).getInt() != 0;
        out += "== " + name + "\n";
        // Identifiers from the file's own schema, quoted; no values are spliced in. A WITHOUT
        // ROWID table has no rowid and is read in primary key order.
        SQLite::Statement rows(
            db, "SELECT * FROM \"" + name + "\"" + (without_rowid ? "" : " ORDER BY rowid"));
        while (rows.executeStep()) {
            for (int i = 0; i < rows.getColumnCount(); ++i) {
                auto c = rows.getColumn(i);
                out += c.isNull() ? std::string("NULL") : "'" + c.getString() + "'";
                out += '|';
            }
            out += '\n';
        }
    }
    out += "user_version=" + std::to_string(query_int(db, "PRAGMA user_version")) + "\n";
    return out;
}

inline store::AcceptedRecord accepted(const std::string& id, const std::string& type = "track") {
    return store::AcceptedRecord{id, type, "2024-04-30T10:00:00.000Z",
                                 R"({"record_id":")" + id + R"(","type":")" + type + R"("})"};
}

inline store::RejectedRecord rejected(const std::string& raw, const std::string& code = "bad") {
    return store::RejectedRecord{std::nullopt, code, "it is bad: " + code, raw};
}

}  // namespace cdphub::test

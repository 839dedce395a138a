// The store's schema, as numbered migrations. Append only: once a migration has shipped, a file
// somewhere carries it, so it never changes; fixes go into a new migration. docs/store.md
// documents every table and column and must change with this file.
//
// Conventions (see docs/store.md for why): surrogate keys are `id INTEGER PRIMARY KEY`;
// timestamps are ISO-8601 UTC text with milliseconds; JSON is text checked with json_valid();
// no STRICT tables, so that sqlite3 and BI drivers older than SQLite 3.37 can still read the file.
#include <SQLiteCpp/Database.h>

#include "store/database.hpp"

namespace cdphub::store {

namespace {

void v1_ingest(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE ingest_batches (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,
    received_at      TEXT    NOT NULL,
    records_inserted INTEGER NOT NULL DEFAULT 0,
    records_duplicate INTEGER NOT NULL DEFAULT 0,
    records_rejected INTEGER NOT NULL DEFAULT 0,
    cursor           TEXT    CHECK (cursor IS NULL OR json_valid(cursor))
);
CREATE INDEX ingest_batches_by_source ON ingest_batches (source, id);

CREATE TABLE records (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    record_id   TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    occurred_at TEXT,
    received_at TEXT    NOT NULL,
    batch_id    INTEGER NOT NULL REFERENCES ingest_batches (id),
    body        TEXT    NOT NULL CHECK (json_valid(body)),
    UNIQUE (source, record_id)
);
-- Batch ids grow, so this index is appended to, not scattered; it also keeps the foreign-key
-- check cheap when an empty batch row is removed.
CREATE INDEX records_by_batch ON records (batch_id);

CREATE TABLE rejected_records (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    record_id   TEXT,
    reason_code TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    raw_sha256  TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    batch_id    INTEGER NOT NULL REFERENCES ingest_batches (id),
    UNIQUE (source, raw_sha256)
);
CREATE INDEX rejected_records_by_batch ON rejected_records (batch_id);

CREATE TABLE cursors (
    source     TEXT    PRIMARY KEY,
    cursor     TEXT    NOT NULL CHECK (json_valid(cursor)),
    updated_at TEXT    NOT NULL,
    batch_id   INTEGER NOT NULL REFERENCES ingest_batches (id)
);
CREATE INDEX cursors_by_batch ON cursors (batch_id);
)sql");
}

const Migration kMigrations[] = {
    {1, "ingest: records, rejected_records, cursors, ingest_batches", v1_ingest},
};

}  // namespace

std::span<const Migration> store_migrations() {
    return kMigrations;
}

}  // namespace cdphub::store

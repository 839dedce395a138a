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

// The unified profile: identity graph, traits with provenance, events, orders, consent, and the
// merge log that makes every merge explainable and reversible. docs/store.md, "schema version 2".
void v2_profiles(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE profiles (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    -- Set when this profile was merged into another: the row stays as a tombstone so that old
    -- ids (in logs, exports, destinations) can still be followed to the live profile.
    merged_into INTEGER REFERENCES profiles (id),
    merged_at   TEXT
);
CREATE INDEX profiles_by_merged_into ON profiles (merged_into);
-- Activation diffs look at profiles changed since the last diff, not at every member.
CREATE INDEX profiles_by_updated_at ON profiles (updated_at);

-- Which record went to which profile. profile_id follows merges; resolved_profile_id is the profile
-- the record first resolved to, which unmerge uses to give split-off profiles their old ids back.
ALTER TABLE records ADD COLUMN profile_id INTEGER REFERENCES profiles (id);
ALTER TABLE records ADD COLUMN resolved_profile_id INTEGER REFERENCES profiles (id);
-- What resolution did with the record's identifiers: linked, blocked, dropped (and why).
ALTER TABLE records ADD COLUMN resolution TEXT CHECK (resolution IS NULL OR json_valid(resolution));
CREATE INDEX records_by_profile ON records (profile_id, id);

CREATE TABLE profile_identifiers (
    type          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    profile_id    INTEGER NOT NULL REFERENCES profiles (id),
    hashed        INTEGER NOT NULL DEFAULT 0 CHECK (hashed = 0 OR hashed = 1),
    first_seen_at TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    record_id     INTEGER REFERENCES records (id),
    PRIMARY KEY (type, value)
);
CREATE INDEX profile_identifiers_by_profile ON profile_identifiers (profile_id, type);

-- The winning value of each trait, with where and when it was observed. `value` holds the native
-- SQL value (TEXT, INTEGER or REAL; booleans as 0/1; objects and arrays as JSON text) and `kind`
-- says which JSON type it was, so that "5", 5 and true never compare equal.
-- Checks use OR chains, not IN lists: SQLite builds a temporary b-tree for every row it checks
-- against an IN list of three or more values, which made trait writes several times slower.
CREATE TABLE profile_traits (
    profile_id  INTEGER NOT NULL REFERENCES profiles (id),
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind = 'string' OR kind = 'number' OR kind = 'boolean' OR kind = 'object' OR kind = 'array'),
    value,
    source      TEXT    NOT NULL,
    observed_at TEXT    NOT NULL,
    record_id   INTEGER REFERENCES records (id),
    PRIMARY KEY (profile_id, name)
);
CREATE INDEX profile_traits_by_value ON profile_traits (name, kind, value, profile_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    profile_id  INTEGER NOT NULL REFERENCES profiles (id),
    record_id   INTEGER NOT NULL UNIQUE REFERENCES records (id),
    source      TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    occurred_at TEXT    NOT NULL,
    properties  TEXT    NOT NULL CHECK (json_valid(properties))
);
CREATE INDEX events_by_profile ON events (profile_id, event, occurred_at);
CREATE INDEX events_by_name ON events (event, occurred_at, profile_id);

-- One row per order (source + order_id); a later record of the same order (refund, status
-- change) updates it. occurred_at is when the order was placed (its earliest record).
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    profile_id     INTEGER NOT NULL REFERENCES profiles (id),
    source         TEXT    NOT NULL,
    order_id       TEXT    NOT NULL,
    record_id      INTEGER NOT NULL REFERENCES records (id),
    occurred_at    TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    total_minor    INTEGER NOT NULL,
    tax_minor      INTEGER,
    discount_minor INTEGER,
    status         TEXT,
    lines          TEXT    NOT NULL CHECK (json_valid(lines)),
    UNIQUE (source, order_id)
);
CREATE INDEX orders_by_profile ON orders (profile_id, occurred_at);
CREATE INDEX orders_by_time ON orders (occurred_at, profile_id);

-- The current consent per purpose: the most recent decision wins.
CREATE TABLE consents (
    profile_id    INTEGER NOT NULL REFERENCES profiles (id),
    purpose       TEXT    NOT NULL,
    granted       INTEGER NOT NULL CHECK (granted = 0 OR granted = 1),
    source        TEXT    NOT NULL,
    collected_via TEXT,
    occurred_at   TEXT    NOT NULL,
    record_id     INTEGER REFERENCES records (id),
    PRIMARY KEY (profile_id, purpose)
);
CREATE INDEX consents_by_purpose ON consents (purpose, granted, profile_id);

CREATE TABLE merge_log (
    id                        INTEGER PRIMARY KEY,
    merged_at                 TEXT    NOT NULL,
    survivor_id               INTEGER NOT NULL REFERENCES profiles (id),
    absorbed_id               INTEGER NOT NULL REFERENCES profiles (id),
    -- The triggering record matched the survivor by one identifier and the absorbed profile by
    -- another: together they are the link an unmerge cuts.
    survivor_identifier_type  TEXT    NOT NULL,
    survivor_identifier_value TEXT    NOT NULL,
    absorbed_identifier_type  TEXT    NOT NULL,
    absorbed_identifier_value TEXT    NOT NULL,
    record_id                 INTEGER REFERENCES records (id),
    undone_by                 INTEGER REFERENCES unmerges (id)
);
CREATE INDEX merge_log_by_survivor ON merge_log (survivor_id);
CREATE INDEX merge_log_by_absorbed ON merge_log (absorbed_id);

CREATE TABLE unmerges (
    id           INTEGER PRIMARY KEY,
    unmerged_at  TEXT    NOT NULL,
    merge_id     INTEGER NOT NULL REFERENCES merge_log (id),
    reason       TEXT,
    -- The profiles the affected records resolved to afterwards, as a JSON array of ids.
    profiles     TEXT    NOT NULL CHECK (json_valid(profiles))
);

-- Pairs of identifiers that must never end up in one profile (written by unmerge). Resolution
-- treats a pair like a broken limit: the incoming record's lowest-priority identifier is dropped.
CREATE TABLE identity_separations (
    id          INTEGER PRIMARY KEY,
    type_a      TEXT    NOT NULL,
    value_a     TEXT    NOT NULL,
    type_b      TEXT    NOT NULL,
    value_b     TEXT    NOT NULL,
    unmerge_id  INTEGER REFERENCES unmerges (id),
    created_at  TEXT    NOT NULL,
    UNIQUE (type_a, value_a, type_b, value_b)
);
CREATE INDEX identity_separations_by_b ON identity_separations (type_b, value_b);

-- Computed traits (manifests/traits), materialized for readers; segments compute them live.
CREATE TABLE computed_traits (
    profile_id  INTEGER NOT NULL REFERENCES profiles (id),
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind = 'string' OR kind = 'number' OR kind = 'boolean' OR kind = 'object' OR kind = 'array'),
    value,
    computed_at TEXT    NOT NULL,
    PRIMARY KEY (profile_id, name)
);
)sql");
}

// Segments and their memberships (history kept: a row per stay in a segment).
void v3_segments(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE segments (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    expression   TEXT    NOT NULL,
    ast          TEXT    NOT NULL CHECK (json_valid(ast)),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    evaluated_at TEXT
);

CREATE TABLE segment_memberships (
    id         INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments (id),
    profile_id INTEGER NOT NULL REFERENCES profiles (id),
    entered_at TEXT    NOT NULL,
    exited_at  TEXT
);
CREATE UNIQUE INDEX segment_memberships_current ON segment_memberships (segment_id, profile_id)
    WHERE exited_at IS NULL;
CREATE INDEX segment_memberships_by_profile ON segment_memberships (profile_id);
CREATE INDEX segment_memberships_by_entered ON segment_memberships (segment_id, entered_at);
CREATE INDEX segment_memberships_by_exited ON segment_memberships (segment_id, exited_at);
)sql");
}

// Activation: bindings of segment x destination, what each destination was last told, and the
// durable outbox of changes (diffs) waiting for delivery.
void v4_activation(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE activation_bindings (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    segment_id  INTEGER NOT NULL REFERENCES segments (id),
    destination TEXT    NOT NULL,
    -- [{"field": destination field, "operand": "identifiers.email" | "traits.x" | ...}, ...]
    mapping     TEXT    NOT NULL CHECK (json_valid(mapping)),
    -- Consent purpose a profile must have granted to be sent; NULL: no consent check.
    purpose     TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    -- When the last diff was planned: the next one looks only at what changed since.
    planned_at  TEXT
);

-- Per binding and profile: the payload the destination holds once every planned change is
-- delivered. A diff compares the segment's current members and mapped fields with this.
CREATE TABLE activation_state (
    binding_id INTEGER NOT NULL REFERENCES activation_bindings (id),
    profile_id INTEGER NOT NULL REFERENCES profiles (id),
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    planned_at TEXT    NOT NULL,
    PRIMARY KEY (binding_id, profile_id)
);

CREATE TABLE activation_diffs (
    id          INTEGER PRIMARY KEY,
    binding_id  INTEGER NOT NULL REFERENCES activation_bindings (id),
    created_at  TEXT    NOT NULL,
    backfill    INTEGER NOT NULL CHECK (backfill = 0 OR backfill = 1),
    entered     INTEGER NOT NULL,
    exited      INTEGER NOT NULL,
    changed     INTEGER NOT NULL
);
CREATE INDEX activation_diffs_by_binding ON activation_diffs (binding_id, id);

-- The outbox: one row per change to deliver. Delivery marks rows; it never deletes undelivered
-- ones, so a crash between planning and delivering repeats delivery but loses nothing.
CREATE TABLE activation_changes (
    id           INTEGER PRIMARY KEY,
    diff_id      INTEGER NOT NULL REFERENCES activation_diffs (id),
    binding_id   INTEGER NOT NULL REFERENCES activation_bindings (id),
    profile_id   INTEGER NOT NULL REFERENCES profiles (id),
    op           TEXT    NOT NULL CHECK (op = 'enter' OR op = 'exit' OR op = 'update'),
    payload      TEXT    NOT NULL CHECK (json_valid(payload)),
    status       TEXT    NOT NULL DEFAULT 'pending'
                         CHECK (status = 'pending' OR status = 'delivered' OR status = 'rejected' OR status = 'dead'),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_at TEXT
);
CREATE INDEX activation_changes_pending ON activation_changes (binding_id, status, id);
)sql");
}

// Delivery (core/delivery): when each outbox row may be tried again, per-destination worker state
// (circuit breaker, auth failures, counters) for `cdphub activations`, and an index that finds a
// profile's earliest pending change (a profile's changes are delivered strictly in order).
void v5_delivery(SQLite::Database& db) {
    db.exec(R"sql(
-- NULL: at once. Set after a per-record retryable failure (jittered exponential backoff).
ALTER TABLE activation_changes ADD COLUMN next_attempt_at TEXT;
CREATE INDEX activation_changes_pending_by_profile ON activation_changes (binding_id, profile_id, id)
    WHERE status = 'pending';

CREATE TABLE delivery_destinations (
    destination     TEXT    PRIMARY KEY,
    -- running | paused (circuit breaker open until paused_until) | auth_failed | config_failed
    state           TEXT    NOT NULL DEFAULT 'running'
                            CHECK (state IN ('running', 'paused', 'auth_failed', 'config_failed')),
    paused_until    TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,  -- consecutive failed batches (outages)
    sent            INTEGER NOT NULL DEFAULT 0,  -- changes delivered, all time
    failed          INTEGER NOT NULL DEFAULT 0,  -- changes rejected or dead-lettered, all time
    last_sync_at    TEXT,
    last_success_at TEXT,
    last_error      TEXT
);
)sql");
}

// Operations (core/store/sqlite_operations.hpp): one row per source sync run, for the admin API and
// `cdphub connectors`; and replay marks on rejected records, so a rejection that a later replay
// stored stays on record (what was wrong, when it was fixed) without being replayed twice.
void v6_operations(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,
    trigger          TEXT    NOT NULL,  -- daemon (scheduled or asked by the admin API) | cli
    started_at       TEXT    NOT NULL,
    finished_at      TEXT    NOT NULL,
    status           TEXT    NOT NULL,  -- ok | retryable | rate_limited | auth_error | ...
    message          TEXT,
    batches          INTEGER NOT NULL DEFAULT 0,
    inserted         INTEGER NOT NULL DEFAULT 0,
    duplicates       INTEGER NOT NULL DEFAULT 0,
    rejected         INTEGER NOT NULL DEFAULT 0,
    changed_profiles INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sync_runs_by_source ON sync_runs (source, id);

ALTER TABLE rejected_records ADD COLUMN replayed_at TEXT;
-- accepted (now stored) | duplicate (an equal record was stored meanwhile)
ALTER TABLE rejected_records ADD COLUMN replay_outcome TEXT;
)sql");
}

// Activation state, narrow: a diff over a large segment read and rewrote rows spread over the
// whole state table, and with the payload text in every row (1M members: ~100 MB) that table did
// not fit the page cache, so each diff paid for reading and writing most of it (1.6 s at 1M
// members, 1% churn). The state now keeps a 64-bit fingerprint of the payload for comparisons
// and the id of the outbox row (an enter or update) that carries the payload itself, which an
// exit repeats. activation_state.planned_at was never read and is gone.
void v7_narrow_activation_state(SQLite::Database& db) {
    db.exec(R"sql(
CREATE TABLE activation_state_v7 (
    binding_id   INTEGER NOT NULL REFERENCES activation_bindings (id),
    profile_id   INTEGER NOT NULL REFERENCES profiles (id),
    -- cdphub_payload_hash(payload): the first 64 bits of the SHA-256 of the payload's JSON text.
    payload_hash INTEGER NOT NULL,
    -- The enter or update change whose payload the destination holds once delivery is done.
    -- Not a REFERENCES: SQLite would then scan this table for every outbox row deleted (there
    -- is no index on change_id, and keeping one would cost each diff as much as it saves).
    -- The outbox is append-only; anything that ever prunes it must keep these rows.
    change_id    INTEGER NOT NULL,
    PRIMARY KEY (binding_id, profile_id)
) WITHOUT ROWID;

-- Only for this migration: finds each state row's change.
CREATE INDEX activation_changes_v7 ON activation_changes (binding_id, profile_id, id);

-- Every state row was written together with an enter or update change of the same payload. A
-- row whose change is gone (deleted by hand) gets one back, marked delivered in a diff of its
-- own, so that its exit can still carry the payload.
CREATE TEMP TABLE v7_orphans AS
    SELECT s.binding_id, s.profile_id, s.payload, s.planned_at FROM activation_state s
    WHERE NOT EXISTS (SELECT 1 FROM activation_changes c WHERE c.binding_id = s.binding_id
                      AND c.profile_id = s.profile_id AND (c.op = 'enter' OR c.op = 'update')
                      AND c.payload = s.payload);
INSERT INTO activation_diffs (binding_id, created_at, backfill, entered, exited, changed)
    SELECT DISTINCT binding_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0, 0, 0, 0
    FROM v7_orphans;
INSERT INTO activation_changes (diff_id, binding_id, profile_id, op, payload, status,
                                delivered_at)
    SELECT (SELECT max(d.id) FROM activation_diffs d WHERE d.binding_id = o.binding_id),
           o.binding_id, o.profile_id, 'update', o.payload, 'delivered', o.planned_at
    FROM v7_orphans o;
DROP TABLE v7_orphans;

INSERT INTO activation_state_v7 (binding_id, profile_id, payload_hash, change_id)
    SELECT s.binding_id, s.profile_id, cdphub_payload_hash(s.payload),
           (SELECT max(c.id) FROM activation_changes c WHERE c.binding_id = s.binding_id
            AND c.profile_id = s.profile_id AND (c.op = 'enter' OR c.op = 'update')
            AND c.payload = s.payload)
    FROM activation_state s;
DROP INDEX activation_changes_v7;
DROP TABLE activation_state;
ALTER TABLE activation_state_v7 RENAME TO activation_state;
)sql");
}

const Migration kMigrations[] = {
    {1, "ingest: records, rejected_records, cursors, ingest_batches", v1_ingest},
    {2, "profiles: identity graph, traits, events, orders, consents, merge log", v2_profiles},
    {3, "segments and memberships", v3_segments},
    {4, "activation: bindings, state and the outbox of changes", v4_activation},
    {5, "delivery: retry times, destination worker state", v5_delivery},
    {6, "operations: sync run history, rejected-record replay marks", v6_operations},
    {7, "activation state: payload fingerprint and the outbox row holding the payload",
     v7_narrow_activation_state},
};

}  // namespace

std::span<const Migration> store_migrations() {
    return kMigrations;
}

}  // namespace cdphub::store

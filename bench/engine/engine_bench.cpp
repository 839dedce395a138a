// Profile engine benchmarks on a synthetic store of N profiles (default 1,000,000):
//   SegmentFull   full evaluation of a 3-condition segment (compiled SQL + membership update)
//   PlainSql      the same selection written by hand in SQL, run on the same file: the baseline
//   Diff          an activation diff over the segment's members after 1% churn
//   PlainSqlDiff  the same changes found by hand-written SQL over the whole segment: its baseline
// Run: build/default/bin/cdphub-engine-bench [--profiles=N] [--keep-store] (Google Benchmark flags
// work too).
// The store file is built once per run in $TMPDIR; see docs/benchmarks.md for figures.
#include <benchmark/benchmark.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "pipeline/segments.hpp"
#include "segment/parser.hpp"
#include "store/database.hpp"
#include "store/sqlite_store.hpp"

namespace {

using namespace cdphub;

std::int64_t g_profiles = 1'000'000;
// --keep-store: reuse the store file of an earlier run with --keep-store and leave it behind, so
// that its queries can be looked at in the sqlite3 shell (the benchmarks change its data).
bool g_keep_store = false;
const char* kNow = "2026-11-01T00:00:00.000Z";
const char* kExpression =
    "traits.country == \"DE\" and count(orders within 90d) >= 1 and consent.email == true";

std::filesystem::path store_path() {
    return std::filesystem::temp_directory_path() /
           ("cdphub-engine-bench-" + std::to_string(g_profiles) + ".db");
}

// Profiles with a country trait, an email, consent for most, and orders for some; built with
// plain SQL in one transaction (this is setup, not what is measured).
void build_store() {
    auto path = store_path();
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
    { auto db = store::open_database(path, {}); }
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA synchronous = OFF");
    SQLite::Transaction tx(db);
    db.exec("INSERT INTO ingest_batches (id, source, received_at) VALUES (1, 'bench', '" +
            std::string(kNow) + "')");
    SQLite::Statement rec(db,
                          "INSERT INTO records (id, source, record_id, type, received_at, "
                          "batch_id, body) VALUES (?1, 'bench', ?1, 'identify', ?2, 1, '{}')");
    SQLite::Statement prof(db,
                           "INSERT INTO profiles (id, created_at, updated_at) VALUES (?, ?, ?)");
    SQLite::Statement ident(
        db,
        "INSERT INTO profile_identifiers (type, value, profile_id, "
        "first_seen_at, source, record_id) VALUES ('email', ?, ?, ?, 'bench', ?)");
    SQLite::Statement trait(db,
                            "INSERT INTO profile_traits (profile_id, name, kind, value, source, "
                            "observed_at, record_id) VALUES (?, 'country', 'string', ?, 'bench', "
                            "?, ?)");
    SQLite::Statement consent(db,
                              "INSERT INTO consents (profile_id, purpose, granted, source, "
                              "occurred_at, record_id) VALUES (?, 'email', ?, 'bench', ?, ?)");
    SQLite::Statement order(db,
                            "INSERT INTO orders (profile_id, source, order_id, record_id, "
                            "occurred_at, updated_at, currency, total_minor, lines) VALUES (?, "
                            "'bench', ?, ?, ?, ?, 'EUR', ?, '[]')");
    const char* countries[] = {"DE", "DE", "FR", "US", "GB"};
    std::mt19937_64 rng(42);
    auto step = [](SQLite::Statement& s) {
        s.exec();
        s.reset();
    };
    for (std::int64_t id = 1; id <= g_profiles; ++id) {
        rec.bind(1, id);
        rec.bind(2, kNow);
        step(rec);
        prof.bind(1, id);
        prof.bind(2, kNow);
        prof.bind(3, kNow);
        step(prof);
        ident.bind(1, "p" + std::to_string(id) + "@bench.io");
        ident.bind(2, id);
        ident.bind(3, kNow);
        ident.bind(4, id);
        step(ident);
        trait.bind(1, id);
        trait.bind(2, countries[rng() % 5]);
        trait.bind(3, kNow);
        trait.bind(4, id);
        step(trait);
        consent.bind(1, id);
        consent.bind(2, rng() % 10 < 8 ? 1 : 0);
        consent.bind(3, kNow);
        consent.bind(4, id);
        step(consent);
        if (rng() % 2 == 0) {
            // Within the last 90 days or a year ago.
            bool recent = rng() % 2 == 0;
            order.bind(1, id);
            order.bind(2, "o" + std::to_string(id));
            order.bind(3, id);
            order.bind(4, recent ? "2026-10-01T00:00:00.000Z" : "2025-11-01T00:00:00.000Z");
            order.bind(5, kNow);
            order.bind(6, static_cast<std::int64_t>(rng() % 10000));
            step(order);
        }
    }
    tx.commit();
}

struct Fixture {
    std::unique_ptr<store::SqliteProfileStore> store;
    std::unique_ptr<pipeline::SegmentEngine> engine;
};

Fixture& fixture() {
    static Fixture f = [] {
        if (!g_keep_store || !std::filesystem::exists(store_path())) build_store();
        Fixture f;
        f.store = store::open_sqlite_store(store_path());
        auto parsed = segment::parse_segment(kExpression);
        if (!parsed.ok()) std::abort();
        std::vector<pipeline::SegmentDefinition> defs;
        defs.push_back({"bench", kExpression, std::move(*parsed.value)});
        f.engine = std::make_unique<pipeline::SegmentEngine>(*f.store, segment::ComputedTraits{},
                                                             std::move(defs));
        f.engine->sync_definitions();
        f.store->define_segment({"all", "true", nlohmann::json::object()});
        return f;
    }();
    return f;
}

void SegmentFull(benchmark::State& state) {
    auto& f = fixture();
    std::int64_t members = 0;
    for (auto _ : state) {
        // Each iteration evaluates from scratch: the membership is cleared first (not timed).
        state.PauseTiming();
        f.store->with_connection([](SQLite::Database& db, const std::string&) {
            db.exec("DELETE FROM segment_memberships");
        });
        state.ResumeTiming();
        members = f.engine->evaluate("bench", kNow).members.value_or(-1);
    }
    state.counters["members"] = static_cast<double>(members);
    state.counters["profiles"] = static_cast<double>(g_profiles);
}

void PlainSql(benchmark::State& state) {
    fixture();
    SQLite::Database db(store_path(), SQLite::OPEN_READONLY);
    const char* sql =
        "SELECT count(*) FROM profiles p WHERE p.merged_into IS NULL "
        "AND EXISTS (SELECT 1 FROM profile_traits t WHERE t.profile_id = p.id AND t.name = "
        "'country' AND t.kind = 'string' AND t.value = 'DE') "
        "AND EXISTS (SELECT 1 FROM orders o WHERE o.profile_id = p.id AND o.occurred_at >= "
        "'2026-08-03T00:00:00.000Z') "
        "AND EXISTS (SELECT 1 FROM consents c WHERE c.profile_id = p.id AND c.purpose = 'email' "
        "AND c.granted = 1)";
    std::int64_t n = 0;
    for (auto _ : state) n = db.execAndGet(sql).getInt64();
    state.counters["members"] = static_cast<double>(n);
}

// Every profile becomes a current member of the segment "all" again.
void reset_all_members(SQLite::Database& db, const std::string& now) {
    db.exec(
        "DELETE FROM segment_memberships WHERE segment_id = (SELECT id FROM segments WHERE "
        "name = 'all')");
    SQLite::Statement fill(db,
                           "INSERT INTO segment_memberships (segment_id, profile_id, entered_at) "
                           "SELECT (SELECT id FROM segments WHERE name = 'all'), id, ? FROM "
                           "profiles");
    fill.bind(1, now);
    fill.exec();
}

// One round of 1% churn in "all": the members whose id % 100 is slice + round leave, the last
// round's leavers come back (a new membership row, as evaluation writes it), and the profiles
// whose id % 100 is 3 change their country, a mapped trait.
void apply_churn(SQLite::Database& db, const std::string& now, int round, int slice) {
    SQLite::Statement out(db,
                          "UPDATE segment_memberships SET exited_at = ?1 WHERE exited_at IS NULL "
                          "AND profile_id % 100 = ?2 AND segment_id = (SELECT id FROM segments "
                          "WHERE name = 'all')");
    out.bind(1, now);
    out.bind(2, slice + round);
    out.exec();
    if (round > 1) {
        SQLite::Statement back(db,
                               "INSERT INTO segment_memberships (segment_id, profile_id, "
                               "entered_at) SELECT (SELECT id FROM segments WHERE name = 'all'), "
                               "id, ?1 FROM profiles WHERE id % 100 = ?2");
        back.bind(1, now);
        back.bind(2, slice + round - 1);
        back.exec();
    }
    SQLite::Statement chg(db,
                          "UPDATE profile_traits SET value = ?1 WHERE name = 'country' AND "
                          "profile_id % 100 = 3");
    chg.bind(1, "X" + std::to_string(slice + round));
    chg.exec();
    SQLite::Statement touch(db, "UPDATE profiles SET updated_at = ?1 WHERE id % 100 = 3");
    touch.bind(1, now);
    touch.exec();
}

// A segment of every profile, delivered once; then 1% of the profiles leave, 1% change a mapped
// trait; the diff is what is timed.
void Diff(benchmark::State& state) {
    auto& f = fixture();
    f.store->with_connection([](SQLite::Database& db, const std::string& now) {
        db.exec(
            "DELETE FROM activation_state; DELETE FROM activation_changes; DELETE FROM "
            "activation_diffs; DELETE FROM activation_bindings");
        reset_all_members(db, now);
    });
    f.store->define_binding({"bench",
                             "all",
                             "dest",
                             {{"email", "identifiers.email"}, {"country", "traits.country"}},
                             std::nullopt});
    f.store->plan_diff("bench");  // the backfill, not timed
    f.store->with_connection([](SQLite::Database& db, const std::string&) {
        db.exec("UPDATE activation_changes SET status = 'delivered'");
    });
    std::int64_t churn = g_profiles / 100;
    int round = 0;
    for (auto _ : state) {
        state.PauseTiming();
        ++round;
        f.store->with_connection(
            [&](SQLite::Database& db, const std::string& now) { apply_churn(db, now, round, 10); });
        state.ResumeTiming();
        auto d = f.store->plan_diff("bench");
        benchmark::DoNotOptimize(d);
        state.counters["entered"] = static_cast<double>(d.entered);
        state.counters["exited"] = static_cast<double>(d.exited);
        state.counters["changed"] = static_cast<double>(d.changed);
    }
    state.counters["churn_target"] = static_cast<double>(churn);
}

// The baseline for Diff: the same changes found with plain SQL the way one writes it by hand,
// comparing the whole segment's current payloads with a table of what was sent, on the same
// file and connection, after the same kind of churn (other slices of profiles).
void PlainSqlDiff(benchmark::State& state) {
    auto& f = fixture();
    const char* target =
        "CREATE TEMP TABLE plain_target AS SELECT m.profile_id, json_object('email', (SELECT "
        "i.value FROM profile_identifiers i WHERE i.profile_id = m.profile_id AND i.type = "
        "'email'), 'country', (SELECT t.value FROM profile_traits t WHERE t.profile_id = "
        "m.profile_id AND t.name = 'country')) AS payload FROM segment_memberships m WHERE "
        "m.segment_id = (SELECT id FROM segments WHERE name = 'all') AND m.exited_at IS NULL";
    f.store->with_connection([&](SQLite::Database& db, const std::string& now) {
        reset_all_members(db, now);
        db.exec(
            "DROP TABLE IF EXISTS plain_sent; DROP TABLE IF EXISTS plain_changes; DROP TABLE IF "
            "EXISTS temp.plain_target");
        db.exec(target);
        db.exec(
            "CREATE TABLE plain_sent (profile_id INTEGER PRIMARY KEY, payload TEXT NOT NULL); "
            "INSERT INTO plain_sent SELECT profile_id, payload FROM plain_target; "
            "CREATE TABLE plain_changes (profile_id INTEGER, op TEXT, payload TEXT)");
    });
    int round = 0;
    std::int64_t changes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        ++round;
        f.store->with_connection([&](SQLite::Database& db, const std::string& now) {
            db.exec("DROP TABLE temp.plain_target; DELETE FROM plain_changes");
            apply_churn(db, now, round, 50);
        });
        state.ResumeTiming();
        f.store->with_connection([&](SQLite::Database& db, const std::string&) {
            // with_connection's transaction, committed when this returns: like Diff's.
            db.exec(target);
            db.exec(R"sql(
INSERT INTO plain_changes SELECT s.profile_id, 'exit', s.payload FROM plain_sent s
    WHERE s.profile_id NOT IN (SELECT profile_id FROM plain_target);
INSERT INTO plain_changes SELECT t.profile_id, 'update', t.payload FROM plain_target t
    JOIN plain_sent s ON s.profile_id = t.profile_id WHERE t.payload IS NOT s.payload;
INSERT INTO plain_changes SELECT t.profile_id, 'enter', t.payload FROM plain_target t
    WHERE t.profile_id NOT IN (SELECT profile_id FROM plain_sent);
DELETE FROM plain_sent WHERE profile_id IN
    (SELECT profile_id FROM plain_changes WHERE op = 'exit');
INSERT OR REPLACE INTO plain_sent SELECT profile_id, payload FROM plain_changes
    WHERE op = 'update' OR op = 'enter';
)sql");
            changes = db.execAndGet("SELECT count(*) FROM plain_changes").getInt64();
        });
    }
    f.store->with_connection([](SQLite::Database& db, const std::string&) {
        db.exec("DROP TABLE plain_sent; DROP TABLE plain_changes; DROP TABLE temp.plain_target");
    });
    state.counters["changes"] = static_cast<double>(changes);
}

BENCHMARK(SegmentFull)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(PlainSql)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(Diff)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(PlainSqlDiff)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], "--profiles=", 11) == 0)
            g_profiles = std::atoll(argv[i] + 11);
        else if (std::strcmp(argv[i], "--keep-store") == 0)
            g_keep_store = true;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (g_keep_store) return 0;
    std::filesystem::remove(store_path());
    std::filesystem::remove(store_path().string() + "-wal");
    std::filesystem::remove(store_path().string() + "-shm");
    return 0;
}

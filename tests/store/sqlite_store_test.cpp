// The SQLite ProfileStore: atomic batches, idempotent replays, rejections, cursors.
#include <gtest/gtest.h>

#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

using store::Batch;
using store::StoreError;

class SqliteStoreTest : public ::testing::Test {
  protected:
    std::filesystem::path path() const { return dir_.path() / "hub.db"; }
    store::ProfileStore& store() {
        if (!store_) store_ = store::open_sqlite_store(path(), pinned_clock_options());
        return *store_;
    }
    // Adds a trigger from a second connection that makes the given insert fail, the way a full
    // disk or a constraint would, but at a chosen row.
    void poison(const std::string& trigger_sql) {
        store();  // the schema must exist first
        auto db = plain_connection(path());
        db.exec(trigger_sql);
    }

    TempDir dir_;
    std::unique_ptr<store::ProfileStore> store_;
};

TEST_F(SqliteStoreTest, CommitStoresRecordsRejectionsAndCursor) {
    Batch b{"crm",
            {accepted("r1", "identify"), accepted("r2"), accepted("r3")},
            {store::RejectedRecord{"r4", "missing_type", "no type", R"({"record_id":"r4"})"}},
            R"({"page":2})"};
    auto res = store().commit_batch(b);
    EXPECT_EQ(res.inserted, 3u);
    EXPECT_EQ(res.duplicates, 0u);
    EXPECT_EQ(res.rejected, 1u);
    EXPECT_TRUE(res.cursor_changed);
    ASSERT_TRUE(res.batch_id);

    auto counts = store().counts();
    EXPECT_EQ(counts.records, 3);
    EXPECT_EQ(counts.rejected_records, 1);
    EXPECT_EQ(counts.ingest_batches, 1);
    EXPECT_EQ(store().counts("crm").records, 3);
    EXPECT_EQ(store().counts("pos").records, 0);

    auto r1 = store().find_record("crm", "r1");
    ASSERT_TRUE(r1);
    EXPECT_EQ(r1->type, "identify");
    EXPECT_EQ(r1->occurred_at, "2024-04-30T10:00:00.000Z");
    EXPECT_EQ(r1->received_at, "2024-05-01T12:00:00.123Z");
    EXPECT_EQ(r1->body, R"({"record_id":"r1","type":"identify"})");
    EXPECT_FALSE(store().find_record("pos", "r1"));
    EXPECT_EQ(store().cursor("crm"), R"({"page":2})");

    // The documented schema, read the way a BI tool would.
    auto db = plain_connection(path(), false);
    SQLite::Statement q(db,
                        "SELECT b.records_inserted, b.records_duplicate, b.records_rejected, "
                        "b.cursor, b.source, c.batch_id = b.id, "
                        "json_extract(r.body, '$.type') FROM ingest_batches b "
                        "JOIN cursors c ON c.source = b.source "
                        "JOIN records r ON r.batch_id = b.id AND r.record_id = 'r2'");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getInt(), 3);
    EXPECT_EQ(q.getColumn(1).getInt(), 0);
    EXPECT_EQ(q.getColumn(2).getInt(), 1);
    EXPECT_EQ(q.getColumn(3).getString(), R"({"page":2})");
    EXPECT_EQ(q.getColumn(4).getString(), "crm");
    EXPECT_EQ(q.getColumn(5).getInt(), 1);
    EXPECT_EQ(q.getColumn(6).getString(), "track");
}

TEST_F(SqliteStoreTest, RejectedRecordsKeepReasonAndRawText) {
    Batch b{"esp",
            {},
            {store::RejectedRecord{std::nullopt, "not_json", "the body is not JSON", "{oops"},
             store::RejectedRecord{"x9", "missing_type", "no type", R"({"record_id":"x9"})"}},
            std::nullopt};
    store().commit_batch(b);
    auto rows = store().list_rejected(std::nullopt, 0, 10);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].source, "esp");
    EXPECT_FALSE(rows[0].record_id);
    EXPECT_EQ(rows[0].reason_code, "not_json");
    EXPECT_EQ(rows[0].reason, "the body is not JSON");
    EXPECT_EQ(rows[0].raw, "{oops");
    EXPECT_EQ(rows[0].received_at, "2024-05-01T12:00:00.123Z");
    EXPECT_EQ(rows[1].record_id, "x9");
    EXPECT_EQ(rows[1].raw, R"({"record_id":"x9"})");
    EXPECT_FALSE(store().cursor("esp"));  // no cursor given, none stored
}

TEST_F(SqliteStoreTest, ListRejectedPagesAndFiltersBySource) {
    for (int i = 0; i < 5; ++i)
        store().commit_batch(
            Batch{i % 2 ? "a" : "b", {}, {rejected("raw" + std::to_string(i))}, {}});
    auto p1 = store().list_rejected(std::nullopt, 0, 2);
    ASSERT_EQ(p1.size(), 2u);
    auto p2 = store().list_rejected(std::nullopt, p1.back().id, 2);
    ASSERT_EQ(p2.size(), 2u);
    auto p3 = store().list_rejected(std::nullopt, p2.back().id, 2);
    ASSERT_EQ(p3.size(), 1u);
    EXPECT_EQ(p1[0].raw, "raw0");
    EXPECT_EQ(p3[0].raw, "raw4");
    auto only_a = store().list_rejected("a", 0, 10);
    ASSERT_EQ(only_a.size(), 2u);
    EXPECT_EQ(only_a[0].raw, "raw1");
    EXPECT_EQ(only_a[1].raw, "raw3");
}

TEST_F(SqliteStoreTest, ReplayingABatchChangesNothing) {
    Batch b{"crm", {accepted("r1"), accepted("r2")}, {rejected("junk")}, R"({"page":1})"};
    auto first = store().commit_batch(b);
    ASSERT_TRUE(first.changed_anything());
    auto before = dump_tables(path());

    auto again = store().commit_batch(b);
    EXPECT_EQ(again.inserted, 0u);
    EXPECT_EQ(again.duplicates, 2u);
    EXPECT_EQ(again.rejected, 0u);
    EXPECT_EQ(again.rejected_duplicates, 1u);
    EXPECT_FALSE(again.cursor_changed);
    EXPECT_FALSE(again.changed_anything());
    EXPECT_EQ(dump_tables(path()), before);
}

TEST_F(SqliteStoreTest, ReplayIsKeyedBySourceAndRecordIdOnly) {
    store().commit_batch(Batch{"crm", {accepted("r1"), accepted("r2")}, {}, {}});
    // A record with a known id but a different body is still the same record: the first copy wins.
    auto changed = accepted("r2");
    changed.body = R"({"record_id":"r2","type":"track","late":"edit"})";
    auto res =
        store().commit_batch(Batch{"crm", {changed, accepted("r3"), accepted("r3")}, {}, {}});
    EXPECT_EQ(res.inserted, 1u);
    EXPECT_EQ(res.duplicates, 2u);  // r2 from before, and r3 twice in one batch
    EXPECT_EQ(store().find_record("crm", "r2")->body, accepted("r2").body);
    // The same id from another source is another record.
    EXPECT_EQ(store().commit_batch(Batch{"pos", {accepted("r1")}, {}, {}}).inserted, 1u);
    EXPECT_EQ(store().counts().records, 4);
}

TEST_F(SqliteStoreTest, CursorRoundTrip) {
    EXPECT_FALSE(store().cursor("crm"));
    store().commit_batch(Batch{"crm", {}, {}, R"({"since":"2024-01-01","note":"grüße"})"});
    EXPECT_EQ(store().cursor("crm"), R"({"since":"2024-01-01","note":"grüße"})");
    store().commit_batch(Batch{"crm", {accepted("r1")}, {}, R"({"since":"2024-02-01"})"});
    EXPECT_EQ(store().cursor("crm"), R"({"since":"2024-02-01"})");
    // A batch without a cursor leaves it alone; other sources have their own.
    store().commit_batch(Batch{"crm", {accepted("r2")}, {}, std::nullopt});
    EXPECT_EQ(store().cursor("crm"), R"({"since":"2024-02-01"})");
    EXPECT_FALSE(store().cursor("pos"));
    // Survives reopening.
    store_.reset();
    EXPECT_EQ(store().cursor("crm"), R"({"since":"2024-02-01"})");
    EXPECT_EQ(store().counts("crm").records, 2);
}

TEST_F(SqliteStoreTest, ACursorThatIsNotJsonFailsTheBatch) {
    try {
        store().commit_batch(Batch{"crm", {accepted("r1")}, {}, "not json"});
        FAIL() << "expected the CHECK constraint to refuse the cursor";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::constraint) << e.what();
    }
    EXPECT_EQ(store().counts().records, 0);
    EXPECT_FALSE(store().cursor("crm"));
}

// The atomicity tests: a failure at a chosen point of a batch must leave records, rejections,
// batches and cursor exactly as they were, and the store usable afterwards.
class AtomicCommitTest : public SqliteStoreTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(AtomicCommitTest, AFailureMidBatchStoresNothing) {
    store().commit_batch(Batch{"crm", {accepted("r0")}, {rejected("old junk")}, R"({"n":0})"});
    poison(GetParam());
    auto before = dump_tables(path());

    Batch b{"crm",
            {accepted("r1"), accepted("r2"), accepted("poison"), accepted("r3")},
            {rejected("junk"), rejected("poison")},
            R"({"n":3})"};
    try {
        store().commit_batch(b);
        FAIL() << "expected the injected failure";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'crm'"), std::string::npos) << e.what();
        EXPECT_FALSE(e.transient());
    }
    EXPECT_EQ(dump_tables(path()), before);
    EXPECT_EQ(store().cursor("crm"), R"({"n":0})");
    EXPECT_FALSE(store().find_record("crm", "r1"));

    // The store is still usable once the fault is gone (its statements were reset).
    plain_connection(path()).exec("DROP TRIGGER poison");
    auto ok =
        store().commit_batch(Batch{"crm", {accepted("r1")}, {rejected("junk")}, R"({"n":1})"});
    EXPECT_EQ(ok.inserted, 1u);
    EXPECT_EQ(store().cursor("crm"), R"({"n":1})");
}

INSTANTIATE_TEST_SUITE_P(
    InjectedFailures, AtomicCommitTest,
    ::testing::Values(
        "CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.record_id = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        "CREATE TRIGGER poison BEFORE INSERT ON rejected_records WHEN NEW.raw = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        "CREATE TRIGGER poison BEFORE UPDATE ON cursors "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        "CREATE TRIGGER poison BEFORE UPDATE ON ingest_batches "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"));

TEST_F(SqliteStoreTest, ALockedFileIsReportedAsBusyAndTransient) {
    auto options = pinned_clock_options();
    options.database.busy_timeout = std::chrono::milliseconds(50);
    store_ = store::open_sqlite_store(path(), options);
    auto other = plain_connection(path());
    other.exec("BEGIN IMMEDIATE");
    try {
        store().commit_batch(Batch{"crm", {accepted("r1")}, {}, R"({"n":1})"});
        FAIL() << "expected busy";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::busy) << e.what();
        EXPECT_TRUE(e.transient());
    }
    other.exec("ROLLBACK");
    EXPECT_EQ(store().commit_batch(Batch{"crm", {accepted("r1")}, {}, R"({"n":1})"}).inserted, 1u);
}

TEST_F(SqliteStoreTest, ReadersSeeOnlyCommittedBatches) {
    store().commit_batch(Batch{"crm", {accepted("r1")}, {}, {}});
    auto reader = plain_connection(path(), false);
    reader.exec("BEGIN");
    EXPECT_EQ(query_int(reader, "SELECT count(*) FROM records"), 1);
    // WAL: the writer is not blocked by the open read transaction, and the reader keeps its
    // snapshot until it ends.
    store().commit_batch(Batch{"crm", {accepted("r2")}, {}, {}});
    EXPECT_EQ(query_int(reader, "SELECT count(*) FROM records"), 1);
    reader.exec("COMMIT");
    EXPECT_EQ(query_int(reader, "SELECT count(*) FROM records"), 2);
}

// Not a test: a rough ingest rate, run with --gtest_also_run_disabled_tests.
TEST_F(SqliteStoreTest, DISABLED_Throughput) {
    const int batches = 50, per_batch = 2000;
    auto start = std::chrono::steady_clock::now();
    for (int b = 0; b < batches; ++b) {
        Batch batch{"bench", {}, {}, R"({"b":)" + std::to_string(b) + "}"};
        for (int i = 0; i < per_batch; ++i) {
            auto id = "r" + std::to_string(b * per_batch + i);
            batch.accepted.push_back(store::AcceptedRecord{
                id, "track", "2024-04-30T10:00:00.000Z",
                R"({"type":"track","record_id":")" + id +
                    R"(","event":"Order Completed","properties":{"total":4200,"currency":"EUR"},)"
                    R"("identifiers":{"email":"someone@example.com"}})"});
        }
        store().commit_batch(batch);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%d records in %.3f s: %.0f records/s\n", batches * per_batch, secs,
                batches * per_batch / secs);
}

}  // namespace
}  // namespace cdphub::test

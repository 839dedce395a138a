// The statement cache that keeps an activation diff's statements across real-time batches.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "store/statement_cache.hpp"
#include "test_util.hpp"

namespace cdphub::store {
namespace {

class StatementCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_.exec("PRAGMA journal_mode = WAL");
        db_.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2)");
    }
    test::TempDir dir_;
    SQLite::Database db_{dir_.path() / "cache.db", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE};
};

TEST_F(StatementCacheTest, HandsOutTheSameStatementResetAndUnbound) {
    StatementCache cache(db_);
    auto& a = cache.get("SELECT n FROM t WHERE ?1 IS NULL OR n = ?1 ORDER BY n");
    a.bind(1, 2);
    ASSERT_TRUE(a.executeStep());
    EXPECT_EQ(a.getColumn(0).getInt(), 2);
    // Left in the middle of its rows, with a binding: the next get starts it over, unbound.
    auto& b = cache.get("SELECT n FROM t WHERE ?1 IS NULL OR n = ?1 ORDER BY n");
    EXPECT_EQ(&a, &b);
    ASSERT_TRUE(b.executeStep());
    EXPECT_EQ(b.getColumn(0).getInt(), 1);
    EXPECT_EQ(cache.size(), 1u);
    cache.get("SELECT count(*) FROM t");
    EXPECT_EQ(cache.size(), 2u);
}

TEST_F(StatementCacheTest, ReleaseLetsACheckpointEmptyTheLog) {
    StatementCache cache(db_);
    auto& q = cache.get("SELECT n FROM t ORDER BY n");
    ASSERT_TRUE(q.executeStep());  // holds a read snapshot until reset
    SQLite::Database other(dir_.path() / "cache.db", SQLite::OPEN_READWRITE);
    other.exec("INSERT INTO t VALUES (3)");
    auto busy = [&] {
        SQLite::Statement c(other, "PRAGMA wal_checkpoint(TRUNCATE)");
        c.executeStep();
        return c.getColumn(0).getInt();
    };
    EXPECT_EQ(busy(), 1);  // the open snapshot stops it
    cache.release();
    EXPECT_EQ(busy(), 0);
    EXPECT_EQ(cache.size(), 1u);  // within capacity: kept
}

TEST_F(StatementCacheTest, ReleaseStartsOverBeyondItsCapacity) {
    StatementCache cache(db_, 2);
    for (int i = 0; i < 3; ++i) cache.get("SELECT " + std::to_string(i));
    EXPECT_EQ(cache.size(), 3u);  // never dropped while references may be in use
    cache.release();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.get("SELECT 7").executeStep(), true);
}

}  // namespace
}  // namespace cdphub::store

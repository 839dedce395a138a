// WAL checkpoints on a thread of their own: the writer's commits only signal it, the log stays
// bounded, and the writer takes over when the log runs past the hard limit.
#include "store/checkpointer.hpp"

#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <string>
#include <thread>

#include "store/database.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

using namespace std::chrono_literals;

// Commits `commits` transactions of about 100 pages each (a 4 KiB page per 3.5 KB row).
void write(SQLite::Database& db, int commits) {
    db.exec("CREATE TABLE IF NOT EXISTS t (x TEXT)");
    const std::string row(3500, 'x');
    SQLite::Statement insert(db, "INSERT INTO t (x) VALUES (?)");
    for (int c = 0; c < commits; ++c) {
        SQLite::Transaction tx(db);
        for (int i = 0; i < 100; ++i) {
            insert.bind(1, row);
            insert.exec();
            insert.reset();
        }
        tx.commit();
    }
}

std::uintmax_t wal_size(const std::filesystem::path& db) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(db.string() + "-wal", ec);
    return ec ? 0 : n;
}

TEST(Checkpointer, TheThreadCheckpointsAndTheLogStopsGrowing) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    auto db = store::open_database(path, {});
    store::BackgroundCheckpointer c(db, path, {.wake_pages = 300, .writer_pages = 1'000'000});
    // 60 commits of ~100 pages: without checkpoints the log would reach ~24 MB. Between rounds
    // the writer pauses until the thread is done, as the gaps between real batches let it; the
    // next commit then rewinds the log instead of appending to it.
    for (int round = 0; round < 12; ++round) {
        write(db, 5);
        c.wait_until_idle();
    }
    EXPECT_GE(c.background_checkpoints(), 1);
    EXPECT_EQ(c.writer_checkpoints(), 0);
    // A checkpointed log is rewound by the next commit rather than appended to.
    EXPECT_LT(wal_size(path), 12u * 1024 * 1024);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 6000);
}

TEST(Checkpointer, AWriterPastTheHardLimitCheckpointsItself) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    auto db = store::open_database(path, {});
    // The thread is never woken: only the writer's own checkpoints keep the log bounded.
    store::BackgroundCheckpointer c(db, path, {.wake_pages = 1'000'000, .writer_pages = 250});
    write(db, 30);
    EXPECT_EQ(c.background_checkpoints(), 0);
    EXPECT_GE(c.writer_checkpoints(), 5);
    EXPECT_LT(wal_size(path), 4u * 1024 * 1024);
}

TEST(Checkpointer, AfterItIsGoneTheWriterCheckpointsAsSQLiteDoesByDefault) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    auto db = store::open_database(path, {});
    {
        store::BackgroundCheckpointer c(db, path,
                                        {.wake_pages = 1'000'000, .writer_pages = 1'000'000});
        write(db, 1);
    }
    write(db, 60);  // SQLite's autocheckpoint at 1,000 pages: the log stays near 4 MB
    EXPECT_LT(wal_size(path), 8u * 1024 * 1024);
}

}  // namespace
}  // namespace cdphub::test

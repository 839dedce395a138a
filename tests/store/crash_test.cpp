// A source process killed at a random moment (SIGKILL, no cleanup) must never leave a cursor that
// runs ahead of the records it covers. The cursor here is the index of the last record committed,
// so "records 0..cursor all exist, and nothing beyond" is the whole invariant.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "store/record_sink.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;

constexpr int kBatch = 250;

std::int64_t stored_cursor(store::ProfileStore& s) {
    auto c = s.cursor("crash");
    return c ? json::parse(*c).at("last").get<std::int64_t>() : -1;
}

// The child: resume from the stored cursor like a real source, re-sending the last few records
// (an overlap a real source produces after a crash), and commit batches until killed.
[[noreturn]] void run_source(const std::filesystem::path& path) {
    try {
        auto s = store::open_sqlite_store(path);
        store::StoreRecordSink sink(*s, "crash");
        std::int64_t next = stored_cursor(*s) + 1;
        next = std::max<std::int64_t>(0, next - 10);
        for (;;) {
            auto records = json::array();
            for (int i = 0; i < kBatch; ++i)
                records.push_back(json{{"type", "track"},
                                       {"record_id", "r" + std::to_string(next + i)},
                                       {"event", "Page Viewed"},
                                       {"properties", {{"i", next + i}}}});
            next += kBatch;
            auto st = sink.commit(std::move(records), json{{"last", next - 1}}.dump());
            if (!st.ok()) ::_exit(3);
        }
    } catch (...) {
        ::_exit(2);
    }
}

TEST(StoreCrash, ACursorNeverRunsAheadOfItsRecords) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(30, 250);
    std::int64_t last_seen = -1;

    for (int round = 0; round < 8; ++round) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) run_source(path);
        int delay = delay_ms(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "the source process failed on its own (exit " << WEXITSTATUS(status) << ")";

        // Reopen as the restarted hub would (recovery of the WAL happens here).
        auto s = store::open_sqlite_store(path);
        std::int64_t cursor = stored_cursor(*s);
        auto db = plain_connection(path, false);
        SQLite::Statement q(db,
                            "SELECT count(*), coalesce(max(CAST(substr(record_id, 2) AS INTEGER)), "
                            "-1) FROM records WHERE source = 'crash'");
        ASSERT_TRUE(q.executeStep());
        std::int64_t count = q.getColumn(0).getInt64();
        std::int64_t max_index = q.getColumn(1).getInt64();
        // Record ids are r0, r1, ... and unique per source, so count == cursor + 1 with the
        // largest index == cursor means exactly records 0..cursor are stored.
        EXPECT_EQ(count, cursor + 1) << "round " << round << " after " << delay << " ms";
        EXPECT_EQ(max_index, cursor) << "round " << round;
        EXPECT_GE(cursor, last_seen) << "a committed cursor was lost";
        last_seen = cursor;
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
    }
    // Otherwise the rounds proved nothing.
    EXPECT_GT(last_seen, 2 * kBatch) << "the source made too little progress to test anything";
}

}  // namespace
}  // namespace cdphub::test

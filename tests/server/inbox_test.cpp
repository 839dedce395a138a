// The inbox on its own: a request is one row, positions count events, and the processor's read
// is bounded in events yet always makes progress.
#include <gtest/gtest.h>

#include <future>

#include "server/inbox.hpp"
#include "test_util.hpp"

namespace cdphub::server::test {
namespace {

// Submits one request's entries and waits for its commit.
bool commit(Inbox& inbox, std::vector<Inbox::Entry> entries) {
    std::promise<bool> committed;
    auto result = committed.get_future();
    if (inbox.submit(std::move(entries), [&](bool ok) { committed.set_value(ok); }) !=
        Inbox::Admit::queued)
        return false;
    return result.get();
}

TEST(InboxTest, PositionsCountEventsAndAReadAlwaysReturnsTheNextRow) {
    cdphub::test::TempDir dir;
    Inbox inbox(dir.path() / "inbox.db");
    ASSERT_TRUE(commit(inbox, {{"web", R"({"record_id":"a"})", 1, 1, ""}}));
    ASSERT_TRUE(commit(
        inbox, {{"web", R"([{"record_id":"b"},{"record_id":"c"},{"record_id":"d"}])", 2, 3, ""}}));
    ASSERT_TRUE(
        commit(inbox, {{"app", R"({"type":"track","event":"E","userId":"u"})", 3, 1, "track"}}));
    EXPECT_EQ(inbox.last_position(), 5);  // 1 + 3 + 1 events

    // Two events' worth: the single event only, since the batch row would exceed it.
    auto rows = inbox.read_after(0, 2, std::chrono::milliseconds(0));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].position, 1);
    // A row larger than the limit still comes, alone, so the processor never stalls on it.
    rows = inbox.read_after(1, 2, std::chrono::milliseconds(0));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].position, 4);
    EXPECT_EQ(rows[0].received_at_ms, 2);
    rows = inbox.read_after(4, 2, std::chrono::milliseconds(0));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].source, "app");
    EXPECT_EQ(rows[0].request, "track");  // a request as received, for the processor to convert
    EXPECT_EQ(inbox.read_after(0, 100, std::chrono::milliseconds(0)).size(), 3u);

    // The backlog (for the 429 limit and the metrics) is in events, and survives a reopen.
    inbox.processed_through(4);
    EXPECT_EQ(inbox.last_position() - inbox.processed_position(), 1);
    inbox.close();
    Inbox reopened(dir.path() / "inbox.db");
    EXPECT_EQ(reopened.last_position(), 5);
    ASSERT_TRUE(commit(reopened, {{"web", R"({"record_id":"f"})", 4, 1, ""}}));
    EXPECT_EQ(reopened.last_position(), 6);
}

TEST(InboxTest, AnsweredEventsCountOnceTowardsTheBacklog) {
    // A client answered 200 may send again at once. Its events must by then count in the
    // backlog only, not also as still queued: counted twice, the next request met a 429 with
    // room to spare (a flaky OverloadTest showed it).
    cdphub::test::TempDir dir;
    InboxOptions o;
    o.max_backlog_events = 100;
    Inbox inbox(dir.path() / "inbox.db", o);
    std::promise<Inbox::Admit> next;
    auto admitted = next.get_future();
    ASSERT_EQ(
        inbox.submit({{"web", "", 1, 60, "batch"}},
                     [&](bool ok) {
                         ASSERT_TRUE(ok);
                         // Inside the answer: 60 in the backlog + 1 fits 100.
                         next.set_value(inbox.submit({{"web", "", 2, 1, "batch"}}, [](bool) {}));
                     }),
        Inbox::Admit::queued);
    EXPECT_EQ(admitted.get(), Inbox::Admit::queued);
}

}  // namespace
}  // namespace cdphub::server::test

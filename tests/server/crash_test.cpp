// Durable acknowledgement: a server process killed with SIGKILL while clients are sending loses
// no event it answered 200 for, and the processor delivers each exactly once after a restart.
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "server_fixture.hpp"

namespace cdphub::server::test {
namespace {

using nlohmann::json;

// The child: store, inbox (durability as in production), server and a running processor, so
// that the kill may land in the middle of an inbox commit or a store transaction.
[[noreturn]] void run_child(const std::filesystem::path& dir, int port_pipe) {
    try {
        auto store = store::open_sqlite_store(dir / "cdphub.db");
        normalize::Normalizer normalizer;
        identity::Resolver resolver{manifest::IdentityRules::defaults()};
        Inbox inbox(dir / "inbox.db", InboxOptions{});
        ProcessorOptions po;
        po.batch_rows = 50;  // many small store transactions: more places to be killed in
        Processor processor(inbox, *store, normalizer, resolver, po);
        processor.start();
        Counters counters;
        ServerOptions so;
        so.port = 0;
        so.write_keys = {{kWriteKey, "web"}, {kOtherKey, "mobile"}};
        Server server(so, inbox, counters);
        server.start();
        unsigned short port = server.port();
        if (::write(port_pipe, &port, sizeof port) != sizeof port) ::_exit(2);
        for (;;) ::pause();
    } catch (...) {
        ::_exit(3);
    }
}

TEST(CrashTest, EveryAcknowledgedEventSurvivesSigkill) {
    cdphub::test::TempDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        run_child(dir.path(), fds[1]);
    }
    ::close(fds[1]);
    unsigned short port = 0;
    ASSERT_EQ(::read(fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    ::close(fds[0]);
    const std::string base = "http://127.0.0.1:" + std::to_string(port);

    std::mutex mu;
    std::set<std::string> acked;  // "<source>/<messageId>"
    std::atomic<bool> killed{false};
    std::atomic<int> requests{0};
    auto client = [&](int t) {
        http::ClientOptions o;
        o.max_attempts = 1;
        o.timeout = std::chrono::seconds(5);
        http::Client c(o);
        const bool mobile = t % 2 == 1;
        for (int i = 0; !killed; ++i) {
            json batch = {{"batch", json::array()}};
            std::vector<std::string> ids;
            for (int k = 0; k < 20; ++k) {
                std::string id =
                    "t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k);
                batch["batch"].push_back({{"type", "track"},
                                          {"event", "E"},
                                          {"userId", "u" + std::to_string(k)},
                                          {"messageId", id}});
                ids.push_back(id);
            }
            http::Request r;
            r.method = "POST";
            r.url = base + "/v1/batch";
            r.body = batch.dump();
            r.headers = {{"Content-Type", "application/json"},
                         {"Authorization", basic(mobile ? kOtherKey : kWriteKey)}};
            auto res = c.perform(r);
            ++requests;
            if (res.ok() && res.response().status == 200) {
                std::lock_guard lock(mu);
                for (auto& id : ids) acked.insert((mobile ? "mobile/" : "web/") + id);
            }
        }
    };
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) clients.emplace_back(client, t);
    // Kill while requests are in flight, after enough were acknowledged.
    for (int i = 0; i < 400 && requests.load() < 150; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    killed = true;
    int status = 0;
    ::waitpid(child, &status, 0);
    for (auto& t : clients) t.join();
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_GT(acked.size(), 500u);

    // Restart: the processor catches up from its cursors.
    auto store = store::open_sqlite_store(dir.path() / "cdphub.db");
    normalize::Normalizer normalizer;
    identity::Resolver resolver{manifest::IdentityRules::defaults()};
    Inbox inbox(dir.path() / "inbox.db", InboxOptions{});
    Processor processor(inbox, *store, normalizer, resolver);
    processor.process_available();
    std::size_t missing = 0;
    for (const auto& key : acked) {
        auto slash = key.find('/');
        if (!store->find_record(key.substr(0, slash), key.substr(slash + 1))) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged events";
    // Nothing rejected (every event was valid) and every stored record was sent: the store
    // holds at most what was sent (acknowledged, plus those in flight at the kill).
    EXPECT_EQ(store->counts().rejected_records, 0);
    EXPECT_GE(static_cast<std::size_t>(store->counts().records), acked.size());
    EXPECT_LE(static_cast<std::size_t>(store->counts().records), acked.size() + 4u * 20u * 2u);
    // Processing again finds nothing new: each inbox row was handled once.
    EXPECT_EQ(inbox.last_position(), inbox.processed_position());
}

}  // namespace
}  // namespace cdphub::server::test

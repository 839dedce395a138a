// ingest_bench: closed-loop load on the ingest API over loopback.
//
//   ingest_bench [--connections N] [--seconds S] [--batch B] [--durability full|normal]
//                [--io-threads T] (the in-process hub's; default: the hub's default)
//                [--processor off] (analysis only: how much the processor's share of the cores
//                                   costs ingest; the backlog then grows until 429s)
//                [--port P]   (P: an already running hub or nginx; default: start one in-process)
//                [--max-backlog E] (the in-process inbox's unprocessed-events limit; default the
//                                   hub's 1,000,000. Batches fill that within seconds, after
//                                   which 429s measure the processor, not the ingest path)
//
// Each connection sends one request, waits for its answer, and sends the next (keep-alive).
// --batch 1 posts single events to /v1/track; B > 1 posts B-event batches to /v1/batch.
// Prints requests/s, events/s and latency percentiles of 200 answers. The in-process hub
// runs its processor too, so the figures include the store's share of the two cores.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_name.hpp"
#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "server/http_server.hpp"
#include "server/processor.hpp"
#include "store/sqlite_store.hpp"

namespace {

using namespace cdphub;
using Clock = std::chrono::steady_clock;

struct Args {
    int connections = 16, seconds = 5, batch = 1, port = 0;
    int io_threads = server::ServerOptions{}.threads;
    bool full = false;
    bool process = true;
    std::size_t max_backlog = server::InboxOptions{}.max_backlog_events;
};

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Reads one HTTP response (headers + Content-Length body); returns the status, -1 on error.
int read_response(int fd, std::string& buf) {
    for (;;) {
        auto end = buf.find("\r\n\r\n");
        if (end != std::string::npos) {
            auto cl = buf.find("Content-Length: ");
            std::size_t len = cl != std::string::npos && cl < end
                                  ? std::strtoul(buf.c_str() + cl + 16, nullptr, 10)
                                  : 0;
            if (buf.size() >= end + 4 + len) {
                int status = std::atoi(buf.c_str() + 9);
                buf.erase(0, end + 4 + len);
                return status;
            }
        }
        char tmp[16384];
        auto n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) return -1;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

std::string request(int conn, std::uint64_t seq, int batch) {
    auto event = [&](int k) {
        char e[512];
        std::snprintf(e, sizeof e,
                      R"({"type":"track","event":"Product Viewed","userId":"user-%d-%d",)"
                      R"("messageId":"b-%d-%llu-%d","timestamp":"2026-05-01T10:00:00.000Z",)"
                      R"("properties":{"sku":"A-%d","price":12.5}})",
                      conn, k % 50, conn, static_cast<unsigned long long>(seq), k, k);
        return std::string(e);
    };
    std::string body, path;
    if (batch <= 1) {
        body = event(0);
        path = "/v1/track";
    } else {
        body = R"({"batch":[)";
        for (int k = 0; k < batch; ++k) body += (k ? "," : "") + event(k);
        body += R"(],"sentAt":"2026-05-01T10:00:01.000Z"})";
        path = "/v1/batch";
    }
    return "POST " + path +
           " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           "Authorization: Basic YmVuY2gta2V5Og==\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--connections")
            a.connections = std::stoi(v);
        else if (k == "--seconds")
            a.seconds = std::stoi(v);
        else if (k == "--batch")
            a.batch = std::stoi(v);
        else if (k == "--io-threads")
            a.io_threads = std::stoi(v);
        else if (k == "--port")
            a.port = std::stoi(v);
        else if (k == "--processor")
            a.process = v != "off";
        else if (k == "--durability")
            a.full = v == "full";
        else if (k == "--max-backlog")
            a.max_backlog = std::stoull(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }

    // The in-process hub ("bench-key" is the write key: Basic YmVuY2gta2V5Og==).
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("cdphub-ingest-bench-" + std::to_string(::getpid()));
    std::unique_ptr<store::SqliteProfileStore> store;
    normalize::Normalizer normalizer;
    identity::Resolver resolver{manifest::IdentityRules::defaults()};
    std::unique_ptr<server::Inbox> inbox;
    std::unique_ptr<server::Processor> processor;
    server::Counters counters;
    std::unique_ptr<server::Server> srv;
    if (a.port == 0) {
        std::filesystem::create_directories(dir);
        store = store::open_sqlite_store(dir / "cdphub.db");
        server::InboxOptions io;
        io.durability = a.full ? store::Durability::full : store::Durability::normal;
        io.max_backlog_events = a.max_backlog;
        inbox = std::make_unique<server::Inbox>(dir / "inbox.db", io);
        processor = std::make_unique<server::Processor>(*inbox, *store, normalizer, resolver);
        if (a.process) processor->start();
        server::ServerOptions so;
        so.port = 0;
        so.threads = a.io_threads;
        so.write_keys = {{"bench-key", "bench"}};
        srv = std::make_unique<server::Server>(so, *inbox, counters);
        srv->start();
        a.port = srv->port();
    }

    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<double> latencies_us;
    std::atomic<std::uint64_t> ok{0}, throttled{0}, failed{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < a.connections; ++c) {
        threads.emplace_back([&, c] {
            name_this_thread("bench-client");
            int fd = connect_to(a.port);
            if (fd < 0) {
                ++failed;
                return;
            }
            std::string buf;
            std::vector<double> mine;
            for (std::uint64_t seq = 0; !stop; ++seq) {
                auto req = request(c, seq, a.batch);
                auto t0 = Clock::now();
                if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) break;
                int status = read_response(fd, buf);
                auto us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
                if (status == 200) {
                    ++ok;
                    mine.push_back(us);
                } else if (status == 429) {
                    ++throttled;
                } else {
                    ++failed;
                    if (status < 0) break;
                }
            }
            ::close(fd);
            std::lock_guard lock(mu);
            latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
        });
    }
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) {
        return latencies_us.empty()
                   ? 0.0
                   : latencies_us[static_cast<std::size_t>(p * (latencies_us.size() - 1))] / 1000.0;
    };
    std::printf(
        "connections=%d batch=%d durability=%s: %.0f req/s, %.0f events/s, p50 %.2f ms, "
        "p99 %.2f ms (%llu ok, %llu 429, %llu failed)\n",
        a.connections, a.batch, a.full ? "full" : "normal", ok / secs, ok * a.batch / secs,
        pct(0.5), pct(0.99), static_cast<unsigned long long>(ok.load()),
        static_cast<unsigned long long>(throttled.load()),
        static_cast<unsigned long long>(failed.load()));
    if (srv) {
        srv->stop();
        processor->stop(false);
        std::printf("processed %llu events meanwhile (lag %lld ms)\n",
                    static_cast<unsigned long long>(processor->processed_events()),
                    static_cast<long long>(processor->lag_ms()));
        processor.reset();
        inbox.reset();
        store.reset();
        std::filesystem::remove_all(dir);
    }
    return 0;
}

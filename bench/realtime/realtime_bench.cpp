// realtime_bench: time from an event sent to the ingest API to its profile's segment entry in the
// activation outbox (docs/benchmarks.md, "Event to outbox").
//
//   cdphub-realtime-bench [--rate R] [--seconds S] [--senders N] [--durability full|normal]
//                         [--batch B]
//
// Starts the real `cdphub run` (a separate process, as an admin runs it) on a temporary manifest
// folder: one ingest source, a segment `traits.tier == "gold"`, a real-time activation of it to a
// liveramp-files destination (whose delivery worker runs too). N sender threads send identify
// events for new users, all gold, at R events/s in total, open loop: each event has a scheduled
// send time, and its latency counts from that time, so a stalled server cannot hide its queueing
// by slowing the senders down. With --batch B, each request is a /v1/batch of B events, sent when
// its last event is due, as a server-side client library flushes its queue; every event in it
// counts from that time (what a client holds back before flushing is not the hub's latency).
// An observer polls the store file (a read-only connection beside
// the daemon's, as SQLite's WAL allows) every millisecond for new activation_changes rows and
// notes when each user's entry appeared. Prints the latency percentiles of the entries observed.
#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kWriteKey = "bench-realtime-write-key";

struct Options {
    int rate = 10000;
    int seconds = 10;
    int senders = 64;
    std::string durability = "full";
    int batch = 1;  // events per request; 1: /v1/identify, more: /v1/batch
};

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

// A loopback port nobody listens on right now (the kernel's choice for port 0).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    return ok ? ntohs(a.sin_port) : 0;
}

// The daemon as a child process; killed (SIGTERM, then SIGKILL) when this goes away.
class Daemon {
  public:
    Daemon(const fs::path& manifests, const fs::path& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            std::FILE* out = std::freopen(log.c_str(), "w", stdout);
            if (out != nullptr) ::dup2(::fileno(stdout), STDERR_FILENO);
            ::setenv("CDPHUB_BENCH_WRITE_KEY", kWriteKey, 1);
            const std::string m = manifests.string();
            ::execl(CDPHUB_EXE, CDPHUB_EXE, "-m", m.c_str(), "-P", CDPHUB_PLUGIN_DIR, "run",
                    static_cast<char*>(nullptr));
            std::_Exit(127);
        }
    }
    ~Daemon() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 300; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(100ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

  private:
    pid_t pid_ = -1;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"cdphub-realtime-bench: ingest API event to activation outbox entry latency",
                 "cdphub-realtime-bench"};
    app.add_option("--rate", o.rate, "events per second, all senders together")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--seconds", o.seconds, "how long to send")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    app.add_option("--senders", o.senders, "sender threads (one keep-alive connection each)")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--durability", o.durability, "the ingest API's inbox durability")
        ->check(CLI::IsMember({"full", "normal"}))
        ->capture_default_str();
    app.add_option("--batch", o.batch,
                   "events per request: 1 sends /v1/identify, more send /v1/batch requests, each "
                   "when its last event is due")
        ->check(CLI::Range(1, 500))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    char tmpl[] = "/tmp/cdphub-realtime-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const fs::path dir = tmpl;
    const int port = free_port();
    write_file(dir / "m/hub.json", R"({"data_dir": "../var",
  "ingest_api": {"listen": "127.0.0.1:)" +
                                       std::to_string(port) + R"(", "durability": ")" +
                                       o.durability + R"(",
    "sources": {"web": {"write_key": {"env": "CDPHUB_BENCH_WRITE_KEY"}}}}})");
    write_file(dir / "m/segments/gold.json",
               R"({"name": "gold", "expression": "traits.tier == \"gold\""})");
    fs::create_directories(dir / "drop");
    write_file(dir / "m/connectors/drop.json",
               R"({"id": "drop", "plugin": "liveramp-files", "config": {"drop_folder": "../drop",
  "columns": [{"name": "EMAIL_SHA256", "field": "email", "type": "email"}]}})");
    write_file(dir / "m/activations/gold_drop.json",
               R"({"name": "gold_drop", "segment": "gold", "destination": "drop", "realtime": true,
  "mapping": {"email": "identifiers.email", "user": "identifiers.user_id"}})");

    std::printf(
        "rate %d events/s for %d s, %d senders, %d events per request, durability %s; "
        "files in %s\n",
        o.rate, o.seconds, o.senders, o.batch, o.durability.c_str(), dir.c_str());
    std::fflush(stdout);  // the child would print what is still buffered again
    auto daemon = std::make_unique<Daemon>(dir / "m", dir / "run.log");
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    {
        cdphub::http::ClientOptions co;
        co.max_attempts = 1;
        cdphub::http::Client probe(co);
        bool up = false;
        for (int i = 0; i < 300 && !up; ++i) {
            cdphub::http::Request r;
            r.url = base + "/readyz";
            r.rate_limited = false;
            auto res = probe.perform(r);
            up = res.ok() && res.response().status == 200;
            if (!up) std::this_thread::sleep_for(100ms);
        }
        if (!up) {
            std::fprintf(stderr, "the hub did not start; see %s\n", (dir / "run.log").c_str());
            return 1;
        }
    }

    const long total = static_cast<long>(o.rate) * o.seconds;
    // Scheduled send time of event i: start + i / rate. Sender t takes i = t, t + N, t + 2N, ...
    std::vector<Clock::time_point> scheduled(static_cast<std::size_t>(total));
    std::vector<char> acknowledged(static_cast<std::size_t>(total), 0);
    std::atomic<bool> sending_done{false};
    std::unordered_map<long, Clock::time_point> seen;  // event index -> entry observed
    const auto start = Clock::now() + 200ms;
    // Event i is due at start + i / rate; in a batch, every event is due with the batch's last.
    for (long i = 0; i < total; ++i) {
        const long last = std::min(total - 1, (i / o.batch + 1) * o.batch - 1);
        scheduled[static_cast<std::size_t>(i)] =
            start + std::chrono::nanoseconds(last * 1'000'000'000L / o.rate);
    }

    std::thread observer([&] {
        SQLite::Database db((dir / "var/cdphub.db").string(), SQLite::OPEN_READONLY);
        db.setBusyTimeout(1000);
        std::int64_t last = 0;
        const auto give_up = [&] {
            return sending_done.load() && static_cast<long>(seen.size()) >= total;
        };
        auto deadline = Clock::time_point::max();
        while (!give_up() && Clock::now() < deadline) {
            SQLite::Statement q(db,
                                "SELECT id, json_extract(payload, '$.user') FROM "
                                "activation_changes WHERE id > ? AND op = 'enter' ORDER BY id");
            q.bind(1, last);
            const auto now = Clock::now();
            while (q.executeStep()) {
                last = q.getColumn(0).getInt64();
                const auto user = q.getColumn(1).getString();  // "u<index>"
                if (user.size() > 1) seen.emplace(std::atol(user.c_str() + 1), now);
            }
            if (sending_done.load() && deadline == Clock::time_point::max())
                deadline = Clock::now() + 30s;  // the stragglers, at most
            std::this_thread::sleep_for(1ms);
        }
    });

    std::vector<std::thread> senders;
    std::atomic<long> failed{0};
    for (int t = 0; t < o.senders; ++t)
        senders.emplace_back([&, t] {
            cdphub::http::ClientOptions co;
            co.max_attempts = 1;
            co.timeout = 10s;
            cdphub::http::Client client(co);
            const auto identify = [](long i) {
                return R"("userId": "u)" + std::to_string(i) + R"(", "traits": {"email": "u)" +
                       std::to_string(i) + R"(@bench.example.org", "tier": "gold"})";
            };
            // Sender t sends requests t, t + N, t + 2N, ...; request k holds events
            // k * batch .. k * batch + batch - 1.
            for (long first = static_cast<long>(t) * o.batch; first < total;
                 first += static_cast<long>(o.senders) * o.batch) {
                const long end = std::min(total, first + o.batch);
                std::this_thread::sleep_until(scheduled[static_cast<std::size_t>(first)]);
                cdphub::http::Request r;
                r.method = "POST";
                r.rate_limited = false;
                r.headers.emplace_back("Content-Type", "application/json");
                const std::string key = R"({"writeKey": ")" + std::string(kWriteKey) + "\", ";
                if (o.batch == 1) {
                    r.url = base + "/v1/identify";
                    r.body = key + identify(first) + "}";
                } else {
                    r.url = base + "/v1/batch";
                    r.body = key + R"("batch": [)";
                    for (long i = first; i < end; ++i)
                        r.body += std::string(i == first ? "" : ", ") + R"({"type": "identify", )" +
                                  identify(i) + "}";
                    r.body += "]}";
                }
                auto res = client.perform(r);
                const bool ok = res.ok() && res.response().status == 200;
                for (long i = first; i < end; ++i)
                    if (ok)
                        acknowledged[static_cast<std::size_t>(i)] = 1;
                    else
                        failed.fetch_add(1);
            }
        });
    for (auto& s : senders) s.join();
    const double send_s = std::chrono::duration<double>(Clock::now() - start).count();
    sending_done = true;
    observer.join();
    daemon.reset();  // SIGTERM: drains and stops before its files go

    std::vector<double> ms;
    long acked = 0, missing = 0;
    for (long i = 0; i < total; ++i) {
        if (!acknowledged[static_cast<std::size_t>(i)]) continue;
        ++acked;
        auto it = seen.find(i);
        if (it == seen.end()) {
            ++missing;
            continue;
        }
        ms.push_back(std::chrono::duration<double, std::milli>(
                         it->second - scheduled[static_cast<std::size_t>(i)])
                         .count());
    }
    std::printf("sent %ld in %.2f s (%.0f events/s), %ld acknowledged, %ld failed\n", total, send_s,
                static_cast<double>(total) / send_s, acked, failed.load());
    std::printf("outbox entries observed: %zu, acknowledged but never observed: %ld\n", ms.size(),
                missing);
    const double p50 = percentile(ms, 50), p90 = percentile(ms, 90), p99 = percentile(ms, 99),
                 max = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
    std::printf("event -> outbox entry: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50,
                p90, p99, max);
    std::printf(
        "RESULT rate=%d seconds=%d batch=%d durability=%s p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f "
        "max_ms=%.1f acked=%ld observed=%zu\n",
        o.rate, o.seconds, o.batch, o.durability.c_str(), p50, p90, p99, max, acked, ms.size());
    fs::remove_all(dir);
    return missing == 0 && failed.load() == 0 ? 0 : 2;
}

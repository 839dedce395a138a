// Settings and counters of the ingest API server (hub.json "ingest_api", docs/ingest-api.md).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugin_host/connector.hpp"

namespace cdphub::server {

// Write key -> the source its events are filed under.
using WriteKeys = std::map<std::string, std::string, std::less<>>;

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8088;  // 0: any free port (tests); Server::port() tells which
    int threads = 2;             // I/O threads
    // The keys at start; Server::set_write_keys replaces them while it runs.
    WriteKeys write_keys;

    std::size_t max_event_bytes = 32 * 1024;   // one event; the whole body of /v1/<type>
    std::size_t max_batch_bytes = 500 * 1024;  // the body of /v1/batch
    std::size_t max_webhook_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;  // request line and headers together
    // The whole request (headers and body) must arrive within this time from its first byte
    // being awaited; an idle keep-alive connection is closed after it too. Slow clients (and
    // slowloris attacks) cost a connection for at most this long.
    std::chrono::milliseconds read_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    // Retry-After (seconds) when the inbox is full.
    int retry_after_seconds = 1;
};

// Request latency buckets of the tracking routes, in milliseconds (upper bounds; the last is +Inf).
inline constexpr std::array<double, 12> kLatencyBucketsMs = {0.5, 1,   2,   5,    10,   25,
                                                             50,  100, 250, 1000, 5000, 30000};

// What the server counts, for /metrics; all monotonic.
struct Counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> events_accepted{0};
    std::atomic<std::uint64_t> bad_requests{0};   // 400 and 431
    std::atomic<std::uint64_t> unauthorized{0};   // 401
    std::atomic<std::uint64_t> throttled{0};      // 429
    std::atomic<std::uint64_t> server_errors{0};  // 5xx
    std::atomic<std::uint64_t> webhook_requests{0};
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> admin_requests{0};
    // Tracking requests by time from the whole request read to its answer (inbox commit
    // included): a histogram, cumulative as Prometheus wants it when rendered.
    std::array<std::atomic<std::uint64_t>, kLatencyBucketsMs.size() + 1> latency_buckets{};
    std::atomic<std::uint64_t> latency_sum_us{0};

    void observe_latency(std::chrono::microseconds d) {
        const double ms = static_cast<double>(d.count()) / 1000.0;
        std::size_t i = 0;
        while (i < kLatencyBucketsMs.size() && ms > kLatencyBucketsMs[i]) ++i;
        latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
        latency_sum_us.fetch_add(static_cast<std::uint64_t>(d.count()), std::memory_order_relaxed);
    }
};

// What a webhook route answers.
struct WebhookReply {
    WebhookReply() = default;
    WebhookReply(int status_code, std::string type, std::string text)
        : status(status_code), content_type(std::move(type)), body(std::move(text)) {}

    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
};
// Runs a webhook request for connector instance `instance` (blocking; called on a worker
// thread, never an I/O thread). nullopt: no such instance (404).
using WebhookHandler = std::function<std::optional<WebhookReply>(
    const std::string& instance, const plugin_host::WebhookRequest& request)>;

// Answers /admin/... and /metrics (core/admin), on a worker thread like webhooks: it reads the
// store. The request's `path` is the whole path. Without one, those paths are 404.
using AdminHandler = std::function<WebhookReply(const plugin_host::WebhookRequest& request)>;

}  // namespace cdphub::server

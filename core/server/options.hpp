// Settings and counters of the ingest API server (hub.json "ingest_api", docs/ingest-api.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "plugin_host/connector.hpp"

namespace cdphub::server {

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8088;  // 0: any free port (tests); Server::port() tells which
    int threads = 2;             // I/O threads
    // Write key -> the source its events are filed under.
    std::map<std::string, std::string, std::less<>> write_keys;

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

// For /metrics later; all monotonic except the gauges computed on read.
struct Counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> events_accepted{0};
    std::atomic<std::uint64_t> bad_requests{0};   // 400 and 431
    std::atomic<std::uint64_t> unauthorized{0};   // 401
    std::atomic<std::uint64_t> throttled{0};      // 429
    std::atomic<std::uint64_t> server_errors{0};  // 5xx
    std::atomic<std::uint64_t> webhook_requests{0};
    std::atomic<std::uint64_t> connections{0};
};

// What a webhook route answers.
struct WebhookReply {
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
};
// Runs a webhook request for connector instance `instance` (blocking; called on a worker
// thread, never an I/O thread). nullopt: no such instance (404).
using WebhookHandler = std::function<std::optional<WebhookReply>(
    const std::string& instance, const plugin_host::WebhookRequest& request)>;

}  // namespace cdphub::server

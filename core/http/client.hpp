// The hub's HTTP client, the one every plugin uses through the SDK's host services.
//
// It owns libcurl so that plugins need no HTTP library: connection pooling and keep-alive, TLS,
// proxies (libcurl's usual environment variables), timeouts, a per-connector rate limit, retries
// of requests marked safe to repeat (honouring Retry-After, otherwise jittered exponential
// backoff), cancellation, and counters for metrics. One Client per connector instance, so one
// connector's limit never throttles another. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method = "GET";
    std::string url;
    Headers headers;
    std::string body;
    std::chrono::milliseconds timeout{0};  // 0: ClientOptions::timeout
    int max_attempts = 0;                  // 0: ClientOptions::max_attempts (only if retry_safe)
    bool retry_safe = false;               // may be repeated on 429/503/network errors
    bool rate_limited = true;              // counts against the client's rate limit
};

struct Response {
    long status = 0;
    Headers headers;  // in the order received, names as sent
    std::string body;
    int attempts = 1;  // how many times the request went out
    // Retry-After of a 429/503 answer (delta-seconds or HTTP-date), if present and parseable.
    std::optional<std::chrono::milliseconds> retry_after;

    // Case-insensitive lookup of the first header with this name; empty if absent.
    std::string_view header(std::string_view name) const;
};

enum class ErrorKind {
    network,      // connection refused/reset, DNS failure, TLS failure
    timeout,      // the request (or the wait for a rate-limit slot) took too long
    cancelled,    // Control::cancelled said stop
    bad_request,  // not a valid absolute http(s) URL or method; never sent
    too_large     // the answer exceeded ClientOptions::max_response_bytes: retrying cannot help
};

struct Error {
    ErrorKind kind;
    std::string message;  // says what failed and where (URL without query string)
    int attempts = 0;
};

// Either a response (any HTTP status) or an error.
class Result {
  public:
    Result(Response r) : response_(std::move(r)) {}
    Result(Error e) : error_(std::move(e)) {}
    bool ok() const { return response_.has_value(); }
    const Response& response() const { return *response_; }
    Response& response() { return *response_; }
    const Error& error() const { return *error_; }

  private:
    std::optional<Response> response_;
    std::optional<Error> error_;
};

struct RateLimit {
    int requests = 0;  // 0: unlimited
    std::chrono::milliseconds per{1000};
};

struct ClientOptions {
    std::chrono::milliseconds timeout{30'000};
    std::chrono::milliseconds connect_timeout{10'000};
    int max_attempts = 4;
    std::chrono::milliseconds backoff_base{500};
    std::chrono::milliseconds backoff_max{60'000};
    // A Retry-After longer than this is not waited for: the error goes back to the plugin.
    std::chrono::milliseconds max_retry_after{300'000};
    RateLimit rate_limit;
    std::string user_agent = "cdphub";
    size_t max_response_bytes = 256u << 20;
};

// What the caller can control per call: cancellation and how to wait (tests pass a fake clock).
struct Control {
    std::function<bool()> cancelled;  // may be empty
    // Waits up to d; returns false if cancelled meanwhile. Empty: a real, cancellable sleep.
    std::function<bool(std::chrono::milliseconds)> sleep;
};

struct Counters {
    std::atomic<uint64_t> requests{0};  // every attempt sent
    std::atomic<uint64_t> retries{0};   // attempts after the first
    std::atomic<uint64_t> status_2xx{0}, status_4xx{0}, status_429{0}, status_5xx{0};
    std::atomic<uint64_t> network_errors{0};
    std::atomic<uint64_t> rate_limit_waits{0};
    std::atomic<uint64_t> total_latency_us{0};
};

// Parses a Retry-After value (delta-seconds or IMF-fixdate) relative to `now`.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// The URL as it may appear in messages and logs: without userinfo, query string and fragment,
// any of which can carry credentials.
std::string redact_url(std::string_view url);

class Client {
  public:
    explicit Client(ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Result perform(const Request& request, const Control& control = {});

    const Counters& counters() const;
    const ClientOptions& options() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// libcurl's global init, once per process (call before threads start; idempotent).
void global_init();

}  // namespace cdphub::http

// A loopback HTTP/1.1 server for tests and vendor simulators.
//
// It listens on 127.0.0.1 on an ephemeral port, serves on its own thread(s) and stops in its
// destructor. A handler turns each parsed request into a response; the response can also ask for
// misbehaviour a real server shows (answer late, answer slowly, hang up without answering). Every
// request is recorded with the TCP connection that carried it, so tests can assert what was sent
// and whether connections were reused. Keep-alive works as in HTTP/1.1 (persistent unless either
// side says "Connection: close").
//
// Boost.Asio/Beast stay inside the .cpp, so users of this header need neither.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub::test {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method;
    std::string target;   // as sent: path and query
    HttpHeaders headers;  // in the order received, names as sent
    std::string body;
    uint64_t connection = 0;  // which accepted TCP connection carried it, counting from 1

    // Case-insensitive lookup of the first header with this name; empty if absent.
    std::string_view header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    std::string_view path() const;   // the target up to '?'
    std::string_view query() const;  // the target after '?', empty if none
};

struct HttpResponse {
    int status = 200;
    HttpHeaders headers;  // framing is added; a "Connection: close" here ends keep-alive
    std::string body;

    // Wait this long before answering; the connection stays open meanwhile.
    std::chrono::milliseconds delay{0};
    // Hang up (after `delay`) instead of answering, as a crashing or overloaded server would.
    bool close_without_answer = false;
    // A slow download: send the body in pieces of this many bytes, `chunk_interval` apart, after
    // the headers. 0: all at once.
    size_t chunk_bytes = 0;
    std::chrono::milliseconds chunk_interval{0};
    // Send the body with chunked transfer coding instead of a Content-Length, as streaming APIs
    // do: the client learns the size only at the end.
    bool chunked = false;

    static HttpResponse text(int status, std::string body, std::string content_type = "text/plain");
    static HttpResponse json(int status, std::string body);
};

// Called on a server thread for each request. With HttpTestServerOptions::threads > 1 it may be
// called concurrently. It must not block for long: the destructor waits for running handlers
// (use HttpResponse::delay to answer late). An exception becomes a 500 with its message.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpTestServerOptions {
    bool record_requests = true;  // off for simulators that serve many requests
    size_t threads = 1;
    size_t max_body_bytes = 64u << 20;  // larger request bodies get the connection closed
};

class HttpTestServer {
  public:
    // Without a handler every request gets an empty 200.
    explicit HttpTestServer(HttpHandler handler = {}, HttpTestServerOptions options = {});
    // Stops listening, drops every connection (pending delays included) and joins the threads.
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    uint16_t port() const;
    std::string base_url() const;                    // "http://127.0.0.1:<port>"
    std::string url(std::string_view target) const;  // base_url() + target, e.g. url("/v1/x")

    // Replaces the handler for requests that arrive from now on.
    void set_handler(HttpHandler handler);

    // The requests received so far, in order of arrival (empty unless record_requests).
    std::vector<HttpRequest> requests() const;
    void clear_requests();
    size_t request_count() const;     // every request handled, recorded or not
    size_t connection_count() const;  // every TCP connection accepted

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cdphub::test

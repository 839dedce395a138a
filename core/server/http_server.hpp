// The hub's HTTP server (Boost.Beast): the Segment-compatible tracking API, connector webhooks,
// and health checks. See docs/ingest-api.md.
//
//   POST /v1/batch, /v1/{identify,track,page,screen,group,alias}  -> inbox (200 once durable)
//   ANY  /webhooks/<instance>/...                                  -> that connector's receive()
//   ANY  /admin/..., GET /metrics                                  -> the admin handler
//   (core/admin) GET  /healthz (the process answers)   GET /readyz (accepting events)
//
// HTTP/1.1 keep-alive; requests on one connection are answered one at a time, in order, so
// pipelined requests get their responses in order. Headers and bodies are bounded, and a request
// must arrive within read_timeout.
#pragma once

#include <chrono>
#include <memory>

#include "server/inbox.hpp"
#include "server/options.hpp"

namespace cdphub::server {

class Server {
  public:
    // `inbox` and `counters` must outlive the server.
    Server(ServerOptions options, Inbox& inbox, Counters& counters, WebhookHandler webhooks = {},
           AdminHandler admin = {});
    // Stops (see stop()) if still running.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and starts the I/O threads. Throws std::runtime_error if the address cannot be bound.
    void start();
    // The bound port (after start()).
    unsigned short port() const;
    // Replaces the write keys (a SIGHUP reload): requests read from now on use the new set.
    void set_write_keys(WriteKeys keys);

    // Graceful stop: /readyz turns 503 and new connections are refused; requests already read
    // get their answers (waiting for their inbox commit) for up to `grace`; then the I/O threads
    // stop and the inbox is closed (everything queued is committed). Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace cdphub::server

// Drains the inbox, in order, through the ingest pipeline (normalize -> store or reject ->
// identity resolution), off the request path.
//
// Exactly once: each source's position in the inbox is its cursor in the profile store,
// committed in the same transaction as the records it covers ({"inbox": <inbox id>,
// "position": n}). After a crash the processor starts again after the lowest cursor and skips,
// per source, rows its cursor already covers. The store's (source, record_id) uniqueness
// de-duplicates messageIds on top of that, across requests and retries.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "server/inbox.hpp"
#include "store/profile_store.hpp"

namespace cdphub::server {

struct ProcessorOptions {
    std::size_t batch_rows = 2'000;  // inbox events read (and committed) at a time
    std::chrono::milliseconds idle_wait{200};
    std::chrono::milliseconds error_backoff{1'000};  // after a store error, before trying again
    // Added to the processor thread's nice value. Clients wait for the inbox commit, nobody waits
    // for processing: under load the I/O threads and the inbox writer get the cores first, the
    // processor catches up when they idle, and the backlog limit (429) bounds how far behind it
    // may fall. 0 keeps the process's priority.
    int nice = 10;
};

class Processor {
  public:
    // Told what each committed batch did (segment evaluation, metrics). Processor thread.
    using Listener = std::function<void(const std::string& source, const store::BatchResult&)>;

    Processor(Inbox& inbox, store::ProfileStore& store, const normalize::Normalizer& normalizer,
              const identity::Resolver& resolver, ProcessorOptions options = {},
              Listener listener = {});
    ~Processor();
    Processor(const Processor&) = delete;
    Processor& operator=(const Processor&) = delete;

    void start();
    // Stops the thread. With `drain`, first processes every row already committed to the inbox
    // (bounded by `deadline`); what remains is processed after the next start.
    void stop(bool drain, std::chrono::milliseconds deadline = std::chrono::seconds(30));

    // Processes what the inbox holds now, on the calling thread (tests, and stop(drain)).
    // Returns the number of rows handled. Throws store::StoreError.
    std::size_t process_available();

    std::uint64_t processed_events() const { return processed_events_.load(); }
    // Milliseconds between receiving the last processed event and processing it.
    std::int64_t lag_ms() const { return lag_ms_.load(); }

  private:
    void run();
    std::size_t step(std::chrono::milliseconds wait);
    std::int64_t cursor_of(const std::string& source);

    Inbox& inbox_;
    store::ProfileStore& store_;
    std::int64_t batch_received_ms_ = 0;  // what the ingestor's clock answers
    pipeline::Ingestor ingestor_;
    ProcessorOptions options_;
    Listener listener_;
    std::map<std::string, std::int64_t, std::less<>> cursors_;
    std::int64_t position_ = -1;  // last row handled; -1: not yet known

    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> processed_events_{0};
    std::atomic<std::int64_t> lag_ms_{0};
    std::thread thread_;
};

}  // namespace cdphub::server

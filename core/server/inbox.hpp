// The durable inbox: where accepted API events are written before the client gets its 200.
//
// Group commit: request threads hand their events to one writer thread through a bounded queue;
// the writer takes everything waiting, writes it in one SQLite transaction, and only then calls
// each request's completion. One commit (one fsync with durability "full") thus acknowledges many
// requests, which is what makes durable acknowledgement fast. A full queue is refused at once
// (the server answers 429) instead of growing without bound.
//
// The inbox is its own file (inbox.db in the data directory), not a table in the profile store:
// SQLite has one writer lock per file, and the processor's store transactions (normalize, store,
// identity resolution) hold it for milliseconds at a time; sharing it would put that latency on
// every acknowledgement. See docs/store.md#the-ingest-inbox for the schema.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace cdphub::server {

struct InboxOptions {
    store::Durability durability = store::Durability::full;
    std::size_t max_queued_events = 100'000;     // waiting for the writer
    std::size_t max_backlog_events = 1'000'000;  // written but not yet processed
    std::size_t max_events_per_commit = 20'000;
};

class Inbox {
  public:
    // One row. Either one tracking API request as received (`request` is its route, "batch"
    // or an event type; `record` its body, holding `events` events), converted to canonical
    // records by the processor; or, with `request` empty, canonical records: one (a JSON
    // object) or several (a JSON array). One row per request keeps a 100-event batch one
    // insert for the writer, and converting later keeps that work off the I/O threads.
    struct Entry {
        std::string source;  // the source (write key's name) the records are filed under
        std::string record;  // JSON text, see above
        std::int64_t received_at_ms = 0;
        std::size_t events = 1;
        std::string request;
    };
    // Positions count events: a row's position is that of its last event (the previous row's
    // plus its events), so positions minus the processed position is the backlog in events.
    struct Row {
        std::int64_t position = 0;
        std::string source;
        std::string record;
        std::int64_t received_at_ms = 0;
        std::string request;  // as Entry::request
    };
    // Called once per submit, on the writer thread: true when the events are committed.
    using Done = std::function<void(bool committed)>;
    enum class Admit { queued, full, closed };

    // Opens or creates the file and starts the writer. Throws store::StoreError.
    Inbox(const std::filesystem::path& path, InboxOptions options = {});
    ~Inbox();
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    // Queues the entries of one request; `done` runs after their commit. `full` when the queue or
    // the unprocessed backlog is at its limit; `closed` after close(). Thread-safe.
    Admit submit(std::vector<Entry> entries, Done done);

    // Stops taking new entries, commits everything queued, and stops the writer. Idempotent.
    void close();

    // A random id made when the file was created: positions are only meaningful with it.
    const std::string& id() const { return id_; }

    // For the processor (one thread): rows after `position`, oldest first, holding up to `limit`
    // events (at least one row, however many it holds). Waits up to `wait` for one to be
    // committed if there is none.
    std::vector<Row> read_after(std::int64_t position, std::size_t limit,
                                std::chrono::milliseconds wait);
    // Rows up to `position` are processed: the writer deletes them in a later commit, and they
    // no longer count towards the backlog.
    void processed_through(std::int64_t position);

    std::int64_t last_position() const { return last_position_.load(); }
    std::int64_t processed_position() const { return processed_.load(); }
    std::size_t queued_events() const;
    std::uint64_t commits() const { return commits_.load(); }
    std::uint64_t commit_failures() const { return commit_failures_.load(); }

  private:
    struct Pending {
        std::vector<Entry> entries;
        std::size_t events = 0;
        Done done;
    };
    void run();
    // Commits `work`; returns the last position written, nullopt if the commit failed.
    std::optional<std::int64_t> write(std::deque<Pending>& work, std::int64_t prune_through);

    InboxOptions options_;
    SQLite::Database writer_db_;  // the writer thread's connection
    SQLite::Database reader_db_;  // the processor's connection
    // The writer's INSERT, prepared once (writer thread only; dropped after a failed commit).
    std::optional<SQLite::Statement> insert_;
    std::string id_;

    mutable std::mutex mu_;
    std::condition_variable wake_writer_;
    std::condition_variable committed_;
    std::deque<Pending> queue_;
    std::size_t queued_events_ = 0;
    bool closing_ = false;
    std::int64_t pruned_ = 0;

    std::atomic<std::int64_t> last_position_{0};
    std::atomic<std::int64_t> processed_{0};
    std::atomic<std::uint64_t> commits_{0}, commit_failures_{0};
    std::thread writer_;
};

}  // namespace cdphub::server

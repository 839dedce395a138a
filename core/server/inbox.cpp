#include "server/inbox.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <array>
#include <cstdio>
#include <random>

#include "common/thread_name.hpp"
#include "logging/logging.hpp"

namespace cdphub::server {

namespace {

// The inbox file's own migrations (it is not the profile store; see docs/store.md).
const std::array<store::Migration, 2>& inbox_migrations() {
    static const std::array<store::Migration, 2> m = {{
        {1, "inbox",
         [](SQLite::Database& db) {
             // AUTOINCREMENT: positions never go back, even after every row has been pruned,
             // because the processor's cursors compare against them.
             db.exec(R"sql(
CREATE TABLE inbox (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    record      TEXT    NOT NULL
);
CREATE TABLE inbox_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql");
             std::random_device rd;
             char id[40];
             std::snprintf(id, sizeof id, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
             SQLite::Statement st(db, "INSERT INTO inbox_meta (key, value) VALUES ('id', ?)");
             st.bind(1, std::string(id));
             st.exec();
         }},
        {2, "inbox requests",
         [](SQLite::Database& db) {
             // NULL: `record` holds canonical records, as every row before this migration.
             db.exec("ALTER TABLE inbox ADD COLUMN request TEXT");
         }},
    }};
    return m;
}

SQLite::Database open_inbox(const std::filesystem::path& path, const InboxOptions& options) {
    store::DatabaseOptions o;
    o.durability = options.durability;
    return store::open_database(path, o, inbox_migrations());
}

}  // namespace

Inbox::Inbox(const std::filesystem::path& path, InboxOptions options)
    : options_(options),
      writer_db_(open_inbox(path, options)),
      reader_db_(open_inbox(path, options)) {
    try {
        id_ = writer_db_.execAndGet("SELECT value FROM inbox_meta WHERE key = 'id'").getString();
        // The next position is at least max(seq), even if all rows were pruned.
        SQLite::Statement seq(writer_db_,
                              "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = "
                              "'inbox'), 0), (SELECT MIN(position) FROM inbox)");
        seq.executeStep();
        last_position_ = seq.getColumn(0).getInt64();
        // Until the processor says otherwise, everything still in the file is unprocessed.
        processed_ =
            seq.getColumn(1).isNull() ? last_position_.load() : seq.getColumn(1).getInt64() - 1;
        pruned_ = processed_;
    } catch (...) {
        store::rethrow_as_store_error("reading the inbox " + path.string());
    }
    writer_ = std::thread([this] { run(); });
}

Inbox::~Inbox() {
    close();
}

Inbox::Admit Inbox::submit(std::vector<Entry> entries, Done done) {
    std::size_t n = 0;
    for (const auto& e : entries) n += e.events;
    {
        std::lock_guard lock(mu_);
        if (closing_) return Admit::closed;
        const auto backlog = static_cast<std::size_t>(last_position_.load() - processed_.load());
        if (queued_events_ + n > options_.max_queued_events && queued_events_ > 0)
            return Admit::full;
        if (backlog + queued_events_ + n > options_.max_backlog_events && backlog > 0)
            return Admit::full;
        queued_events_ += n;
        queue_.push_back({std::move(entries), n, std::move(done)});
    }
    wake_writer_.notify_one();
    return Admit::queued;
}

void Inbox::close() {
    {
        std::lock_guard lock(mu_);
        closing_ = true;
    }
    wake_writer_.notify_one();
    if (writer_.joinable()) writer_.join();
    committed_.notify_all();
}

std::size_t Inbox::queued_events() const {
    std::lock_guard lock(mu_);
    return queued_events_;
}

void Inbox::processed_through(std::int64_t position) {
    std::int64_t prev = processed_.load();
    while (position > prev && !processed_.compare_exchange_weak(prev, position)) {
    }
    wake_writer_.notify_one();  // so that pruning happens even when no events arrive
}

void Inbox::run() {
    name_this_thread("inbox-writer");
    auto log = logging::get("inbox");
    std::unique_lock lock(mu_);
    for (;;) {
        wake_writer_.wait(lock, [&] {
            return closing_ || !queue_.empty() || processed_.load() > pruned_ + 1000;
        });
        if (queue_.empty() && closing_) return;
        // Take as many waiting requests as fit one commit (at least one, however large).
        std::deque<Pending> work;
        std::size_t events = 0;
        while (!queue_.empty() &&
               (work.empty() || events + queue_.front().events <= options_.max_events_per_commit)) {
            events += queue_.front().events;
            work.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        const std::int64_t prune = processed_.load();
        lock.unlock();
        const auto committed_through = write(work, prune);
        const bool ok = committed_through.has_value();
        if (!ok) log->error("the inbox could not commit {} events; their requests get 503", events);
        lock.lock();
        // The events leave the queue and join the backlog in one step, under the lock submit()
        // reads both under: in between, an admission counted them twice and could answer 429
        // with room to spare. Only then are the clients answered.
        if (ok) {
            last_position_ = *committed_through;
            pruned_ = std::max(pruned_, prune);
        }
        queued_events_ -= events;
        lock.unlock();
        committed_.notify_all();
        for (auto& p : work) p.done(ok);
        lock.lock();
    }
}

std::optional<std::int64_t> Inbox::write(std::deque<Pending>& work, std::int64_t prune_through) {
    try {
        SQLite::Transaction tx(writer_db_, SQLite::TransactionBehavior::IMMEDIATE);
        // Only this thread advances last_position_ (run(), after the commit).
        std::int64_t last = last_position_.load();
        if (!work.empty() && !insert_) {
            insert_.emplace(writer_db_,
                            "INSERT INTO inbox (position, source, received_at, record, request) "
                            "VALUES (?, ?, ?, ?, ?)");
        }
        for (const auto& p : work) {
            for (const auto& e : p.entries) {
                last += static_cast<std::int64_t>(e.events);
                insert_->bind(1, static_cast<int64_t>(last));
                insert_->bind(2, e.source);
                insert_->bind(3, static_cast<int64_t>(e.received_at_ms));
                insert_->bindNoCopy(4, e.record);
                if (e.request.empty())
                    insert_->bind(5);  // NULL
                else
                    insert_->bindNoCopy(5, e.request);
                insert_->exec();
                insert_->reset();
            }
        }
        if (prune_through > pruned_) {
            SQLite::Statement del(writer_db_, "DELETE FROM inbox WHERE position <= ?");
            del.bind(1, static_cast<int64_t>(prune_through));
            del.exec();
        }
        tx.commit();
        ++commits_;
        return last;
    } catch (const std::exception&) {
        insert_.reset();  // its state after the failure is unknown: prepare it afresh
        ++commit_failures_;
        return std::nullopt;
    }
}

std::vector<Inbox::Row> Inbox::read_after(std::int64_t position, std::size_t limit,
                                          std::chrono::milliseconds wait) {
    {
        std::unique_lock lock(mu_);
        committed_.wait_for(lock, wait,
                            [&] { return last_position_.load() > position || closing_; });
    }
    std::vector<Row> rows;
    try {
        // Rows after `position` are contiguous in positions (each starts where the previous
        // ended), so a position range bounds the events; the first row comes in any case.
        SQLite::Statement st(reader_db_,
                             "SELECT position, source, received_at, record, request FROM inbox "
                             "WHERE position > ?1 AND (position <= ?1 + ?2 OR position = "
                             "(SELECT MIN(position) FROM inbox WHERE position > ?1)) "
                             "ORDER BY position");
        st.bind(1, static_cast<int64_t>(position));
        st.bind(2, static_cast<int64_t>(limit));
        while (st.executeStep()) {
            rows.push_back(
                {st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                 st.getColumn(3).getString(), st.getColumn(2).getInt64(),
                 st.getColumn(4).isNull() ? std::string() : st.getColumn(4).getString()});
        }
    } catch (...) {
        store::rethrow_as_store_error("reading the inbox");
    }
    return rows;
}

}  // namespace cdphub::server

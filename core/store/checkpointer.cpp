#include "store/checkpointer.hpp"

#include <sqlite3.h>

#include "common/thread_name.hpp"

namespace cdphub::store {

BackgroundCheckpointer::BackgroundCheckpointer(SQLite::Database& writer,
                                               const std::filesystem::path& path,
                                               CheckpointerOptions options)
    : writer_(writer.getHandle()),
      options_(options),
      connection_(std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE)) {
    // A connection that has not read the file yet does not know it is in WAL mode, and its
    // checkpoints silently do nothing.
    connection_->execAndGet("SELECT count(*) FROM sqlite_schema");
    thread_ = std::thread([this] { run(); });
    // From here on the writer's commits call on_commit instead of checkpointing themselves.
    sqlite3_wal_hook(writer_, &BackgroundCheckpointer::on_commit, this);
}

BackgroundCheckpointer::~BackgroundCheckpointer() {
    // Replaces on_commit with SQLite's own hook, at SQLite's default threshold, before `this`
    // goes.
    sqlite3_wal_autocheckpoint(writer_, 1000);
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    idle_.notify_all();
    thread_.join();
}

// Runs on the writer's thread right after a commit, with the writer's connection locked: only
// signal, unless the log is past the hard limit.
int BackgroundCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
    auto* c = static_cast<BackgroundCheckpointer*>(self);
    if (pages >= c->options_.writer_pages) {
        // What autocheckpoint did; SQLITE_BUSY (a reader or the thread is at it) is no failure.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        c->by_writer_.fetch_add(1);
    } else if (pages >= c->options_.wake_pages) {
        {
            std::lock_guard lock(c->mutex_);
            c->due_ = true;
        }
        c->wake_.notify_one();
    }
    return SQLITE_OK;
}

void BackgroundCheckpointer::wait_until_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return (!due_ && !running_) || stop_; });
}

void BackgroundCheckpointer::run() {
    name_this_thread("store-ckpt");
    sqlite3* db = connection_->getHandle();
    std::unique_lock lock(mutex_);
    for (;;) {
        running_ = false;
        idle_.notify_all();
        wake_.wait(lock, [this] { return due_ || stop_; });
        if (stop_) return;
        due_ = false;
        running_ = true;
        lock.unlock();
        // PASSIVE copies what no reader still needs and returns; what it could not copy waits
        // for the next wake-up. Errors (busy, I/O) leave the log as it is: the writer's hard
        // limit still bounds it, and the next commit tries again.
        if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
            SQLITE_OK)
            background_.fetch_add(1);
        lock.lock();
    }
}

}  // namespace cdphub::store

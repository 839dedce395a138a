// Moves a writing connection's WAL checkpoints to a thread of their own.
//
// In WAL mode every commit appends pages to the log, and by default the committing thread then
// copies the log back into the database file once it holds 1,000 pages (SQLite's
// autocheckpoint). For the hub's single writer (the import, the real-time processor) that copy
// was about a tenth of the thread's time. SQLite lets another connection checkpoint while the
// writer goes on appending, so the writer only signals this thread, which checkpoints PASSIVE
// (never waiting for readers or the writer). If the log still grows past a hard limit (the
// thread cannot keep up, or readers pin it), the writer checkpoints itself, as before, so the
// log stays bounded.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

struct sqlite3;

namespace cdphub::store {

struct CheckpointerOptions {
    // Log size, in pages, at which a commit wakes the checkpoint thread (SQLite's default
    // autocheckpoint threshold).
    int wake_pages = 1000;
    // Log size at which the writer checkpoints itself after a commit (about 80 MB of 4 KiB pages).
    int writer_pages = 20000;
};

class BackgroundCheckpointer {
  public:
    // `writer` must stay open for this object's lifetime; `path` is its database file, which the
    // thread opens a connection of its own to. Throws SQLite::Exception if it cannot.
    BackgroundCheckpointer(SQLite::Database& writer, const std::filesystem::path& path,
                           CheckpointerOptions options = {});
    // Hands checkpoints back to the writer (SQLite's autocheckpoint) and stops the thread.
    ~BackgroundCheckpointer();
    BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
    BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;

    // Returns once the thread has no checkpoint to do or running: everything committed before the
    // call has been checkpointed as far as readers allowed.
    void wait_until_idle();

    // Checkpoints run by the thread, and by the writer past the hard limit (for tests and status).
    std::int64_t background_checkpoints() const { return background_.load(); }
    std::int64_t writer_checkpoints() const { return by_writer_.load(); }

  private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
    void run();

    sqlite3* writer_;
    CheckpointerOptions options_;
    std::unique_ptr<SQLite::Database> connection_;  // used by the thread only, once started
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    bool due_ = false;
    bool running_ = false;
    bool stop_ = false;
    std::atomic<std::int64_t> background_{0};
    std::atomic<std::int64_t> by_writer_{0};
    std::thread thread_;
};

}  // namespace cdphub::store

// Prepared statements kept for one connection, by SQL text. For SQL that runs on every
// real-time batch but is built at run time (an activation diff's payload depends on the
// binding's mapping), so it cannot be a prepared member like the store's fixed statements.
// Preparing the diff's twenty-odd statements again on each batch was a tenth of the real-time
// processor's time. Not thread-safe: used under the store's lock, like its connection.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

namespace cdphub::store {

class StatementCache {
  public:
    // Beyond `capacity` distinct statements trim() starts over, so that SQL built from changing
    // definitions cannot grow the cache without bound.
    explicit StatementCache(SQLite::Database& db, std::size_t capacity = 128)
        : db_(db), capacity_(capacity) {}
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;

    // The statement for `sql`, reset and with its parameters cleared; prepared on first use.
    // Valid until release(). Throws SQLite::Exception.
    SQLite::Statement& get(const std::string& sql);
    // Resets every statement, since one left in the middle of its rows would keep its read
    // snapshot and stop checkpoints; then drops them all if there are more than `capacity`.
    // Only where no reference from get() is still in use: at the end of a store call.
    void release();

    std::size_t size() const { return statements_.size(); }

  private:
    SQLite::Database& db_;
    std::size_t capacity_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

}  // namespace cdphub::store

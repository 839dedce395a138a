#include "store/statement_cache.hpp"

namespace cdphub::store {

SQLite::Statement& StatementCache::get(const std::string& sql) {
    if (auto it = statements_.find(sql); it != statements_.end()) {
        // A statement an error or a rollback left behind reports that error again on reset:
        // it is stale, not a new failure.
        it->second->tryReset();
        it->second->clearBindings();
        return *it->second;
    }
    auto prepared = std::make_unique<SQLite::Statement>(db_, sql);
    return *statements_.emplace(sql, std::move(prepared)).first->second;
}

void StatementCache::release() {
    for (auto& [sql, statement] : statements_) statement->tryReset();
    if (statements_.size() > capacity_) statements_.clear();
}

}  // namespace cdphub::store

// The SQLite side of segments: running compiled segment SQL on a store connection, and loading
// one profile's snapshot from the store's tables (docs/store.md, schema version 2) for real-time
// evaluation. SQLite-specific; the language itself (ast, parser, evaluator, sql_compiler) is not.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <vector>

#include "profile/snapshot.hpp"
#include "segment/sql_compiler.hpp"

namespace cdphub::segment {

// Registers the SQL functions compiled segments use (cdphub_sum) on this connection. Idempotent;
// run_segment_sql calls it. Also useful to run compiled SQL by hand in a tool that embeds SQLite.
void register_sql_functions(SQLite::Database& db);

// The ids of the live profiles the compiled segment selects, ascending. Throws SQLite::Exception
// on database errors.
std::vector<profile::ProfileId> run_segment_sql(SQLite::Database& db, const CompiledSql& compiled);

// Everything segments and activation mappings read about one profile: traits (values typed by
// their kind), identifiers (sorted per type), consents, events and orders (by occurred_at, then
// id). Reads the profile row as it is (no merged_into redirection). Throws std::out_of_range if
// there is no such profile, SQLite::Exception on database errors.
profile::ProfileSnapshot load_snapshot(SQLite::Database& db, profile::ProfileId id);

// load_snapshot for many profiles on one connection: the six queries are prepared once, not per
// profile (preparing them cost real-time evaluation more than running them). Lives no longer
// than the connection.
class SnapshotLoader {
  public:
    explicit SnapshotLoader(SQLite::Database& db);
    profile::ProfileSnapshot load(profile::ProfileId id);

  private:
    SQLite::Statement profile_, traits_, identifiers_, consents_, events_, orders_;
};

}  // namespace cdphub::segment

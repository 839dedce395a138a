#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "cli/commands.hpp"
#include "pipeline/ingest.hpp"

namespace cdphub::cli {

struct Engine;

struct ImportOptions {
    std::filesystem::path file;
    std::string source;  // the connector instance (or any name) the records are filed under
    std::size_t batch_size = 5000;
    bool evaluate_segments = true;  // full segment evaluation after the import
};

// What an import committed, for its summary.
struct ImportTotals {
    // Computed traits are materialized per changed profile up to this many profiles.
    static constexpr std::size_t kRealtimeLimit = 50000;
    std::uint64_t inserted = 0, duplicates = 0, rejected = 0, rejected_dup = 0;
    std::map<std::string, std::uint64_t> reasons;  // rejection reason code -> count
    std::set<store::ProfileId> changed;

    void add(const pipeline::PreparedBatch& prepared, const store::BatchResult& result);
    std::uint64_t records() const { return inserted + duplicates + rejected + rejected_dup; }
};

// NDJSON of canonical records, or (FILE.csv) CSV through the csv-file instance --source names.
int cmd_import(const GlobalOptions& g, const ImportOptions& o);
int cmd_import_csv(const GlobalOptions& g, const ImportOptions& o);
bool is_csv(const std::filesystem::path& file);

// Evaluates segments and prints the summary; returns the exit code.
int report_import(Engine& engine, const ImportOptions& o, const ImportTotals& t, double secs);

}  // namespace cdphub::cli

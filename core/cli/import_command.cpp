// cdphub import FILE --source ID: streams canonical NDJSON into the store through the full
// pipeline (normalize, store, resolve), with a progress bar on a terminal and a summary. A .csv
// FILE goes through the csv-file connector instance named by --source (import_csv.cpp).
#include <unistd.h>

#include <cdphub/json_depth.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli/engine.hpp"
#include "cli/import_command.hpp"
#include "cli/progress.hpp"

namespace cdphub::cli {

int cmd_import(const GlobalOptions& g, const ImportOptions& o) {
    if (is_csv(o.file)) return cmd_import_csv(g, o);
    auto engine = open_engine(g);
    if (!engine) return kProblems;
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
        std::cerr << "cdphub import: cannot read " << o.file << "\n";
        return kProblems;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(o.file, ec);
    ProgressBar bar(ec ? 0 : size);
    const auto start = Clock::now();

    std::uint64_t lines = 0;
    ImportTotals t;
    std::uintmax_t bytes = 0;
    // Reading and normalizing the next batch overlaps with committing this one: the store's
    // writer is one thread, normalization is the other core's work.
    auto read_batch = [&]() {
        nlohmann::json batch = nlohmann::json::array();
        std::string line;
        while (batch.size() < o.batch_size && std::getline(in, line)) {
            ++lines;
            bytes += line.size() + 1;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            if (json_text::exceeds_depth(line)) {
                // Parsed, it would overflow the stack of everything that walks it.
                batch.push_back({{"_raw", line},
                                 {"_error", "JSON nested deeper than " +
                                                std::to_string(json_text::kMaxDepth) + " levels"},
                                 {"_file", o.file.string()},
                                 {"_line", lines}});
                continue;
            }
            try {
                batch.push_back(nlohmann::json::parse(line));
            } catch (const nlohmann::json::parse_error& e) {
                // Unreadable lines go to the rejected store with where they were.
                batch.push_back({{"_raw", line},
                                 {"_error", std::string("not JSON: ") + e.what()},
                                 {"_file", o.file.string()},
                                 {"_line", lines}});
            }
        }
        return batch;
    };
    auto prepare = [&](nlohmann::json batch) { return engine->ingestor->prepare(o.source, batch); };
    auto next = std::async(std::launch::async, [&] { return prepare(read_batch()); });
    // A committed batch is freed by the reading thread, not the committing one: thousands of
    // JSON trees take a few percent of the import's time to free.
    std::shared_ptr<pipeline::PreparedBatch> committed;
    try {
        for (;;) {
            auto prepared = std::make_shared<pipeline::PreparedBatch>(next.get());
            if (prepared->batch.accepted.empty() && prepared->batch.rejected.empty()) break;
            next = std::async(std::launch::async, [&, done = std::move(committed)]() mutable {
                done.reset();
                return prepare(read_batch());
            });
            t.add(*prepared, engine->ingestor->commit(*prepared));
            committed = std::move(prepared);
            bar.update(bytes, t.records());
        }
    } catch (const std::exception& e) {
        bar.finish();
        std::cerr << "cdphub import: stopped after " << thousands(t.inserted)
                  << " new records: " << e.what()
                  << "\nEverything committed before the error is kept; importing the file again "
                     "skips it.\n";
        return kProblems;
    }
    bar.update(bytes, t.records(), true);
    bar.finish();
    return report_import(*engine, o, t,
                         std::chrono::duration<double>(Clock::now() - start).count());
}

void ImportTotals::add(const pipeline::PreparedBatch& prepared, const store::BatchResult& result) {
    for (const auto& r : prepared.batch.rejected) ++reasons[r.reason_code];
    if (changed.size() <= kRealtimeLimit)
        changed.insert(result.changed_profiles.begin(), result.changed_profiles.end());
    inserted += result.inserted;
    duplicates += result.duplicates;
    rejected += result.rejected;
    rejected_dup += result.rejected_duplicates;
}

bool is_csv(const std::filesystem::path& file) {
    auto ext = file.extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == ".csv";
}

int report_import(Engine& e, const ImportOptions& o, const ImportTotals& t, double secs) {
    auto* engine = &e;
    const auto inserted = t.inserted, duplicates = t.duplicates, rejected = t.rejected,
               rejected_dup = t.rejected_dup;
    const auto& reasons = t.reasons;
    const auto& changed = t.changed;

    std::map<std::string, store::MembershipDelta> deltas;
    if (o.evaluate_segments) {
        // Computed traits are materialized per changed profile (the real-time path); a bulk
        // import beyond the limit leaves that to the daemon and segments compute them anyway.
        if (changed.size() <= ImportTotals::kRealtimeLimit)
            engine->segments->on_changed({changed.begin(), changed.end()}, now_text());
        deltas = engine->segments->evaluate_all(now_text());
    }
    auto counts = engine->store->profile_counts();

    std::cout << "Imported " << o.file.string() << " as source '" << o.source << "' in "
              << static_cast<int>(secs * 10) / 10.0 << " s\n"
              << "  records stored     " << thousands(inserted) << "\n"
              << "  already stored     " << thousands(duplicates) << " (same source + record_id)\n"
              << "  rejected           " << thousands(rejected + rejected_dup);
    if (rejected_dup) std::cout << " (" << thousands(rejected_dup) << " seen before)";
    std::cout << "\n";
    for (const auto& [code, n] : reasons)
        std::cout << "    " << code << ": " << thousands(n) << "\n";
    std::cout << "  rate               "
              << thousands(static_cast<std::uint64_t>(
                     static_cast<double>(inserted + duplicates + rejected + rejected_dup) /
                     std::max(secs, 1e-9)))
              << " records/s\n"
              << "Profiles now: " << thousands(static_cast<std::uint64_t>(counts.live)) << " ("
              << thousands(static_cast<std::uint64_t>(counts.merges)) << " merges, "
              << thousands(static_cast<std::uint64_t>(counts.unresolved_records))
              << " records with only placeholder identifiers)\n";
    for (const auto& [name, d] : deltas)
        std::cout << "Segment " << name << ": "
                  << thousands(static_cast<std::uint64_t>(d.members.value_or(0))) << " members (+"
                  << d.entered << " -" << d.exited << ")\n";
    std::cout << "Store: " << engine->db_path.string() << "\n";
    if (rejected)
        std::cout << "See why records were rejected: cdphub rejected --source " << o.source << "\n";
    return kOk;
}

}  // namespace cdphub::cli

// cdphub import FILE --source ID: streams canonical NDJSON into the store through the full
// pipeline (normalize, store, resolve), with a progress bar on a terminal and a summary.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <set>

#include "cli/engine.hpp"
#include "cli/import_command.hpp"

namespace cdphub::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string thousands(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// A one-line bar redrawn in place on stderr; only when stderr is a terminal, so logs and CI
// output stay clean.
class ProgressBar {
  public:
    explicit ProgressBar(std::uintmax_t total) : total_(total), tty_(::isatty(2) == 1) {}
    void update(std::uintmax_t done, std::uint64_t records, bool force = false) {
        if (!tty_) return;
        auto now = Clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        double secs = std::chrono::duration<double>(now - start_).count();
        double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
        int filled = static_cast<int>(frac * 30);
        double rate = secs > 0 ? static_cast<double>(records) / secs : 0;
        double eta = frac > 0 ? secs / frac - secs : 0;
        std::fprintf(stderr, "\r[%s%s] %3d%%  %s records  %s rec/s  ETA %ds ",
                     std::string(static_cast<size_t>(filled), '#').c_str(),
                     std::string(static_cast<size_t>(30 - filled), '.').c_str(),
                     static_cast<int>(frac * 100), thousands(records).c_str(),
                     thousands(static_cast<std::uint64_t>(rate)).c_str(), static_cast<int>(eta));
        std::fflush(stderr);
    }
    void finish() {
        if (tty_) std::fprintf(stderr, "\n");
    }

  private:
    std::uintmax_t total_;
    bool tty_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_{};
};

}  // namespace

int cmd_import(const GlobalOptions& g, const ImportOptions& o) {
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

    std::uint64_t lines = 0, inserted = 0, duplicates = 0, rejected = 0, rejected_dup = 0;
    std::map<std::string, std::uint64_t> reasons;
    std::set<store::ProfileId> changed;  // for computed traits, up to kRealtimeLimit profiles
    constexpr std::size_t kRealtimeLimit = 50000;
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
    try {
        for (;;) {
            auto prepared = next.get();
            if (prepared.batch.accepted.empty() && prepared.batch.rejected.empty()) break;
            next = std::async(std::launch::async, [&] { return prepare(read_batch()); });
            for (const auto& r : prepared.batch.rejected) ++reasons[r.reason_code];
            auto result = engine->ingestor->commit(prepared);
            if (changed.size() <= kRealtimeLimit)
                changed.insert(result.changed_profiles.begin(), result.changed_profiles.end());
            inserted += result.inserted;
            duplicates += result.duplicates;
            rejected += result.rejected;
            rejected_dup += result.rejected_duplicates;
            bar.update(bytes, inserted + duplicates + rejected + rejected_dup);
        }
    } catch (const std::exception& e) {
        bar.finish();
        std::cerr << "cdphub import: stopped after " << thousands(inserted)
                  << " new records: " << e.what()
                  << "\nEverything committed before the error is kept; importing the file again "
                     "skips it.\n";
        return kProblems;
    }
    bar.update(bytes, inserted + duplicates + rejected + rejected_dup, true);
    bar.finish();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();

    std::map<std::string, store::MembershipDelta> deltas;
    if (o.evaluate_segments) {
        // Computed traits are materialized per changed profile (the real-time path); a bulk
        // import beyond the limit leaves that to the daemon and segments compute them anyway.
        if (changed.size() <= kRealtimeLimit)
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
        std::cout << "Segment " << name << ": " << thousands(static_cast<std::uint64_t>(d.members))
                  << " members (+" << d.entered << " -" << d.exited << ")\n";
    std::cout << "Store: " << engine->db_path.string() << "\n";
    if (rejected)
        std::cout << "See why records were rejected: cdphub rejected --source " << o.source << "\n";
    return kOk;
}

}  // namespace cdphub::cli

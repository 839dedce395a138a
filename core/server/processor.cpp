#include "server/processor.hpp"

#include <cdphub/json_depth.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/thread_name.hpp"
#include "logging/logging.hpp"
#include "server/tracking_api.hpp"

namespace cdphub::server {

using nlohmann::json;

Processor::Processor(Inbox& inbox, store::ProfileStore& store,
                     const normalize::Normalizer& normalizer, const identity::Resolver& resolver,
                     ProcessorOptions options, Listener listener)
    : inbox_(inbox),
      store_(store),
      // received_at of stored records is when the API received the events, not when they were
      // processed: the clock answers the newest arrival time of the batch being processed.
      ingestor_(store, normalizer, resolver,
                [this] {
                    return std::chrono::system_clock::time_point(
                        std::chrono::milliseconds(batch_received_ms_));
                }),
      options_(options),
      listener_(std::move(listener)) {}

Processor::~Processor() {
    stop(false);
}

void Processor::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { run(); });
}

void Processor::stop(bool drain, std::chrono::milliseconds deadline) {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (!drain) return;
    const auto until = std::chrono::steady_clock::now() + deadline;
    try {
        while (std::chrono::steady_clock::now() < until && step(std::chrono::milliseconds(0)) > 0) {
        }
    } catch (const std::exception& e) {
        logging::get("ingest-api")
            ->error("draining the inbox stopped: {}; the rest is processed at the next start",
                    e.what());
    }
}

std::int64_t Processor::cursor_of(const std::string& source) {
    auto it = cursors_.find(source);
    if (it != cursors_.end()) return it->second;
    std::int64_t position = 0;
    if (auto text = store_.cursor(source)) {
        auto c = json::parse(*text, nullptr, false);
        // A cursor from another inbox file (deleted, or replaced) says nothing about this one.
        if (c.is_object() && c.value("inbox", "") == inbox_.id())
            position = c.value("position", std::int64_t{0});
    }
    cursors_.emplace(source, position);
    return position;
}

std::size_t Processor::process_available() {
    std::size_t total = 0;
    while (std::size_t n = step(std::chrono::milliseconds(0))) total += n;
    return total;
}

std::size_t Processor::step(std::chrono::milliseconds wait) {
    if (position_ < 0) position_ = inbox_.processed_position();
    auto rows = inbox_.read_after(position_, options_.batch_rows, wait);
    if (rows.empty()) return 0;
    const std::int64_t end = rows.back().position;

    // One store transaction per source present in the batch, rows in inbox order.
    std::map<std::string, std::vector<const Inbox::Row*>, std::less<>> by_source;
    for (const auto& r : rows) by_source[r.source].push_back(&r);
    for (const auto& [source, list] : by_source) {
        const std::int64_t done = cursor_of(source);
        json records = json::array();
        std::int64_t newest = 0;
        for (const auto* r : list) {
            if (r->position <= done) continue;  // committed before a crash
            if (!r->request.empty()) {          // a request as received (Inbox::Entry)
                for (auto& record : canonical_records(r->request, r->record, r->received_at_ms))
                    records.push_back(std::move(record));
                newest = std::max(newest, r->received_at_ms);
                continue;
            }
            // Kept as text (the normalizer rejects it with the text as its raw record) if it does
            // not parse or nests too deep to handle.
            auto parsed = json_text::exceeds_depth(r->record)
                              ? json(json::value_t::discarded)
                              : json::parse(r->record, nullptr, false);
            if (parsed.is_array()) {  // several canonical records (Inbox::Entry)
                for (auto& record : parsed) records.push_back(std::move(record));
            } else {
                records.push_back(parsed.is_discarded() ? json(r->record) : std::move(parsed));
            }
            newest = std::max(newest, r->received_at_ms);
        }
        if (records.empty()) continue;
        batch_received_ms_ = newest;
        const json cursor = {{"inbox", inbox_.id()}, {"position", end}};
        auto result = ingestor_.ingest(source, records, cursor.dump());
        cursors_[source] = end;
        processed_events_ += records.size();
        if (listener_) listener_(source, result);
    }
    position_ = end;
    inbox_.processed_through(end);
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    lag_ms_ = std::max<std::int64_t>(0, now_ms - rows.back().received_at_ms);
    return rows.size();
}

void Processor::run() {
    name_this_thread("processor");
    auto log = logging::get("ingest-api");
    if (options_.nice > 0) {
        // Linux: a thread id is a valid PRIO_PROCESS target and changes only this thread.
        // Failing (a sandbox refusing it) only costs ingest throughput, never correctness.
        const auto tid = static_cast<id_t>(::gettid());
        errno = 0;
        const int current = ::getpriority(PRIO_PROCESS, tid);
        if (errno != 0 || ::setpriority(PRIO_PROCESS, tid, current + options_.nice) != 0)
            log->warn("could not lower the processor's priority: {}", std::strerror(errno));
    }
    while (!stop_) {
        try {
            step(options_.idle_wait);
        } catch (const std::exception& e) {
            // The store is busy, full or failing: nothing was committed for the failed source,
            // so trying the same rows again later loses nothing.
            log->error("processing the inbox failed: {}; retrying in {} ms", e.what(),
                       options_.error_backoff.count());
            cursors_.clear();
            for (auto waited = std::chrono::milliseconds(0);
                 !stop_ && waited < options_.error_backoff; waited += std::chrono::milliseconds(50))
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

}  // namespace cdphub::server

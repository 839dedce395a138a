#include "cli/source_sync.hpp"

#include "logging/logging.hpp"
#include "secrets/secrets.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::cli {
namespace {

// Counts what each committed batch did, on top of the pipeline's sink.
class CountingSink final : public plugin_host::RecordSink {
  public:
    CountingSink(pipeline::Ingestor& ingestor, std::string source)
        : inner_(ingestor, std::move(source)) {}
    std::string cursor() override { return inner_.cursor(); }
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override {
        auto st = inner_.commit(std::move(records), std::move(cursor));
        if (!st.ok()) return st;
        const auto& r = inner_.last_result();
        ++result.batches;
        result.inserted += r.inserted;
        result.duplicates += r.duplicates;
        result.rejected += r.rejected + r.rejected_duplicates;
        changed.insert(r.changed_profiles.begin(), r.changed_profiles.end());
        return st;
    }

    SourceSyncResult result;
    std::set<store::ProfileId> changed;

  private:
    pipeline::IngestSink inner_;
};

}  // namespace

SourceSyncResult sync_source(plugin_host::Connector& connector, Engine& engine,
                             std::mutex* segments_mu, std::string_view trigger) {
    const auto started_at = now_text();
    CountingSink sink(*engine.ingestor, connector.id());
    sink.result.cursor_before = sink.cursor();
    auto r = connector.read(sink);
    // Real-time segment evaluation of what changed (computed traits included), also after a
    // failed read: what was committed before the failure is in the store.
    if (!sink.changed.empty()) {
        std::unique_lock<std::mutex> lock;
        if (segments_mu != nullptr) lock = std::unique_lock(*segments_mu);
        engine.segments->on_changed({sink.changed.begin(), sink.changed.end()}, now_text());
    }
    auto out = std::move(sink.result);
    out.status = r.status;
    out.changed_profiles = sink.changed.size();
    out.cursor_after = sink.cursor();
    store::SyncRun run;
    run.source = connector.id();
    run.trigger = std::string(trigger);
    run.started_at = started_at;
    run.finished_at = now_text();
    run.status = std::string(to_string(out.status.code));
    run.message = secrets::redact(out.status.message);
    run.batches = static_cast<std::int64_t>(out.batches);
    run.inserted = static_cast<std::int64_t>(out.inserted);
    run.duplicates = static_cast<std::int64_t>(out.duplicates);
    run.rejected = static_cast<std::int64_t>(out.rejected);
    run.changed_profiles = static_cast<std::int64_t>(out.changed_profiles);
    try {
        store::SqliteOperations(*engine.store).record_sync_run(run);
    } catch (const std::exception& e) {
        // History is for people; the sync itself is committed. Say so, do not fail it.
        logging::get("hub")->warn("sync {}: its run could not be recorded: {}", run.source,
                                  e.what());
    }
    return out;
}

}  // namespace cdphub::cli

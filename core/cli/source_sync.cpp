#include "cli/source_sync.hpp"

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
                             std::mutex* segments_mu) {
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
    return out;
}

}  // namespace cdphub::cli

// The ingest pipeline: raw records from a source -> normalizer -> store (accepted or rejected)
// -> identity resolution, all in one store transaction per batch together with the source's
// cursor. Used by connectors (as their RecordSink), `cdphub import` and the ingest API.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "plugin_host/record_sink.hpp"
#include "store/profile_store.hpp"

namespace cdphub::pipeline {

// Told which profiles a committed batch changed (real-time segment evaluation listens here).
using ChangeListener = std::function<void(const std::vector<store::ProfileId>& changed)>;

// A batch normalized and ready to commit. Preparing is pure CPU work and thread-safe, so a
// caller can prepare the next batch while the store commits the previous one.
struct PreparedBatch {
    store::Batch batch;
    std::vector<normalize::NormalizedRecord> normalized;  // parallel to batch.accepted
};

class Ingestor {
  public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    // All references must outlive the ingestor. Safe to share between threads as far as the
    // store is (batches are serialized by the store).
    Ingestor(
        store::ProfileStore& store, const normalize::Normalizer& normalizer,
        const identity::Resolver& resolver,
        Clock clock = [] { return std::chrono::system_clock::now(); });

    void on_change(ChangeListener listener) { listener_ = std::move(listener); }

    // Normalizes `records` (a JSON array; anything else is one rejected record), stores the
    // accepted ones with their identity resolution and the rejected ones with their reasons,
    // and the cursor, atomically. Throws StoreError; on a throw nothing was stored.
    store::BatchResult ingest(std::string_view source, const nlohmann::json& records,
                              std::optional<std::string> cursor = std::nullopt);

    // ingest() in two steps: prepare (normalize; any thread) and commit (store + resolve).
    PreparedBatch prepare(std::string_view source, const nlohmann::json& records,
                          std::optional<std::string> cursor = std::nullopt) const;
    store::BatchResult commit(const PreparedBatch& prepared);

    store::ProfileStore& store() { return store_; }

  private:
    store::ProfileStore& store_;
    const normalize::Normalizer& normalizer_;
    const identity::Resolver& resolver_;
    Clock clock_;
    ChangeListener listener_;
};

// A connector's RecordSink that ingests through the pipeline.
class IngestSink final : public plugin_host::RecordSink {
  public:
    IngestSink(Ingestor& ingestor, std::string source);
    std::string cursor() override;
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override;
    const store::BatchResult& last_result() const { return last_; }

  private:
    Ingestor& ingestor_;
    std::string source_;
    store::BatchResult last_;
};

}  // namespace cdphub::pipeline

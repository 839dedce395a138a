#include "pipeline/ingest.hpp"

#include <memory>

#include "normalize/time.hpp"

namespace cdphub::pipeline {

namespace {

// Hands each new record's normalized form to the resolver, inside the transaction: placed before
// its row is written, contributing after.
class ResolveApplier final : public store::RecordApplier {
  public:
    ResolveApplier(const identity::Resolver& resolver,
                   const std::vector<normalize::NormalizedRecord>& records)
        : resolver_(resolver), records_(records) {}
    store::RecordAssignment place(std::size_t index, store::ProfileWriter& writer) override {
        placement_ = resolver_.place(records_.at(index), writer);
        return {placement_.profile, placement_.resolution.dump()};
    }
    void contribute(std::size_t index, store::RecordKey key,
                    store::ProfileWriter& writer) override {
        resolver_.contribute(records_.at(index), placement_, key, writer);
    }

  private:
    const identity::Resolver& resolver_;
    const std::vector<normalize::NormalizedRecord>& records_;
    identity::Placement placement_;  // of the record being committed
};

std::string text_of(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Ingestor::Ingestor(store::ProfileStore& store, const normalize::Normalizer& normalizer,
                   const identity::Resolver& resolver, Clock clock)
    : store_(store), normalizer_(normalizer), resolver_(resolver), clock_(std::move(clock)) {}

PreparedBatch Ingestor::prepare(std::string_view source, const nlohmann::json& records,
                                std::optional<std::string> cursor) const {
    PreparedBatch out;
    auto& batch = out.batch;
    batch.source = std::string(source);
    batch.cursor = std::move(cursor);
    const auto received_at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock_());
    auto take = [&](const nlohmann::json& raw) {
        auto result = normalizer_.normalize(raw, source, received_at);
        if (!result.ok()) {
            const auto& rej = result.rejection();
            std::optional<std::string> record_id;
            if (raw.is_object()) {
                auto it = raw.find("record_id");
                if (it != raw.end() && it->is_string() &&
                    !it->get_ref<const std::string&>().empty())
                    record_id = it->get<std::string>();
            }
            batch.rejected.push_back(
                {record_id, std::string(normalize::to_string(rej.reason)), rej.message, rej.raw});
            return;
        }
        auto& rec = result.record();
        batch.accepted.push_back({rec.record_id, std::string(normalize::to_string(rec.type)),
                                  normalize::format_rfc3339(rec.occurred_at),
                                  text_of(normalize::to_json(rec))});
        out.normalized.push_back(std::move(rec));
    };
    if (records.is_array()) {
        batch.accepted.reserve(records.size());
        out.normalized.reserve(records.size());
        for (const auto& raw : records) take(raw);
    } else {
        take(records);
    }
    return out;
}

store::BatchResult Ingestor::commit(const PreparedBatch& prepared) {
    ResolveApplier applier(resolver_, prepared.normalized);
    auto result = store_.commit_batch(prepared.batch, &applier);
    if (listener_ && !result.changed_profiles.empty()) listener_(result.changed_profiles);
    return result;
}

store::BatchResult Ingestor::ingest(std::string_view source, const nlohmann::json& records,
                                    std::optional<std::string> cursor) {
    return commit(prepare(source, records, std::move(cursor)));
}

IngestSink::IngestSink(Ingestor& ingestor, std::string source)
    : ingestor_(ingestor), source_(std::move(source)) {}

std::string IngestSink::cursor() {
    return ingestor_.store().cursor(source_).value_or("");
}

CallStatus IngestSink::commit(nlohmann::json records, std::optional<std::string> cursor) {
    if (!records.is_array())
        return CallStatus{StatusCode::fatal, std::nullopt,
                          "records must be a JSON array of records"};
    try {
        last_ = ingestor_.ingest(source_, records, std::move(cursor));
        return {};
    } catch (const store::StoreError& e) {
        return CallStatus{e.transient() ? StatusCode::retryable : StatusCode::fatal, std::nullopt,
                          e.what()};
    } catch (const std::exception& e) {
        // A resolver or normalizer bug, not bad data: nothing was stored and the cursor did not
        // move, so the source will send the batch again once the hub is fixed.
        return CallStatus{StatusCode::fatal, std::nullopt,
                          "ingesting a batch of source '" + source_ + "' failed: " + e.what()};
    }
}

}  // namespace cdphub::pipeline

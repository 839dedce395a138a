// The store as a source's RecordSink: what a connector emits lands here, is classified record by
// record into accepted or rejected, and is committed together with the cursor in one transaction.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "plugin_host/record_sink.hpp"
#include "store/profile_store.hpp"

namespace cdphub::store {

using Classification = std::variant<AcceptedRecord, RejectedRecord>;
// Decides, per record, what the store keeps. The normalizer provides the real one; it may throw
// only for a hub bug, which fails the whole batch (nothing stored, cursor unchanged).
using Classifier = std::function<Classification(const nlohmann::json& record)>;

// Until the normalizer is wired in: accepts JSON objects with non-empty string "type" and
// "record_id" (or "messageId") and keeps them as they are; rejects anything else with a reason.
Classification default_classifier(const nlohmann::json& record);

class StoreRecordSink final : public plugin_host::RecordSink {
  public:
    // `store` must outlive the sink. `source` is the connector instance id the records and
    // cursor are filed under.
    StoreRecordSink(ProfileStore& store, std::string source,
                    Classifier classifier = default_classifier);

    // Throws StoreError if the store cannot be read (the host turns that into a failed call).
    std::string cursor() override;
    // ok when the batch is stored (rejections included); retryable when the store is busy, full
    // or had an I/O error; fatal for anything else. A failed commit stores nothing.
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override;

    // What the last successful commit did, for metrics and logs.
    const BatchResult& last_result() const { return last_; }

  private:
    ProfileStore& store_;
    std::string source_;
    Classifier classifier_;
    BatchResult last_;
};

}  // namespace cdphub::store

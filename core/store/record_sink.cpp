#include "store/record_sink.hpp"

#include <utility>

namespace cdphub::store {

namespace {

// Never throws on odd strings: a record that cannot be dumped strictly is still kept, with
// invalid UTF-8 replaced, so that it can reach the rejected store instead of vanishing.
std::string text_of(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::string* non_empty_string(const nlohmann::json& record, const char* key) {
    auto it = record.find(key);
    if (it == record.end() || !it->is_string()) return nullptr;
    const auto* s = it->get_ptr<const std::string*>();
    return s->empty() ? nullptr : s;
}

}  // namespace

Classification default_classifier(const nlohmann::json& record) {
    if (!record.is_object())
        return RejectedRecord{
            std::nullopt, "not_an_object",
            std::string("a record must be a JSON object, got ") + record.type_name(),
            text_of(record)};
    const std::string* id = non_empty_string(record, "record_id");
    if (id == nullptr) id = non_empty_string(record, "messageId");
    std::optional<std::string> record_id = id ? std::optional<std::string>(*id) : std::nullopt;
    const std::string* type = non_empty_string(record, "type");
    if (type == nullptr)
        return RejectedRecord{record_id, "missing_type",
                              "the record has no \"type\" (a non-empty string)", text_of(record)};
    if (!record_id)
        return RejectedRecord{std::nullopt, "missing_record_id",
                              "the record has no \"record_id\" or \"messageId\" (a non-empty "
                              "string), so replays could not be recognized",
                              text_of(record)};
    std::optional<std::string> occurred_at;
    if (const auto* t = non_empty_string(record, "occurred_at")) occurred_at = *t;
    return AcceptedRecord{*record_id, *type, occurred_at, text_of(record)};
}

StoreRecordSink::StoreRecordSink(ProfileStore& store, std::string source, Classifier classifier)
    : store_(store), source_(std::move(source)), classifier_(std::move(classifier)) {}

std::string StoreRecordSink::cursor() {
    return store_.cursor(source_).value_or("");
}

CallStatus StoreRecordSink::commit(nlohmann::json records, std::optional<std::string> cursor) {
    if (!records.is_array())
        return CallStatus{StatusCode::fatal, std::nullopt,
                          "records must be a JSON array of records"};
    Batch batch;
    batch.source = source_;
    batch.cursor = std::move(cursor);
    for (std::size_t i = 0; i < records.size(); ++i) {
        Classification c;
        try {
            c = classifier_(records[i]);
        } catch (const std::exception& e) {
            // A classifier bug, not a bad record: storing the rest and moving the cursor would
            // skip this record for good, so the batch fails as a whole.
            return CallStatus{StatusCode::fatal, std::nullopt,
                              "classifying record " + std::to_string(i) + " of source '" + source_ +
                                  "' failed: " + e.what()};
        }
        if (auto* a = std::get_if<AcceptedRecord>(&c))
            batch.accepted.push_back(std::move(*a));
        else
            batch.rejected.push_back(std::move(std::get<RejectedRecord>(c)));
    }
    try {
        last_ = store_.commit_batch(batch);
        return {};
    } catch (const StoreError& e) {
        return CallStatus{e.transient() ? StatusCode::retryable : StatusCode::fatal, std::nullopt,
                          e.what()};
    }
}

}  // namespace cdphub::store

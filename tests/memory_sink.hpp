// A RecordSink that keeps committed batches in memory, as the store would, and can be told to fail.
#pragma once

#include <string>
#include <vector>

#include "plugin_host/record_sink.hpp"

namespace cdphub::test {

class MemorySink : public plugin_host::RecordSink {
  public:
    std::string cursor() override { return cursor_; }
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override {
        if (fail) return CallStatus{StatusCode::retryable, std::nullopt, "disk full"};
        for (auto& r : records) this->records.push_back(std::move(r));
        if (cursor) cursor_ = *cursor;
        ++commits;
        return {};
    }
    std::vector<nlohmann::json> records;
    std::string cursor_;
    int commits = 0;
    bool fail = false;
};

}  // namespace cdphub::test

// Where a source's records go. The profile store implements it; the contract is the one the
// plugin ABI promises: records and the cursor that covers them are committed together.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace cdphub::plugin_host {

class RecordSink {
  public:
    virtual ~RecordSink() = default;
    // The last committed cursor of this connector instance ("" if none).
    virtual std::string cursor() = 0;
    // Stores `records` (a JSON array, possibly empty) and, if given, the new cursor, in one
    // transaction. Records that are not usable go to the rejected store; that is not an error
    // of the batch. Only a failure to store at all returns a non-ok status.
    virtual CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) = 0;
};

}  // namespace cdphub::plugin_host

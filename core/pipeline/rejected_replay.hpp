// Replays rejected records through the pipeline: after an admin fixed what made them unusable
// (an identity rule, a default phone region, a source's mapping now sending what was missing),
// the records that are now valid are stored and marked replayed on their rejection; the others
// stay rejected, with their reasons, for the next attempt. Replaying twice changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pipeline/ingest.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::pipeline {

struct RejectedReplayResult {
    std::size_t considered = 0;
    std::size_t accepted = 0;        // stored now
    std::size_t duplicates = 0;      // an equal record (same source + record_id) was stored already
    std::size_t still_rejected = 0;  // unusable still; their rejection stays as it was
    std::vector<store::ProfileId> changed_profiles;
};

// At most `limit` rejections not replayed yet, of `source` (or all), optionally only `ids`.
RejectedReplayResult replay_rejected(Ingestor& ingestor, store::SqliteOperations& operations,
                                     std::optional<std::string_view> source,
                                     const std::vector<std::int64_t>& ids, std::size_t limit);

}  // namespace cdphub::pipeline

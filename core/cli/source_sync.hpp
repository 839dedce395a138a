// One incremental read of a source connector into the profile store, as `cdphub sync` and the
// daemon's scheduler both run it: batches are ingested through the pipeline with the cursor that
// covers them, then the changed profiles are evaluated against every segment.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "cli/engine.hpp"
#include "plugin_host/connector.hpp"

namespace cdphub::cli {

struct SourceSyncResult {
    CallStatus status;
    std::uint64_t batches = 0, inserted = 0, duplicates = 0, rejected = 0;
    std::size_t changed_profiles = 0;
    std::string cursor_before, cursor_after;
};

// `segments_mu` (may be null) serializes segment evaluation when several syncs run at once.
// The run is recorded in the store's sync run history with `trigger` (schedule, cli, admin).
SourceSyncResult sync_source(plugin_host::Connector& connector, Engine& engine,
                             std::mutex* segments_mu = nullptr, std::string_view trigger = "cli");

}  // namespace cdphub::cli

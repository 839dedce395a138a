#include "pipeline/rejected_replay.hpp"

#include <cdphub/json_depth.hpp>
#include <set>

namespace cdphub::pipeline {

RejectedReplayResult replay_rejected(Ingestor& ingestor, store::SqliteOperations& operations,
                                     std::optional<std::string_view> source,
                                     const std::vector<std::int64_t>& ids, std::size_t limit) {
    RejectedReplayResult out;
    std::set<store::ProfileId> changed;
    std::vector<std::pair<std::int64_t, std::string>> marks;
    for (const auto& r : operations.replayable(source, ids, limit)) {
        ++out.considered;
        // The raw text is what the source sent; a text that is not JSON (or nests too deep to
        // handle) stays rejected.
        auto parsed = json_text::exceeds_depth(r.raw)
                          ? nlohmann::json(nlohmann::json::value_t::discarded)
                          : nlohmann::json::parse(r.raw, nullptr, false);
        if (parsed.is_discarded()) {
            ++out.still_rejected;
            continue;
        }
        // One record per batch, so that each rejection learns its own fate. A record rejected
        // again lands on its old rejection (same source and raw text): nothing new is stored.
        auto res = ingestor.ingest(r.source, nlohmann::json::array({std::move(parsed)}));
        if (res.inserted == 1) {
            ++out.accepted;
            marks.emplace_back(r.id, "accepted");
        } else if (res.duplicates == 1) {
            ++out.duplicates;
            marks.emplace_back(r.id, "duplicate");
        } else {
            ++out.still_rejected;
        }
        changed.insert(res.changed_profiles.begin(), res.changed_profiles.end());
    }
    operations.mark_replayed(marks);
    out.changed_profiles.assign(changed.begin(), changed.end());
    return out;
}

}  // namespace cdphub::pipeline

// Commands over the profile store: profiles, segments, activation diffs, rejected records.
#pragma once

#include <cstdint>
#include <string>

#include "cli/commands.hpp"

namespace cdphub::cli {

// `who` is a profile id or TYPE:VALUE (email:ann@shop.io).
int cmd_profile_show(const GlobalOptions& g, const std::string& who, bool explain);
int cmd_profile_unmerge(const GlobalOptions& g, std::int64_t merge_id, const std::string& reason);
int cmd_segment_list(const GlobalOptions& g);
int cmd_segment_preview(const GlobalOptions& g, const std::string& expression, std::size_t limit);
int cmd_segment_evaluate(const GlobalOptions& g, const std::string& name);
int cmd_activation_plan(const GlobalOptions& g, const std::string& binding);
int cmd_rejected(const GlobalOptions& g, const std::string& source, std::size_t limit);
int cmd_rejected_replay(const GlobalOptions& g, const std::string& source, std::size_t limit);

}  // namespace cdphub::cli

#pragma once

#include <string>

#include "cli/commands.hpp"

namespace cdphub::cli {

// `cdphub sync <instance>`: one incremental read of a source connector into the profile store,
// from its last committed cursor. Every batch is committed with the cursor that covers it, so an
// interrupted sync (Ctrl-C, kill, crash) resumes where the last commit left off. Ends with the
// changed profiles' real-time segment evaluation and a summary. An activation's name instead plans
// that binding's diff and delivers it now (cmd_sync_binding).
int cmd_sync(const GlobalOptions& g, const std::string& instance);

}  // namespace cdphub::cli

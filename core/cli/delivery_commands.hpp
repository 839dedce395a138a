// Commands over activation delivery (core/delivery): deliver one binding now, the status of every
// binding and destination, the failures kept for review, and replay of dead letters.
#pragma once

#include <string>

#include "cli/commands.hpp"
#include "cli/connector_loading.hpp"

namespace cdphub::cli {

// `cdphub sync <binding>`: plans the binding's diff and delivers the outbox to its destination
// now, waiting out short pauses (rate limits, backoff); a longer pause ends the run with the
// destination's state recorded for the next one.
int cmd_sync_binding(const GlobalOptions& g, Loaded& l, const std::string& binding);
// `cdphub activations`: per binding, its destination's state, sent/failed/pending, last sync and
// last error.
int cmd_activations(const GlobalOptions& g);
// `cdphub activation failures <binding>`: rejected and dead-lettered changes with the vendor's
// answer.
int cmd_activation_failures(const GlobalOptions& g, const std::string& binding, std::size_t limit);
// `cdphub activation replay <binding>`: dead letters back into the outbox.
int cmd_activation_replay(const GlobalOptions& g, const std::string& binding);

}  // namespace cdphub::cli

// What the admin API needs from the running daemon: the parts of its state that live in memory
// (connector instances, the scheduler, the ingest service) and the actions only it can take.
// `cdphub run` implements it over its current configuration, which a SIGHUP reload replaces.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/diagnostic.hpp"
#include "scheduler/scheduler.hpp"

namespace cdphub::server {
class IngestService;
}

namespace cdphub::admin {

struct ConnectorInfo {
    std::string id;
    std::string plugin, plugin_version;
    bool source = false, destination = false;
    std::string schedule;  // "every 15m", "manual", ...
    std::string description;
};

class HubView {
  public:
    virtual ~HubView() = default;

    // Enabled instances of the running configuration.
    virtual std::vector<ConnectorInfo> connectors() = 0;
    // The scheduler's tasks: a source's task is named by its instance id, an activation's
    // "activation <name>".
    virtual std::vector<scheduler::TaskStatus> tasks() = 0;
    // Runs a task now (see Scheduler::run_now). False if there is no such task.
    virtual bool run_now(const std::string& task) = 0;
    // The manifest folder as it is on disk now, validated as `cdphub validate` does.
    virtual Diagnostics validate_manifests() = 0;
    // The ingest service, if the hub serves one (for /metrics).
    virtual const server::IngestService* ingest() = 0;
};

}  // namespace cdphub::admin

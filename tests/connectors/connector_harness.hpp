// Runs a real connector plugin (from the build's plugin directory) into a real profile store in
// a temporary directory, through the same ingest pipeline the hub uses. Connector tests point
// the plugin at a vendor simulator and compare what the store ends up with to what the
// simulator holds.
//
// No store connection or plugin instance lives between calls, so sync_killed_when() can fork a
// child that does the whole sync on its own and be SIGKILLed at any moment.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "plugin_host/connector.hpp"

namespace cdphub::test {

class ConnectorHarness {
  public:
    using Secrets = std::map<std::string, std::string, std::less<>>;

    // `plugin_id` as the plugin's descriptor names it; `instance` is also the store's source name.
    explicit ConnectorHarness(std::string plugin_id, std::string instance = "src");
    ~ConnectorHarness();
    ConnectorHarness(const ConnectorHarness&) = delete;
    ConnectorHarness& operator=(const ConnectorHarness&) = delete;

    // The config, secrets and host options every following call creates the instance with.
    void configure(nlohmann::json config, Secrets secrets = {},
                   plugin_host::HostOptions options = {});

    // Creating the instance (the status of create if it failed, else the status of check).
    CallStatus check();
    // One incremental read into the store, from the stored cursor. A create failure comes back
    // as the read's status.
    plugin_host::ReadResult sync();
    // One webhook delivery into the store.
    plugin_host::WebhookResult receive(const plugin_host::WebhookRequest& request);

    // Runs sync() in a forked child and SIGKILLs the child as soon as `kill_when()` returns true
    // (polled every millisecond). Returns true if the child was killed, false if it finished
    // first (then its read status must have been ok, else the test fails).
    bool sync_killed_when(const std::function<bool()>& kill_when);

    // This source's stored cursor ("" if none).
    std::string cursor() const;
    // This source's accepted records: record_id -> the stored canonical record.
    std::map<std::string, nlohmann::json> records() const;
    // This source's rejected records: (reason_code, raw).
    std::vector<std::pair<std::string, std::string>> rejected() const;

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path db_path() const { return dir_ / "cdphub.db"; }
    const std::string& instance() const { return instance_; }

  private:
    std::shared_ptr<const plugin_host::PluginLibrary> plugin() const;

    std::string plugin_id_, instance_;
    std::filesystem::path dir_;
    nlohmann::json config_ = nlohmann::json::object();
    Secrets secrets_;
    plugin_host::HostOptions options_;
};

}  // namespace cdphub::test

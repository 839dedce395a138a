// One running connector instance: a plugin instance plus the host services bound to it. Every
// call into the plugin is guarded: statuses are normalised, exceptions that a buggy plugin lets
// cross the C ABI are caught, and missing details are filled in, so the hub always gets a
// CallStatus it can act on.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/diagnostic.hpp"
#include "manifest/manifest.hpp"
#include "plugin_host/call.hpp"
#include "plugin_host/plugin_catalog.hpp"

namespace cdphub::plugin_host {

struct WriteResult {
    CallStatus status;                   // of the batch as a whole
    std::vector<RecordOutcome> records;  // one per record of the batch, in order
};

struct WebhookRequest {
    std::string method, path, query, body, remote_address;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct WebhookResult {
    CallStatus status;
    WebhookResponse response;
    uint64_t records = 0;
};

struct ReadResult {
    CallStatus status;
    uint64_t records = 0;  // records committed during this read
};

struct HostOptions {
    std::function<int64_t()> now_ms;  // empty: the system clock
    http::ClientOptions http;
};

class Connector {
  public:
    ~Connector();
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;

    using CreateResult = std::variant<std::unique_ptr<Connector>, CallStatus>;
    // Creates an instance from a config whose secrets are already resolved; `secrets` holds the
    // resolved values by name for the plugin's secret() service.
    static CreateResult create(std::shared_ptr<const PluginLibrary> plugin, std::string instance_id,
                               const nlohmann::json& config,
                               std::map<std::string, std::string, std::less<>> secrets,
                               HostOptions options);

    const std::string& id() const { return context_.instance_id; }
    const PluginInfo& plugin() const { return plugin_->info(); }

    CallStatus check();
    ReadResult read(RecordSink& sink);
    WriteResult write(const nlohmann::json& batch);
    // The same with the batch already serialized: a JSON array of `records` operations (the
    // delivery workers build it as text, docs/delivery.md).
    WriteResult write(std::string_view batch_json, std::size_t records);
    WebhookResult receive(const WebhookRequest& request, RecordSink& sink);

    // Asks the call in progress (if any) to stop; it returns CANCELLED soon after.
    void cancel() { cancellation_.request(); }

  private:
    Connector(std::shared_ptr<const PluginLibrary> plugin, HostOptions options);
    template <class F>
    CallStatus invoke(cdphub_call& call, const char* what, F&& f);

    std::shared_ptr<const PluginLibrary> plugin_;  // keeps the library loaded while we exist
    cdphub_context context_;
    Cancellation cancellation_;
    cdphub_instance* instance_ = nullptr;  // owned by the plugin; released with its destroy()
};

// Builds a connector from its manifest: finds the plugin (or loads plugin_file), checks the
// SHA-256 pin, resolves secret references into the config, applies the rate limit (manifest
// override, else the plugin's declared default) and creates the instance. Any failure is a
// Diagnostic against the manifest file that says what to do.
using InstantiateResult = std::variant<std::unique_ptr<Connector>, Diagnostic>;
InstantiateResult instantiate(PluginCatalog& catalog, const manifest::ConnectorManifest& m,
                              const std::filesystem::path& manifest_root, HostOptions options = {});

}  // namespace cdphub::plugin_host

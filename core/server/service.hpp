// The ingest API as `cdphub run` runs it: inbox, processor, webhook router and HTTP server,
// started from hub.json's "ingest_api" and stopped in the order that loses nothing.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"
#include "pipeline/ingest.hpp"
#include "server/http_server.hpp"
#include "server/inbox.hpp"
#include "server/processor.hpp"
#include "server/webhooks.hpp"

namespace cdphub::server {

// The write keys of hub.json's ingest_api, resolved (files, environment). Throws
// std::runtime_error naming the source whose key cannot be read or is shared with another source.
WriteKeys resolve_write_keys(const manifest::IngestApiConfig& config,
                             const std::filesystem::path& manifest_root);

class IngestService {
  public:
    // Resolves the write keys, opens <data_dir>/inbox.db, starts the processor and the server.
    // Throws std::runtime_error (or store::StoreError) with a message for the admin.
    IngestService(const manifest::IngestApiConfig& config, const std::filesystem::path& data_dir,
                  const std::filesystem::path& manifest_root, store::ProfileStore& store,
                  const normalize::Normalizer& normalizer, const identity::Resolver& resolver,
                  pipeline::Ingestor& webhook_ingestor, Processor::Listener listener = {},
                  AdminHandler admin = {});
    ~IngestService();

    WebhookRouter& webhooks() { return router_; }
    // Replaces the write keys (SIGHUP): keys removed from hub.json stop working at once.
    void set_write_keys(WriteKeys keys) { server_->set_write_keys(std::move(keys)); }
    unsigned short port() const { return server_->port(); }
    const Counters& counters() const { return counters_; }
    const Inbox& inbox() const { return *inbox_; }
    const Processor& processor() const { return *processor_; }

    // SIGTERM: stop accepting, answer what was read (its events committed to the inbox), then
    // process what the inbox holds (bounded by `drain`); the rest waits for the next start.
    void stop(std::chrono::milliseconds drain = std::chrono::seconds(30));

  private:
    Counters counters_;
    WebhookRouter router_;
    std::unique_ptr<Inbox> inbox_;
    std::unique_ptr<Processor> processor_;
    std::unique_ptr<Server> server_;
    bool stopped_ = false;
};

}  // namespace cdphub::server

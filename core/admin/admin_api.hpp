// The admin API: token-authenticated JSON over the hub's HTTP server (/admin/v1/...), plus
// /metrics in Prometheus text format. Routes, shapes and errors: docs/admin-api.md and the
// OpenAPI file docs/admin-api.yaml.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "admin/hub_view.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/segments.hpp"
#include "server/options.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::admin {

// What the API reads and changes. The engine parts are the admin's own (its own store
// connection); `hub` is the daemon's live state. All must outlive the AdminApi.
struct AdminDeps {
    store::SqliteProfileStore& store;
    const normalize::Normalizer& normalizer;
    pipeline::SegmentEngine& segments;
    pipeline::Ingestor& ingestor;
    HubView& hub;
};

class AdminApi {
  public:
    // `token`: the resolved admin token (never logged). `metrics_public`: /metrics without it.
    AdminApi(AdminDeps deps, std::string token, bool metrics_public);

    // Any request under /admin/ or /metrics; thread-safe (the server calls it from a pool).
    server::WebhookReply handle(const plugin_host::WebhookRequest& request);

    // Replaces the token and the /metrics setting (a SIGHUP reload); later requests use them.
    void set_credentials(std::string token, bool metrics_public);

    // As the server wants it.
    server::AdminHandler handler() {
        return [this](const plugin_host::WebhookRequest& r) { return handle(r); };
    }

    struct Request;

  private:
    server::WebhookReply route(const Request& r);

    AdminDeps deps_;
    std::atomic<std::shared_ptr<const std::string>> token_;
    std::atomic<bool> metrics_public_;
    // The segment engine and the ingestor keep state between calls: one admin call at a time
    // uses them.
    std::mutex engine_mu_;
};

}  // namespace cdphub::admin

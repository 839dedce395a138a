// Routes /webhooks/<instance>/... to that connector instance's receive(), committing what it
// emits through the ingest pipeline. The plugin authenticates the request as its vendor allows
// (signatures, shared secrets in the URL); the router only finds the instance.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pipeline/ingest.hpp"
#include "plugin_host/connector.hpp"
#include "server/options.hpp"

namespace cdphub::server {

class WebhookRouter {
  public:
    explicit WebhookRouter(pipeline::Ingestor& ingestor) : ingestor_(ingestor) {}

    // Replaces the routed instances (on start and on every manifest reload). Calls in progress
    // finish on the instances they started with.
    void set_connectors(const std::vector<std::shared_ptr<plugin_host::Connector>>& connectors);

    // A WebhookHandler for the server.
    std::optional<WebhookReply> handle(const std::string& instance,
                                       const plugin_host::WebhookRequest& request);

    WebhookHandler handler() {
        return [this](const std::string& i, const plugin_host::WebhookRequest& r) {
            return handle(i, r);
        };
    }

  private:
    struct Route {
        std::shared_ptr<plugin_host::Connector> connector;
        std::mutex mu;  // a connector instance takes one call at a time
    };
    pipeline::Ingestor& ingestor_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Route>, std::less<>> routes_;
};

}  // namespace cdphub::server

#include "server/webhooks.hpp"

#include <cdphub/json_depth.hpp>

namespace cdphub::server {

void WebhookRouter::set_connectors(
    const std::vector<std::shared_ptr<plugin_host::Connector>>& connectors) {
    std::map<std::string, std::shared_ptr<Route>, std::less<>> next;
    for (const auto& c : connectors) {
        if (!c->plugin().is_source()) continue;
        auto r = std::make_shared<Route>();
        r->connector = c;
        next.emplace(c->id(), std::move(r));
    }
    std::lock_guard lock(mu_);
    routes_ = std::move(next);
}

std::optional<WebhookReply> WebhookRouter::handle(const std::string& instance,
                                                  const plugin_host::WebhookRequest& request) {
    std::shared_ptr<Route> route;
    {
        std::lock_guard lock(mu_);
        auto it = routes_.find(instance);
        if (it == routes_.end()) return std::nullopt;
        route = it->second;
    }
    // A JSON body nested deeper than any vendor sends would overflow the stack of the plugin
    // that parses it, inside the hub's process: refused before it gets there.
    const auto first = request.body.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (request.body[first] == '{' || request.body[first] == '[') &&
        json_text::exceeds_depth(request.body))
        return WebhookReply{
            400, "text/plain",
            "JSON nested deeper than " + std::to_string(json_text::kMaxDepth) + " levels\n"};
    std::lock_guard call(route->mu);
    pipeline::IngestSink sink(ingestor_, instance);
    auto result = route->connector->receive(request, sink);
    if (result.response.set)
        return WebhookReply{result.response.status, result.response.content_type,
                            result.response.body};
    // The plugin said nothing: answer from the status, so that the vendor retries what we could
    // not take (5xx) and stops sending what we refuse (4xx).
    switch (result.status.code) {
        case StatusCode::ok:
            return WebhookReply{200, "text/plain", "ok\n"};
        case StatusCode::auth_error:
            return WebhookReply{401, "text/plain", "unauthorized\n"};
        case StatusCode::config_error:
        case StatusCode::fatal:
            return WebhookReply{500, "text/plain", "error\n"};
        case StatusCode::unsupported:
            return WebhookReply{404, "text/plain", "this connector takes no webhooks\n"};
        default:
            return WebhookReply{503, "text/plain", "try again later\n"};
    }
}

}  // namespace cdphub::server

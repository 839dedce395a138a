// Webhook routing: /webhooks/<instance>/... reaches that connector instance's receive(), whose
// records go through the pipeline under the instance's name and whose answer goes back.
#include "plugin_host/connector.hpp"
#include "plugin_host/plugin_catalog.hpp"
#include "server/webhooks.hpp"
#include "server_fixture.hpp"

namespace cdphub::server::test {
namespace {

using nlohmann::json;

class WebhookTest : public ServerTest {
  protected:
    void SetUp() override {
        // The handler looks the router up per request: it is made after the server (which
        // opens the store it ingests into).
        start_server([this](const std::string& i, const plugin_host::WebhookRequest& r) {
            return router_->handle(i, r);
        });
        ingestor_ = std::make_unique<pipeline::Ingestor>(*store_, normalizer_, resolver_);
        router_ = std::make_unique<WebhookRouter>(*ingestor_);
        catalog_ = plugin_host::PluginCatalog::discover({CDPHUB_TEST_PLUGINS_GOOD});
        auto r = plugin_host::Connector::create(catalog_.find("test-connector"), "esp-hooks",
                                                json::object(), {}, {});
        ASSERT_TRUE(std::holds_alternative<std::unique_ptr<plugin_host::Connector>>(r));
        router_->set_connectors({std::shared_ptr<plugin_host::Connector>(
            std::get<std::unique_ptr<plugin_host::Connector>>(std::move(r)))});
    }
    void TearDown() override {
        stop_server();
        router_.reset();
        ingestor_.reset();
    }

    http::Result hook(const std::string& path, const std::string& signature,
                      const std::string& body = R"({"event":"Email Opened"})") {
        http::Request r;
        r.method = "POST";
        r.url = base_ + path;
        r.body = body;
        r.headers = {{"Content-Type", "application/json"}, {"X-Signature", signature}};
        r.rate_limited = false;
        return client_.perform(r);
    }

    std::unique_ptr<pipeline::Ingestor> ingestor_;
    std::unique_ptr<WebhookRouter> router_;
    plugin_host::PluginCatalog catalog_;
};

TEST_F(WebhookTest, RoutesToTheInstanceAndReturnsItsAnswer) {
    auto ok = hook("/webhooks/esp-hooks/events?list=1", "good");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok.response().status, 202);
    EXPECT_EQ(ok.response().body, R"({"accepted":1})");
    // The test plugin emits a track record without id or identifiers: it reaches the pipeline
    // under the instance's name and is rejected there with a reason.
    auto rejected = store_->list_rejected("esp-hooks", 0, 10);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_NE(rejected[0].raw.find("Email Opened"), std::string::npos);

    auto refused = hook("/webhooks/esp-hooks/events", "forged");
    EXPECT_EQ(refused.response().status, 401);  // the plugin authenticates its vendor
    EXPECT_EQ(hook("/webhooks/unknown/events", "good").response().status, 404);
    EXPECT_EQ(store_->list_rejected("esp-hooks", 0, 10).size(), 1u);
    EXPECT_EQ(counters_.webhook_requests.load(), 3u);
}

TEST_F(WebhookTest, DeeplyNestedJsonIsRefusedBeforeThePluginSeesIt) {
    // Parsed by the plugin, 100,000 levels would overflow its stack inside the hub's process.
    const std::string deep = R"({"event":"Email Opened","x":)" + std::string(100000, '[') +
                             std::string(100000, ']') + "}";
    auto r = hook("/webhooks/esp-hooks/events", "good", deep);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.response().status, 400);
    EXPECT_NE(r.response().body.find("nested deeper than 512"), std::string::npos);
    EXPECT_TRUE(store_->list_rejected("esp-hooks", 0, 10).empty());  // never reached the plugin
    // Deep brackets inside a string are only text.
    auto text = hook("/webhooks/esp-hooks/events", "good",
                     R"({"event":"Email Opened","note":")" + std::string(1000, '[') + R"("})");
    EXPECT_EQ(text.response().status, 202);
}

}  // namespace
}  // namespace cdphub::server::test

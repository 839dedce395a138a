// The SendGrid plugin: a push source fed by the Event Webhook. Nothing is pulled.
#include <cdphub/sdk.hpp>

#include <memory>

#include "config.hpp"
#include "signature.hpp"
#include "source_events.hpp"

namespace cdphub::sendgrid {

class SendGrid : public Source {
  public:
    SendGrid(Host& host, const json& config) : Source(host), config_(parse_config(config)) {
        if (!config_.verification_key.empty())
            verifier_ = std::make_unique<Verifier>(config_.verification_key);
    }

    static PluginInfo info() {
        PluginInfo i;
        i.id = "sendgrid";
        i.version = "0.1.0";
        i.name = "SendGrid email events";
        i.kind = Kind::source;
        i.category = Category::esp;
        i.config_spec = config_spec();
        i.capabilities = {{"incremental", false},
                          {"record_types", {"track", "consent", "identify"}},
                          {"identifier_types", {"email"}},
                          {"webhook", true}};
        return i;
    }

    // The config was checked when the instance was made (the key parses); nothing to call.
    void check(Call& call) override {
        if (!verifier_)
            call.host().warn(
                "verification_key is not set: event webhooks are accepted without a signature");
    }
    // Events arrive by webhook only.
    void read(Call&) override {}
    void receive(Call& call, const WebhookRequest& request) override {
        receive_events(call, config_, verifier_.get(), request);
    }

  private:
    Config config_;
    std::unique_ptr<Verifier> verifier_;
};

}  // namespace cdphub::sendgrid

CDPHUB_PLUGIN(cdphub::sendgrid::SendGrid)

// The SendGrid plugin: a push source fed by the Event Webhook (nothing is pulled), and a
// destination keeping Marketing Contacts lists in step with a segment.
#include <cdphub/sdk.hpp>

#include <memory>

#include "config.hpp"
#include "destination_contacts.hpp"
#include "signature.hpp"
#include "source_events.hpp"

namespace cdphub::sendgrid {

class SendGrid : public SourceDestination {
  public:
    SendGrid(Host& host, const json& config)
        : SourceDestination(host), config_(parse_config(config)) {
        if (!config_.verification_key.empty())
            verifier_ = std::make_unique<Verifier>(config_.verification_key);
    }

    static PluginInfo info() {
        PluginInfo i;
        i.id = "sendgrid";
        i.version = "0.1.0";
        i.name = "SendGrid email events and marketing contacts";
        i.kind = Kind::both;
        i.category = Category::esp;
        i.config_spec = config_spec();
        i.capabilities = {{"incremental", false},
                          {"record_types", {"track", "consent", "identify"}},
                          {"identifier_types", {"email"}},
                          {"webhook", true},
                          // Destination: one hub batch is one PUT /v3/marketing/contacts or
                          // several (30,000 contacts / 6 MB each at most).
                          {"batch", {{"max_records", 1000}, {"max_bytes", 8 << 20}}}};
        return i;
    }

    // The config was checked when the instance was made (the key parses); nothing to call.
    void check(Call& call) override {
        check_contacts_destination(call, config_);
        if (!verifier_)
            call.host().warn(
                "verification_key is not set: event webhooks are accepted without a signature");
    }
    // Events arrive by webhook only.
    void read(Call&) override {}
    void write(Call& call, const json& batch) override { write_contacts(call, config_, batch); }
    void receive(Call& call, const WebhookRequest& request) override {
        receive_events(call, config_, verifier_.get(), request);
    }

  private:
    Config config_;
    std::unique_ptr<Verifier> verifier_;
};

}  // namespace cdphub::sendgrid

CDPHUB_PLUGIN(cdphub::sendgrid::SendGrid)

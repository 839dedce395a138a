// The Mailchimp plugin: its descriptor, and the connector that hands each verb to the files of
// its concept (source_members: the pull; source_webhook: the audience webhook;
// destination_members: audience members and tags kept in step with a segment).
#include <cdphub/sdk.hpp>

#include "api.hpp"
#include "config.hpp"
#include "destination_members.hpp"
#include "source_members.hpp"
#include "source_webhook.hpp"

namespace cdphub::mailchimp {

class Mailchimp : public SourceDestination {
  public:
    Mailchimp(Host& host, const json& config)
        : SourceDestination(host), config_(parse_config(config)), api_(config_) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "mailchimp";
        i.version = "0.1.0";
        i.name = "Mailchimp audience";
        i.kind = Kind::both;
        i.category = Category::esp;
        i.config_spec = config_spec();
        i.capabilities = {{"incremental", true},
                          {"record_types", {"identify", "consent", "alias"}},
                          {"identifier_types", {"email"}},
                          {"webhook", true},
                          // Destination: one hub batch becomes direct calls (small) or
                          // POST /3.0/batches of at most batch_max_operations.
                          {"batch", {{"max_records", 1000}, {"max_bytes", 8 << 20}}},
                          // Mailchimp limits open connections (10 per key), not a rate; this
                          // keeps one instance far below it.
                          {"rate_limit", {{"requests", 10}, {"per_seconds", 1}}}};
        return i;
    }

    void check(Call& call) override { check_audience(call, config_, api_); }
    void read(Call& call) override { read_members(call, config_, api_); }
    void write(Call& call, const json& batch) override {
        write_members(call, config_, api_, batch);
    }
    void receive(Call& call, const WebhookRequest& request) override {
        receive_webhook(call, config_, request);
    }

  private:
    Config config_;
    Api api_;
};

}  // namespace cdphub::mailchimp

CDPHUB_PLUGIN(cdphub::mailchimp::Mailchimp)

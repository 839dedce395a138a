// hubspot: a source that reads HubSpot CRM objects (contacts and companies by default) as
// identify records. The first read lists every object (GET /crm/v3/objects/{type}); later reads
// search by modification stamp (POST /crm/v3/objects/{type}/search). See README.md.
#include <cdphub/sdk.hpp>

#include <cdphub_plugins/web.hpp>

#include <string>

#include "api.hpp"
#include "reader.hpp"
#include "settings.hpp"

namespace cdphub_hubspot {
namespace {

class HubSpotSource : public cdphub::Source {
  public:
    HubSpotSource(cdphub::Host& host, const json& config)
        : Source(host), settings_(parse_settings(config)), api_(settings_, host) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "hubspot";
        i.version = "1.0.0";
        i.name = "HubSpot CRM";
        i.kind = cdphub::Kind::source;
        i.category = cdphub::Category::crm;
        i.config_spec = config_spec();
        // 100 requests per 10 s is HubSpot's burst limit for Free/Starter accounts and for
        // OAuth apps, the lowest tier: a manifest's rate_limit can raise it for bigger ones.
        i.capabilities = {{"incremental", true},
                          {"record_types", {"identify"}},
                          {"identifier_types", {"email", "hubspot_id", "hubspot_company_id"}},
                          {"rate_limit", {{"requests", 100}, {"per_seconds", 10}}}};
        return i;
    }

    void check(cdphub::Call& call) override {
        const auto& spec = settings_.objects.front();
        const std::string url = settings_.base_url + "/crm/v3/objects/" +
                                cdphub::plugins::url_encode(spec.type) + "?limit=1&archived=false";
        auto r = api_.send(call, "GET", url, "", "a test read of " + spec.type);
        if (r.status() == 400 || r.status() == 404)
            throw cdphub::ConfigError("HubSpot cannot list object type \"" + spec.type + "\" (" +
                                      describe(r) + "): check \"objects\"");
        if (!r.ok())
            throw cdphub::RetryableError("HubSpot answered the test read with " + describe(r));
        host().info(std::string("HubSpot accepted the ") +
                    (settings_.oauth() ? "OAuth app's token" : "private app token") +
                    " and lists " + spec.type);
    }

    void read(cdphub::Call& call) override {
        json cursor = call.cursor_json();
        if (cursor.is_null()) cursor = {{"version", 1}, {"objects", json::object()}};
        if (!cursor.is_object() || cursor.value("version", 0) != 1 || !cursor.contains("objects") ||
            !cursor["objects"].is_object())
            throw cdphub::FatalError("the stored cursor " + cursor.dump().substr(0, 200) +
                                     " was not written by this plugin; reset this connector's "
                                     "cursor");
        uint64_t total = 0;
        for (const auto& spec : settings_.objects) {
            Reader reader(settings_, spec, api_, call, host(), cursor);
            reader.run();
            total += reader.records();
        }
        host().log(total == 0 ? cdphub::LogLevel::debug : cdphub::LogLevel::info,
                   "read " + std::to_string(total) + " HubSpot object version(s)");
    }

  private:
    Settings settings_;
    Api api_;
};

}  // namespace
}  // namespace cdphub_hubspot

CDPHUB_PLUGIN(cdphub_hubspot::HubSpotSource)

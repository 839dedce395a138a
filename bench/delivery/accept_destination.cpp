// bench-accept: a destination that accepts every batch at once without any I/O, so that timing
// the delivery workers against it measures only the hub's own cost per record (outbox reads,
// operation JSON, the plugin call, settling). Used by delivery_bench --target accept.
#include <cdphub/sdk.hpp>

namespace {

using cdphub::json;

class AcceptDestination : public cdphub::Destination {
  public:
    AcceptDestination(cdphub::Host& host, const json&) : Destination(host) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "bench-accept";
        i.version = "1.0.0";
        i.name = "Benchmark destination that accepts everything";
        i.kind = cdphub::Kind::destination;
        i.config_spec = json::parse(R"({"type": "object"})");
        // Large enough never to lower the hub's own batch limit (DeliveryOptions).
        i.capabilities = {{"batch", {{"max_records", 100000}, {"max_bytes", 256 << 20}}}};
        return i;
    }

    void check(cdphub::Call&) override {}

    // Every record not reported otherwise is delivered.
    void write(cdphub::Call&, const json&) override {}
};

}  // namespace

CDPHUB_PLUGIN(AcceptDestination)

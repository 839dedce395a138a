#include "simulators/simulator.hpp"

#include <cdphub_plugins/web.hpp>

#include <map>
#include <stdexcept>

namespace cdphub::sim {
namespace {

std::map<std::string, VendorFactory, std::less<>>& registry() {
    static std::map<std::string, VendorFactory, std::less<>> r;
    return r;
}

}  // namespace

bool register_vendor(std::string name, VendorFactory factory) {
    registry()[std::move(name)] = std::move(factory);
    return true;
}

std::unique_ptr<Vendor> make_vendor(std::string_view name, const VendorOptions& options) {
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second(options);
}

std::vector<std::string> vendor_names() {
    std::vector<std::string> out;
    for (const auto& [n, f] : registry()) out.push_back(n);
    return out;
}

SimulatorServer::SimulatorServer(std::unique_ptr<Vendor> vendor, test::HttpTestServerOptions http)
    : vendor_(std::move(vendor)) {
    if (!vendor_) throw std::invalid_argument("SimulatorServer: no vendor");
    Vendor* v = vendor_.get();
    http_ = std::make_unique<test::HttpTestServer>(
        [v](const HttpRequest& r) {
            if (r.method == "GET" && r.path() == "/_sim/state")
                return HttpResponse::json(200, v->state().dump());
            if (r.method == "GET" && r.path() == "/_sim/faults")
                return HttpResponse::json(200, json(v->faults().injected()).dump());
            return v->handle(r);
        },
        http);
    vendor_->set_base_url(http_->base_url());
}

SimulatorServer::SimulatorServer(std::string_view vendor_name, const VendorOptions& options,
                                 test::HttpTestServerOptions http)
    : SimulatorServer(
          [&] {
              auto v = make_vendor(vendor_name, options);
              if (!v)
                  throw std::invalid_argument("no simulator for vendor " +
                                              std::string(vendor_name));
              return v;
          }(),
          http) {}

// The same encoding rules as the plugins' side (plugins/common/cdphub_plugins/web.hpp).
std::string url_decode(std::string_view s) {
    return plugins::url_decode(s);
}

std::vector<std::pair<std::string, std::string>> form_pairs(std::string_view q) {
    return plugins::form_pairs(q);
}

std::string form_value(std::string_view query, std::string_view name) {
    for (auto& [k, v] : form_pairs(query))
        if (k == name) return v;
    return {};
}

std::string url_encode(std::string_view s) {
    return plugins::url_encode(s);
}

}  // namespace cdphub::sim

// Vendor simulators: loopback HTTP servers that speak a vendor's real wire protocol, hold a
// seeded data set, and misbehave on a seeded FaultSchedule. Connector tests start them
// in-process; `cdphub-sim` starts any of them as one program for the demo.
//
// A vendor is a class deriving from Vendor, registered by name with CDPHUB_SIM_VENDOR in its
// own .cpp under vendors/. Every vendor also answers two simulator endpoints, served by
// SimulatorServer itself:
//   GET /_sim/state   what the vendor holds now (Vendor::state), for tests and the demo summary
//   GET /_sim/faults  the faults injected so far, by name
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "simulators/fault_schedule.hpp"
#include "support/http_test_server.hpp"

namespace cdphub::sim {

using test::HttpRequest;
using test::HttpResponse;
using json = nlohmann::json;

struct VendorOptions {
    std::uint64_t seed = 1;      // the data set's seed (faults have their own in `faults`)
    std::size_t records = 1000;  // size of the seeded data set, where the vendor has one
    FaultPlan faults;
    json settings = json::object();  // vendor-specific knobs (credentials, page sizes, ...)
};

class Vendor {
  public:
    explicit Vendor(VendorOptions options)
        : options_(std::move(options)), faults_(options_.faults) {}
    virtual ~Vendor() = default;
    Vendor(const Vendor&) = delete;
    Vendor& operator=(const Vendor&) = delete;

    // Answers one request. Called from server threads, possibly concurrently: lock your state.
    virtual HttpResponse handle(const HttpRequest& request) = 0;
    // What the vendor holds now, in a shape the vendor's tests document.
    virtual json state() const = 0;

    // The server's own base URL ("http://127.0.0.1:port"), known once it listens; vendors that
    // return absolute URLs (instance URLs, next-page links) use it.
    void set_base_url(std::string url) {
        std::lock_guard lock(base_mu_);
        base_url_ = std::move(url);
    }
    std::string base_url() const {
        std::lock_guard lock(base_mu_);
        return base_url_;
    }
    FaultSchedule& faults() { return faults_; }
    const FaultSchedule& faults() const { return faults_; }
    const VendorOptions& options() const { return options_; }

  private:
    VendorOptions options_;
    FaultSchedule faults_;
    mutable std::mutex base_mu_;
    std::string base_url_;
};

using VendorFactory = std::function<std::unique_ptr<Vendor>(const VendorOptions&)>;

// Registers a vendor under `name`; returns true so it can initialise a static.
bool register_vendor(std::string name, VendorFactory factory);
// nullptr if no vendor has that name.
std::unique_ptr<Vendor> make_vendor(std::string_view name, const VendorOptions& options);
std::vector<std::string> vendor_names();

// One vendor on its own loopback port (vendors live on different hosts in reality).
class SimulatorServer {
  public:
    explicit SimulatorServer(std::unique_ptr<Vendor> vendor, test::HttpTestServerOptions http = {});
    SimulatorServer(std::string_view vendor_name, const VendorOptions& options,
                    test::HttpTestServerOptions http = {});

    std::string base_url() const { return http_->base_url(); }
    Vendor& vendor() { return *vendor_; }
    test::HttpTestServer& http() { return *http_; }

  private:
    std::unique_ptr<Vendor> vendor_;
    std::unique_ptr<test::HttpTestServer> http_;  // after vendor_: stops before it goes
};

// Small helpers most vendors need.
std::string url_decode(std::string_view s);
// The value of `name` in a query string or form body ("a=1&b=2"), decoded; empty if absent.
std::string form_value(std::string_view query, std::string_view name);
// All key/value pairs of a query string or form body, decoded, in order.
std::vector<std::pair<std::string, std::string>> form_pairs(std::string_view query);
std::string url_encode(std::string_view s);

}  // namespace cdphub::sim

// Registers `Class` (constructible from const VendorOptions&) as vendor `name`.
#define CDPHUB_SIM_VENDOR(name, Class)                                                \
    static const bool cdphub_sim_registered_##Class = ::cdphub::sim::register_vendor( \
        name, [](const ::cdphub::sim::VendorOptions& o) { return std::make_unique<Class>(o); })

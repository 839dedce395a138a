// cdphub-sim: every vendor simulator as one program, for the demo and for trying connectors by
// hand. Each vendor listens on its own loopback port; the base URLs are printed (and written to
// --urls-file) as a JSON object, so a script can put them into connector configs.
#include <pthread.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "simulators/simulator.hpp"

int main(int argc, char** argv) {
    using namespace cdphub::sim;
    CLI::App app{"cdphub-sim: loopback simulators of the vendors cdphub connects to", "cdphub-sim"};
    std::vector<std::string> vendors;
    std::uint64_t seed = 1, fault_seed = 1;
    std::size_t records = 1000;
    double fault_rate = 0.0;
    std::vector<std::string> fault_kinds;
    std::string urls_file, settings_file;
    app.add_option("--vendor", vendors, "Vendor to start (repeatable; default: all)");
    app.add_option("--seed", seed, "Seed of the vendors' data sets")->capture_default_str();
    app.add_option("--records", records, "Size of each vendor's data set")->capture_default_str();
    app.add_option("--fault-rate", fault_rate, "Probability that a request draws a fault")
        ->capture_default_str();
    app.add_option("--fault-seed", fault_seed, "Seed of the fault schedule")->capture_default_str();
    app.add_option("--fault", fault_kinds,
                   "Fault kind that may be drawn (repeatable): expire_token, throttle, "
                   "throttle_silent, server_error, hang_up, slow, short_page, invalidate_cursor, "
                   "mutate_rows, partial_failure");
    app.add_option("--settings", settings_file,
                   "JSON file of vendor-specific settings: {\"<vendor>\": {...}}");
    app.add_option("--urls-file", urls_file, "Write {\"<vendor>\": \"<base url>\"} here");
    bool list = false;
    app.add_flag("--list", list, "List the vendors and exit");
    CLI11_PARSE(app, argc, argv);

    if (list) {
        for (const auto& n : vendor_names()) std::cout << n << "\n";
        return 0;
    }
    if (vendors.empty()) vendors = vendor_names();
    json settings = json::object();
    if (!settings_file.empty()) {
        std::ifstream in(settings_file);
        settings = json::parse(in, nullptr, false);
        if (!settings.is_object()) {
            std::cerr << "cdphub-sim: " << settings_file << " is not a JSON object\n";
            return 2;
        }
    }
    FaultPlan plan;
    plan.seed = fault_seed;
    plan.rate = fault_rate;
    for (const auto& k : fault_kinds) {
        auto f = parse_fault(k);
        if (f == Fault::none) {
            std::cerr << "cdphub-sim: unknown fault '" << k << "'\n";
            return 2;
        }
        plan.kinds.push_back(f);
    }

    // Block the stop signals before any server thread starts, so only sigwait sees them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    std::vector<std::unique_ptr<SimulatorServer>> servers;
    json urls = json::object();
    for (const auto& name : vendors) {
        VendorOptions o;
        o.seed = seed;
        o.records = records;
        o.faults = plan;
        if (settings.contains(name)) o.settings = settings[name];
        auto v = make_vendor(name, o);
        if (!v) {
            std::cerr << "cdphub-sim: no simulator for '" << name << "'; --list shows them\n";
            return 2;
        }
        cdphub::test::HttpTestServerOptions http;
        http.record_requests = false;
        http.threads = 2;
        servers.push_back(std::make_unique<SimulatorServer>(std::move(v), http));
        urls[name] = servers.back()->base_url();
    }
    if (!urls_file.empty()) {
        std::ofstream out(urls_file + ".tmp");
        out << urls.dump(2) << "\n";
        out.close();
        std::rename((urls_file + ".tmp").c_str(), urls_file.c_str());
    }
    std::cout << urls.dump(2) << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    std::cerr << "cdphub-sim: stopping\n";
    return 0;
}

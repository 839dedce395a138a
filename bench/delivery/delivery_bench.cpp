// Delivery benchmark: N profiles in one segment, bound to one destination with a consent purpose,
// planned into the outbox (the backfill diff), then drained by the hub's delivery workers.
//   --target accept-raw  a C-ABI plugin that accepts every batch unread: wall time / N is the
//                    hub's own overhead per delivered record (outbox reads, operation batch,
//                    plugin call, settling); CPU time is reported beside it
//   --target accept  the same through the C++ SDK, which parses each batch into a json tree
//                    before write(): adds what every SDK destination pays for that parse
//   --target sfmc    the sfmc plugin against the loopback SFMC simulator (faults off), which
//                    takes the async rows API for batches above its async_threshold
// Run: build/default/bin/cdphub-delivery-bench --profiles 100000 --target accept
// The store is built with plain SQL in a temporary directory (setup, not measured); the diff
// (planning) and the delivery are timed separately. See docs/benchmarks.md ("Delivery").
#include <sys/resource.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "delivery/service.hpp"
#include "delivery/sqlite_delivery_store.hpp"
#include "plugin_host/plugin_catalog.hpp"
#include "simulators/simulator.hpp"
#include "store/database.hpp"
#include "store/sqlite_store.hpp"

namespace {

using namespace cdphub;
using namespace std::chrono_literals;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

const char* kNow = "2026-11-01T00:00:00.000Z";
const char* kPurpose = "email_marketing";

class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "cdphub-delivery-bench-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

double seconds_since(SteadyClock::time_point t0) {
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// User + system CPU seconds of the whole process (every thread, the simulator's included).
double process_cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// Profiles 1..n with an email, two traits and granted consent for kPurpose, all members of
// segment "bench"; plain SQL in one transaction, as bench/engine does.
void build_store(const std::filesystem::path& path, std::int64_t n) {
    { auto db = store::open_database(path, {}); }
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA synchronous = OFF");
    SQLite::Transaction tx(db);
    db.exec("INSERT INTO ingest_batches (id, source, received_at) VALUES (1, 'bench', '" +
            std::string(kNow) + "')");
    SQLite::Statement rec(db,
                          "INSERT INTO records (id, source, record_id, type, received_at, "
                          "batch_id, body) VALUES (?1, 'bench', ?1, 'identify', ?2, 1, '{}')");
    SQLite::Statement prof(db,
                           "INSERT INTO profiles (id, created_at, updated_at) VALUES (?1, ?2, ?2)");
    SQLite::Statement ident(
        db,
        "INSERT INTO profile_identifiers (type, value, profile_id, first_seen_at, source, "
        "record_id) VALUES ('email', ?2, ?1, ?3, 'bench', ?1)");
    SQLite::Statement trait(db,
                            "INSERT INTO profile_traits (profile_id, name, kind, value, source, "
                            "observed_at, record_id) VALUES (?1, ?2, 'string', ?3, 'bench', ?4, "
                            "?1)");
    SQLite::Statement consent(db,
                              "INSERT INTO consents (profile_id, purpose, granted, source, "
                              "occurred_at, record_id) VALUES (?1, ?2, 1, 'bench', ?3, ?1)");
    auto step = [](SQLite::Statement& s) {
        s.exec();
        s.reset();
    };
    for (std::int64_t id = 1; id <= n; ++id) {
        const auto sid = std::to_string(id);
        rec.bind(1, id);
        rec.bind(2, kNow);
        step(rec);
        prof.bind(1, id);
        prof.bind(2, kNow);
        step(prof);
        ident.bind(1, id);
        ident.bind(2, "p" + sid + "@bench.io");
        ident.bind(3, kNow);
        step(ident);
        trait.bind(1, id);
        trait.bind(2, "first_name");
        trait.bind(3, "F" + sid);
        trait.bind(4, kNow);
        step(trait);
        trait.bind(1, id);
        trait.bind(2, "tier");
        trait.bind(3, "gold");
        trait.bind(4, kNow);
        step(trait);
        consent.bind(1, id);
        consent.bind(2, kPurpose);
        consent.bind(3, kNow);
        step(consent);
    }
    tx.commit();
}

struct Options {
    std::int64_t profiles = 100'000;
    std::string target = "accept";
    std::size_t batch = delivery::DeliveryOptions{}.max_records;  // as `cdphub run`
    int rate_limit = -1;  // requests per second; -1: the plugin's declared limit, 0: none
    std::uint32_t poll_ms = 2000;
    int pending_polls = 2;
    std::size_t async_threshold = 500;
    std::string mode = "auto";
    bool journey = false;
};

std::unique_ptr<plugin_host::Connector> make_connector(
    const plugin_host::PluginCatalog& catalog, const std::string& id, const json& config,
    std::map<std::string, std::string, std::less<>> secrets, int rate_limit) {
    auto plugin = catalog.find(id);
    if (!plugin) throw std::runtime_error("plugin " + id + " not found");
    plugin_host::HostOptions h;
    // As the hub does for a manifest without rate_limit: the plugin's declared limit.
    int requests = rate_limit;
    double per_seconds = 1.0;
    if (rate_limit < 0) {
        requests = 0;
        if (auto rl = plugin->info().capabilities.find("rate_limit");
            rl != plugin->info().capabilities.end() && rl->is_object()) {
            requests = rl->value("requests", 0);
            per_seconds = rl->value("per_seconds", 1.0);
        }
    }
    if (requests > 0)
        h.http.rate_limit = {requests,
                             std::chrono::milliseconds(static_cast<int64_t>(per_seconds * 1000))};
    std::cout << "rate limit: "
              << (requests > 0 ? std::to_string(requests) + " requests per " +
                                     std::to_string(per_seconds) + " s"
                               : std::string("none"))
              << "\n";
    auto created = plugin_host::Connector::create(plugin, "bench-dest", config, std::move(secrets),
                                                  std::move(h));
    if (auto* st = std::get_if<CallStatus>(&created))
        throw std::runtime_error("create failed: " + st->to_string());
    return std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
}

int run(const Options& o) {
    TempDir dir;
    const auto db_path = dir.path() / "hub.db";
    std::cout << "profiles: " << o.profiles << ", target: " << o.target
              << ", hub batch: " << o.batch << "\n";

    auto t0 = SteadyClock::now();
    build_store(db_path, o.profiles);
    auto store = store::open_sqlite_store(db_path);
    store->define_segment({"bench", "true", json::object()});
    store->with_connection([](SQLite::Database& db, const std::string& now) {
        SQLite::Statement fill(db,
                               "INSERT INTO segment_memberships (segment_id, profile_id, "
                               "entered_at) SELECT (SELECT id FROM segments WHERE name = "
                               "'bench'), id, ? FROM profiles");
        fill.bind(1, now);
        fill.exec();
    });
    store->define_binding({"bench_binding",
                           "bench",
                           "bench-dest",
                           {{"contact_key", "identifiers.email"},
                            {"FirstName", "traits.first_name"},
                            {"Tier", "traits.tier"}},
                           std::string(kPurpose)});
    std::printf("setup (store, not measured): %.2f s\n", seconds_since(t0));

    // Planning: the binding's first diff, the whole membership as "enter" changes.
    auto cpu0 = process_cpu_seconds();
    t0 = SteadyClock::now();
    auto diff = store->plan_diff("bench_binding");
    const double plan_wall = seconds_since(t0), plan_cpu = process_cpu_seconds() - cpu0;
    std::printf("plan (diff into outbox): %.3f s wall, %.3f s CPU, %lld entered\n", plan_wall,
                plan_cpu, static_cast<long long>(diff.entered));

    // The destination.
    std::optional<sim::SimulatorServer> server;
    auto catalog = plugin_host::PluginCatalog::discover(
        {std::filesystem::path(BENCH_PLUGIN_DIR), std::filesystem::path(CDPHUB_PLUGIN_DIR)});
    std::unique_ptr<plugin_host::Connector> connector;
    if (o.target == "accept" || o.target == "accept-raw") {
        connector = make_connector(catalog, "bench-" + o.target, json::object(), {}, o.rate_limit);
    } else {
        sim::VendorOptions v;
        v.settings = {{"client_id", "cid"},
                      {"client_secret", "csecret"},
                      {"data_extension_key", "CDP_BENCH"},
                      {"pending_polls", o.pending_polls},
                      {"journey_keys", {"bench-entered"}}};
        v.faults = {};  // never throttles, never fails
        server.emplace("sfmc", v);
        json cfg = {{"auth_base_url", server->base_url()},  {"client_id", "cid"},
                    {"client_secret", "csecret"},           {"data_extension_key", "CDP_BENCH"},
                    {"key_field", "contact_key"},           {"mode", o.mode},
                    {"async_threshold", o.async_threshold}, {"poll_ms", o.poll_ms}};
        if (o.journey) cfg["journey_event_key"] = "bench-entered";
        std::printf(
            "sfmc: mode %s, async_threshold %zu, poll_ms %u, simulator pending_polls %d, "
            "journey %s\n",
            o.mode.c_str(), o.async_threshold, o.poll_ms, o.pending_polls,
            o.journey ? "on" : "off");
        connector =
            make_connector(catalog, "sfmc", cfg, {{"client_secret", "csecret"}}, o.rate_limit);
    }

    delivery::DeliveryOptions d;
    d.max_records = o.batch;
    d.seed = 1;
    delivery::SqliteDeliveryStore dstore(*store);
    delivery::DeliveryService service(dstore, d);
    service.add(std::move(connector));
    cpu0 = process_cpu_seconds();
    t0 = SteadyClock::now();
    auto reports = service.run_until_idle(5s);
    const double wall = seconds_since(t0), cpu = process_cpu_seconds() - cpu0;
    const auto& r = reports.at("bench-dest");
    const auto n = static_cast<double>(r.delivered);
    std::printf(
        "deliver: %.3f s wall, %.3f s CPU (process, all threads%s), %lld batches, "
        "%lld delivered, %lld rejected, %lld retried, %lld pending\n",
        wall, cpu, server ? ", simulator included" : "", static_cast<long long>(r.batches),
        static_cast<long long>(r.delivered), static_cast<long long>(r.rejected),
        static_cast<long long>(r.retried), static_cast<long long>(r.pending));
    if (n > 0)
        std::printf(
            "RESULT target=%s profiles=%lld records/s=%.0f us/record=%.2f "
            "cpu_us/record=%.2f deliver_s=%.3f plan_s=%.3f total_s=%.3f\n",
            o.target.c_str(), static_cast<long long>(o.profiles), n / wall, wall * 1e6 / n,
            cpu * 1e6 / n, wall, plan_wall, wall + plan_wall);
    if (!r.last_error.empty()) std::cout << "last error: " << r.last_error << "\n";
    if (server) {
        auto st = server->vendor().state();
        std::printf("simulator: %zu rows, %lld async requests, %lld rowset requests, %lld tokens\n",
                    st["rows"].size(), st.value("async_requests", 0LL),
                    st.value("rowset_requests", 0LL), st.value("tokens_issued", 0LL));
    }
    return r.delivered == o.profiles && r.pending == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"cdphub-delivery-bench: delivery workers draining a planned outbox",
                 "cdphub-delivery-bench"};
    app.add_option("--profiles", o.profiles, "segment members (profiles)")->capture_default_str();
    app.add_option("--target", o.target, "destination")
        ->check(CLI::IsMember({"accept-raw", "accept", "sfmc"}))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "hub batch limit (DeliveryOptions::max_records)")
        ->capture_default_str();
    app.add_option("--rate-limit", o.rate_limit,
                   "requests/s for the connector's HTTP client; -1: the plugin's declared limit, "
                   "0: none")
        ->capture_default_str();
    app.add_option("--poll-ms", o.poll_ms, "sfmc: async status polling interval")
        ->capture_default_str();
    app.add_option("--pending-polls", o.pending_polls,
                   "sfmc simulator: status polls an async job stays Pending")
        ->capture_default_str();
    app.add_option("--async-threshold", o.async_threshold,
                   "sfmc: rows above which a batch goes async")
        ->capture_default_str();
    app.add_option("--mode", o.mode, "sfmc: sync | async | auto")
        ->check(CLI::IsMember({"sync", "async", "auto"}))
        ->capture_default_str();
    app.add_flag("--journey", o.journey, "sfmc: also fire a journey entry event per profile");
    CLI11_PARSE(app, argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::cerr << "delivery bench failed: " << e.what() << "\n";
        return 2;
    }
}

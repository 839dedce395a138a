// `cdphub run`: the hub as a daemon. It validates the manifests, opens the store, creates every
// enabled connector and runs each source on its manifest schedule through the scheduler (never
// two runs of one instance at once). With hub.json's "ingest_api" it also serves the Segment-
// compatible ingest API and the connectors' webhooks (core/server). SIGHUP reloads the manifests if
// they are valid; SIGTERM or SIGINT stops: running syncs are cancelled between pages, their
// committed batches and cursors stay, and the process exits 0.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <map>
#include <mutex>

#include "cli/commands.hpp"
#include "cli/connector_loading.hpp"
#include "cli/engine.hpp"
#include "cli/source_sync.hpp"
#include "delivery/service.hpp"
#include "delivery/sqlite_delivery_store.hpp"
#include "logging/logging.hpp"
#include "scheduler/scheduler.hpp"
#include "secrets/secrets.hpp"
#include "server/service.hpp"

namespace cdphub::cli {
namespace {

// Everything one configuration runs; replaced as a whole on a valid reload.
struct Running {
    std::unique_ptr<Engine> engine;  // on the heap: the tasks keep its address
    std::vector<std::shared_ptr<plugin_host::Connector>> connectors;
    std::unique_ptr<std::mutex> segments_mu = std::make_unique<std::mutex>();
    std::unique_ptr<delivery::SqliteDeliveryStore> delivery_store;
    std::unique_ptr<delivery::DeliveryService> delivery;  // one worker per destination
    std::vector<scheduler::Task> tasks;                   // until begin()
    std::unique_ptr<scheduler::Scheduler> scheduler;      // last: stops before what it uses goes

    void begin() {
        scheduler = std::make_unique<scheduler::Scheduler>(std::move(tasks));
        if (delivery) delivery->start(std::chrono::seconds(1));
    }
    void stop() {
        if (scheduler) scheduler->stop();
        scheduler.reset();
        if (delivery) delivery->stop();
        delivery.reset();
    }
};

// Activations: each enabled one plans its diff on its schedule (a scheduler task), and each
// destination gets a delivery worker of its own (with its own connector instance, so its HTTP
// client and rate limit are its own) that drains the outbox as diffs fill it.
void add_activations(Loaded& l, Running& r, const std::shared_ptr<spdlog::logger>& log) {
    std::map<std::string, std::vector<delivery::BindingRef>> by_destination;
    for (const auto& a : l.manifests.activations) {
        if (!a.enabled) continue;
        by_destination[a.destination].push_back({a.name, a.segment, a.destination});
        if (a.schedule.kind != manifest::Schedule::Kind::interval) continue;
        Engine* engine = r.engine.get();
        std::mutex* mu = r.segments_mu.get();
        r.tasks.push_back(
            {"activation " + a.name,
             std::chrono::duration_cast<std::chrono::milliseconds>(a.schedule.every),
             [engine, mu, log, name = a.name](std::stop_token) {
                 std::lock_guard lock(*mu);  // a diff reads memberships the syncs write
                 try {
                     auto d = engine->store->plan_diff(name);
                     if (d.diff_id != 0)
                         log->info("activation {}: planned {} entered, {} exited, {} changed", name,
                                   d.entered, d.exited, d.changed);
                     return scheduler::RunResult{
                         {}, static_cast<std::uint64_t>(d.entered + d.exited + d.changed)};
                 } catch (const std::exception& e) {
                     return scheduler::RunResult{{StatusCode::fatal, std::nullopt, e.what()}, 0};
                 }
             }});
    }
    if (by_destination.empty()) return;
    r.delivery_store = std::make_unique<delivery::SqliteDeliveryStore>(*r.engine->store);
    r.delivery =
        std::make_unique<delivery::DeliveryService>(*r.delivery_store, delivery::DeliveryOptions{});
    for (auto& [destination, bindings] : by_destination) {
        const auto* m = l.manifests.find(destination);
        if (m == nullptr || !m->enabled) {
            log->warn("activations of {} wait: the destination is not an enabled connector",
                      destination);
            continue;
        }
        auto created = plugin_host::instantiate(l.catalog, *m, l.manifests.root);
        if (auto* d = std::get_if<Diagnostic>(&created)) {
            log->error("{}", secrets::redact(d->to_string()));
            continue;
        }
        auto c = std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
        if (!c->plugin().is_destination()) {
            log->error("activations name {} as their destination, but {} is not a destination",
                       destination, c->plugin().id);
            continue;
        }
        log->info("delivery to {} started for {} activation(s)", destination, bindings.size());
        r.delivery->add(std::move(c), std::move(bindings));
    }
}

// Builds a configuration (store, connectors, tasks) without starting its schedules, so that a
// reload can build the new one before it stops the old one.
std::optional<Running> prepare(const GlobalOptions& g, bool initial) {
    auto log = logging::get("hub");
    auto l = load_all(g);
    Diagnostics all = l.manifests.diagnostics;
    all.insert(all.end(), l.config_problems.begin(), l.config_problems.end());
    print_diagnostics(l.catalog.diagnostics());
    if (has_errors(all)) {
        print_diagnostics(all);
        log->error("manifests in {} are invalid; {}", g.manifests.string(),
                   initial ? "not starting" : "keeping the running configuration");
        return std::nullopt;
    }
    Running r;
    auto engine = open_engine(g);
    if (engine) r.engine = std::make_unique<Engine>(std::move(*engine));
    if (!r.engine) {
        log->error("the profile store could not be opened; {}",
                   initial ? "not starting" : "keeping the running configuration");
        return std::nullopt;
    }
    for (const auto& m : l.manifests.connectors) {
        if (!m.enabled) continue;
        auto created = plugin_host::instantiate(l.catalog, m, l.manifests.root);
        if (auto* d = std::get_if<Diagnostic>(&created)) {
            // One broken connector never stops the others.
            log->error("{}", secrets::redact(d->to_string()));
            continue;
        }
        std::shared_ptr<plugin_host::Connector> c =
            std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
        auto st = c->check();
        if (st.ok())
            log->info("connector {} ({} {}) started", c->id(), c->plugin().id, c->plugin().version);
        else
            log->warn("connector {} started, but its check failed: {}", c->id(),
                      secrets::redact(st.to_string()));
        r.connectors.push_back(c);
        if (!c->plugin().is_source() || m.schedule.kind != manifest::Schedule::Kind::interval)
            continue;
        Engine* engine = r.engine.get();
        std::mutex* mu = r.segments_mu.get();
        r.tasks.push_back({c->id(),
                           std::chrono::duration_cast<std::chrono::milliseconds>(m.schedule.every),
                           [c, engine, mu, log](std::stop_token stop) {
                               std::stop_callback cancel(stop, [&] { c->cancel(); });
                               auto res = sync_source(*c, *engine, mu);
                               if (res.status.ok())
                                   log->info("sync {}: {} new, {} already stored, {} rejected",
                                             c->id(), res.inserted, res.duplicates, res.rejected);
                               else
                                   log->warn("sync {} stopped after {} new records: {}", c->id(),
                                             res.inserted, secrets::redact(res.status.to_string()));
                               return scheduler::RunResult{res.status, res.inserted};
                           }});
    }
    add_activations(l, r, log);
    return r;
}

}  // namespace

int cmd_run(const GlobalOptions& g) {
    auto log = logging::get("hub");
    // Block the signals we handle so that sigwait receives them, whichever thread they target
    // (every thread started from here on inherits the mask).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto running = prepare(g, true);
    if (!running) return kProblems;
    // The ingest API (hub.json "ingest_api") is opened once, with its own engine (store
    // connection); a reload only hands it the new connectors for webhook routing.
    std::unique_ptr<Engine> ingest_engine;
    std::unique_ptr<server::IngestService> ingest;
    {
        auto l = load_all(g);
        if (l.manifests.hub.ingest_api) {
            auto e = open_engine(g);
            if (!e) return kProblems;
            ingest_engine = std::make_unique<Engine>(std::move(*e));
            try {
                auto* segments = ingest_engine->segments.get();
                ingest = std::make_unique<server::IngestService>(
                    *l.manifests.hub.ingest_api, l.manifests.hub.data_dir, l.manifests.root,
                    *ingest_engine->store, *ingest_engine->normalizer, *ingest_engine->resolver,
                    *ingest_engine->ingestor,
                    [segments](const std::string&, const store::BatchResult& r) {
                        if (!r.changed_profiles.empty())
                            segments->on_changed(r.changed_profiles, now_text());
                    });
            } catch (const std::exception& e) {
                log->error("the ingest API could not start: {}", secrets::redact(e.what()));
                return kProblems;
            }
            ingest->webhooks().set_connectors(running->connectors);
        }
    }
    running->begin();
    log->info("hub running with {} connectors; SIGHUP reloads manifests, SIGTERM stops",
              running->connectors.size());
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log->info("SIGHUP: reloading manifests from {}", g.manifests.string());
            // Only a valid configuration replaces the running one; the old one stops before
            // the new one's schedules start, so no instance ever runs twice at once.
            auto next = prepare(g, false);
            if (!next) continue;
            running->stop();
            running = std::move(next);
            running->begin();
            if (ingest) ingest->webhooks().set_connectors(running->connectors);
            log->info("reloaded: {} connectors", running->connectors.size());
            continue;
        }
        log->info("{}: stopping {} connectors (running syncs stop after their current page)",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT", running->connectors.size());
        running->stop();
        // Acknowledged events are already durable; draining just processes them now.
        if (ingest) ingest->stop();
        ingest.reset();
        log->info("stopped");
        return kOk;
    }
}

}  // namespace cdphub::cli

// `cdphub run`: the hub as a daemon. It validates the manifests, opens the store, creates every
// enabled connector and runs each source on its manifest schedule through the scheduler (never
// two runs of one instance at once). With hub.json's "ingest_api" it also serves the Segment-
// compatible ingest API and the connectors' webhooks (core/server); with "admin_api", the admin
// API and /metrics (core/admin). SIGHUP reloads the manifests if they are valid; SIGTERM or SIGINT
// stops: running syncs are cancelled between pages, their committed batches and cursors stay, and
// the process exits 0.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <map>
#include <mutex>
#include <tuple>

#include "admin/admin_api.hpp"
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

// Real-time plans add their changes to the binding's latest diff while it is younger than this.
constexpr std::chrono::milliseconds kRealtimeDiffWindow = std::chrono::minutes(1);

// Everything one configuration runs; replaced as a whole on a valid reload.
struct Running {
    std::unique_ptr<Engine> engine;  // on the heap: the tasks keep its address
    std::vector<std::shared_ptr<plugin_host::Connector>> connectors;
    std::vector<admin::ConnectorInfo> infos;  // for the admin API
    std::unique_ptr<std::mutex> segments_mu = std::make_unique<std::mutex>();
    std::unique_ptr<delivery::SqliteDeliveryStore> delivery_store;
    std::unique_ptr<delivery::DeliveryService> delivery;  // one worker per destination
    std::vector<scheduler::Task> tasks;                   // until begin()
    std::vector<std::string> realtime_activations;        // planned after each ingest batch
    manifest::HubConfig hub;                              // hub.json as loaded
    std::filesystem::path root;                           // the manifest folder
    std::unique_ptr<scheduler::Scheduler> scheduler;      // last: stops before what it uses goes

    // Profiles the ingest API's processor just changed: real-time segment evaluation with this
    // configuration's segments, then the real-time activations' diffs, so an entry is queued for
    // delivery now rather than at the activation's next scheduled run. The diff is incremental
    // (only profiles changed since the last plan), so it costs the batch, not the segment. Its
    // changes join the binding's diff of the last minute, so that activation_diffs grows by a
    // row a minute, not a row per batch.
    void on_ingested(const std::vector<store::ProfileId>& changed) {
        std::lock_guard lock(*segments_mu);
        engine->segments->on_changed(changed, now_text());
        for (const auto& name : realtime_activations) {
            try {
                engine->store->plan_diff(name, kRealtimeDiffWindow);
            } catch (const std::exception& e) {
                // The event is stored and the plan did not advance: the next plan (real-time or
                // scheduled) picks these profiles up again.
                logging::get("hub")->warn("activation {}: real-time plan failed: {}", name,
                                          secrets::redact(e.what()));
            }
        }
    }

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
        if (a.realtime) r.realtime_activations.push_back(a.name);
        // A manual activation gets a task too (every 0), so the admin API can run it now.
        Engine* engine = r.engine.get();
        std::mutex* mu = r.segments_mu.get();
        r.tasks.push_back(
            {"activation " + a.name,
             a.schedule.kind == manifest::Schedule::Kind::interval
                 ? std::chrono::duration_cast<std::chrono::milliseconds>(a.schedule.every)
                 : std::chrono::milliseconds(0),
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
        r.delivery->add(std::move(c), std::move(bindings),
                        delivery::with_settings({}, m->delivery));
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
        r.infos.push_back({c->id(), c->plugin().id, c->plugin().version, c->plugin().is_source(),
                           c->plugin().is_destination(), manifest::describe(m.schedule),
                           m.description});
        if (!c->plugin().is_source()) continue;
        // A manual source gets a task too (every 0): it runs only when the admin API asks.
        Engine* engine = r.engine.get();
        std::mutex* mu = r.segments_mu.get();
        r.tasks.push_back(
            {c->id(),
             m.schedule.kind == manifest::Schedule::Kind::interval
                 ? std::chrono::duration_cast<std::chrono::milliseconds>(m.schedule.every)
                 : std::chrono::milliseconds(0),
             [c, engine, mu, log](std::stop_token stop) {
                 std::stop_callback cancel(stop, [&] { c->cancel(); });
                 auto res = sync_source(*c, *engine, mu, "daemon");
                 if (res.status.ok())
                     log->info("sync {}: {} new, {} already stored, {} rejected", c->id(),
                               res.inserted, res.duplicates, res.rejected);
                 else
                     log->warn("sync {} stopped after {} new records: {}", c->id(), res.inserted,
                               secrets::redact(res.status.to_string()));
                 return scheduler::RunResult{res.status, res.inserted};
             }});
    }
    add_activations(l, r, log);
    r.hub = l.manifests.hub;
    r.root = l.manifests.root;
    return r;
}

// The admin API's view of the daemon: whatever configuration runs now (a reload swaps it under
// the lock).
class DaemonView final : public admin::HubView {
  public:
    explicit DaemonView(const GlobalOptions& g) : g_(g) {}

    void set(Running* running, const server::IngestService* ingest) {
        std::lock_guard lock(mu_);
        running_ = running;
        ingest_ = ingest;
    }
    std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

    std::vector<admin::ConnectorInfo> connectors() override {
        std::lock_guard lock(mu_);
        return running_ ? running_->infos : std::vector<admin::ConnectorInfo>{};
    }
    std::vector<scheduler::TaskStatus> tasks() override {
        std::lock_guard lock(mu_);
        return running_ && running_->scheduler ? running_->scheduler->status()
                                               : std::vector<scheduler::TaskStatus>{};
    }
    bool run_now(const std::string& task) override {
        std::lock_guard lock(mu_);
        return running_ && running_->scheduler && running_->scheduler->run_now(task);
    }
    Diagnostics validate_manifests() override {
        auto l = load_all(g_);
        Diagnostics all = l.manifests.diagnostics;
        all.insert(all.end(), l.config_problems.begin(), l.config_problems.end());
        return all;
    }
    const server::IngestService* ingest() override {
        std::lock_guard lock(mu_);
        return ingest_;
    }
    // Runs the ingest API's changed profiles through the running configuration; false while
    // none runs (starting or stopping), when the caller evaluates them on its own.
    bool on_ingested(const std::vector<store::ProfileId>& changed) {
        std::lock_guard lock(mu_);
        if (running_ == nullptr) return false;
        running_->on_ingested(changed);
        return true;
    }

  private:
    const GlobalOptions& g_;
    std::mutex mu_;
    Running* running_ = nullptr;
    const server::IngestService* ingest_ = nullptr;
};

// The admin API (hub.json "admin_api") with an engine (store connection) of its own.
struct AdminService {
    std::unique_ptr<Engine> engine;
    std::unique_ptr<admin::AdminApi> api;
};

// The admin token of hub.json, resolved and checked; nullopt (logged) if it is unusable.
std::optional<std::string> admin_token(const manifest::AdminApiConfig& config,
                                       const std::filesystem::path& root) {
    auto log = logging::get("hub");
    auto token = secrets::resolve(config.token, root);
    if (!token.value) {
        log->error("admin_api: the admin token cannot be read ({}): {}",
                   secrets::describe(config.token), token.error);
        return std::nullopt;
    }
    if (token.value->size() < 16) {
        log->error(
            "admin_api: the admin token is shorter than 16 characters; use a long random "
            "one (e.g. openssl rand -hex 32)");
        return std::nullopt;
    }
    return std::move(*token.value);
}

std::optional<AdminService> open_admin(const GlobalOptions& g, const manifest::ManifestSet& m,
                                       DaemonView& view) {
    auto token = admin_token(*m.hub.admin_api, m.root);
    if (!token) return std::nullopt;
    auto e = open_engine(g);
    if (!e) return std::nullopt;
    AdminService a;
    a.engine = std::make_unique<Engine>(std::move(*e));
    a.api = std::make_unique<admin::AdminApi>(
        admin::AdminDeps{*a.engine->store, *a.engine->normalizer, *a.engine->segments,
                         *a.engine->ingestor, view},
        std::move(*token), m.hub.admin_api->metrics_public);
    return a;
}

// What a reload changes of the HTTP side: the write keys and the admin token take effect at
// once; they are resolved before anything is swapped, so that a key file that cannot be read
// refuses the reload as an invalid manifest does. The listener, the inbox and whether the two
// APIs run at all are fixed at start.
struct Credentials {
    std::optional<server::WriteKeys> write_keys;  // when the ingest API runs
    std::optional<std::string> admin_token;       // when the admin API runs and hub.json has it
    bool metrics_public = true;
};

std::optional<Credentials> reload_credentials(const Running& now, const Running& next,
                                              bool ingest_runs, bool admin_runs) {
    auto log = logging::get("hub");
    Credentials c;
    if (ingest_runs) {
        try {
            c.write_keys = server::resolve_write_keys(
                next.hub.ingest_api.value_or(manifest::IngestApiConfig{}), next.root);
        } catch (const std::exception& e) {
            log->error("{}", secrets::redact(e.what()));
            return std::nullopt;
        }
    }
    if (admin_runs && next.hub.admin_api) {
        c.admin_token = admin_token(*next.hub.admin_api, next.root);
        if (!c.admin_token) return std::nullopt;
        c.metrics_public = next.hub.admin_api->metrics_public;
    }
    const auto listener = [](const Running& r) {
        const auto a = r.hub.ingest_api.value_or(manifest::IngestApiConfig{});
        return std::make_tuple(r.hub.ingest_api.has_value(), r.hub.admin_api.has_value(), a.address,
                               a.port, a.threads, a.durability_full, a.max_queued_events,
                               a.max_backlog_events, a.read_timeout, a.retry_after_seconds,
                               r.hub.data_dir);
    };
    if (listener(now) != listener(next))
        log->warn(
            "hub.json: only the write keys and the admin token apply on a reload; the changed "
            "listener, inbox or data_dir settings (or adding or removing ingest_api or "
            "admin_api) take effect when the hub is restarted");
    return c;
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
    // connection); a reload hands it the new connectors for webhook routing, and the changed
    // profiles of its batches go through whatever configuration runs (DaemonView::on_ingested).
    // Declared so that the server goes first and the view last.
    DaemonView view(g);
    std::optional<AdminService> admin_service;
    std::unique_ptr<Engine> ingest_engine;
    std::unique_ptr<server::IngestService> ingest;
    {
        auto l = load_all(g);
        if (l.manifests.hub.admin_api) {
            admin_service = open_admin(g, l.manifests, view);
            if (!admin_service) return kProblems;
        }
        if (l.manifests.hub.ingest_api || l.manifests.hub.admin_api) {
            auto e = open_engine(g);
            if (!e) return kProblems;
            ingest_engine = std::make_unique<Engine>(std::move(*e));
            try {
                auto* segments = ingest_engine->segments.get();
                ingest = std::make_unique<server::IngestService>(
                    l.manifests.hub.ingest_api.value_or(manifest::IngestApiConfig{}),
                    l.manifests.hub.data_dir, l.manifests.root, *ingest_engine->store,
                    *ingest_engine->normalizer, *ingest_engine->resolver, *ingest_engine->ingestor,
                    [segments, &view](const std::string&, const store::BatchResult& r) {
                        if (r.changed_profiles.empty()) return;
                        try {
                            if (!view.on_ingested(r.changed_profiles))
                                segments->on_changed(r.changed_profiles, now_text());
                        } catch (const std::exception& e) {
                            // The records are stored; `cdphub segment evaluate` catches up.
                            logging::get("hub")->error("real-time segment evaluation failed: {}",
                                                       secrets::redact(e.what()));
                        }
                    },
                    admin_service ? admin_service->api->handler() : server::AdminHandler{});
            } catch (const std::exception& e) {
                log->error("the ingest API could not start: {}", secrets::redact(e.what()));
                return kProblems;
            }
            ingest->webhooks().set_connectors(running->connectors);
        }
    }
    running->begin();
    view.set(&*running, ingest.get());
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
            auto credentials =
                reload_credentials(*running, *next, ingest != nullptr, admin_service.has_value());
            if (!credentials) {
                log->error(
                    "hub.json's credentials are unusable; keeping the running configuration");
                continue;
            }
            {
                auto hold = view.lock();  // no admin call sees a half-swapped configuration
                running->stop();
                running = std::move(next);
                running->begin();
            }
            if (ingest) ingest->webhooks().set_connectors(running->connectors);
            if (ingest && credentials->write_keys)
                ingest->set_write_keys(std::move(*credentials->write_keys));
            if (admin_service && credentials->admin_token)
                admin_service->api->set_credentials(std::move(*credentials->admin_token),
                                                    credentials->metrics_public);
            log->info("reloaded: {} connectors", running->connectors.size());
            continue;
        }
        log->info("{}: stopping {} connectors (running syncs stop after their current page)",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT", running->connectors.size());
        // The server (and with it the admin API) stops first: nothing reads the configuration
        // while it goes. Acknowledged events are already durable; draining processes them now.
        if (ingest) ingest->stop();
        view.set(nullptr, nullptr);
        running->stop();
        ingest.reset();
        log->info("stopped");
        return kOk;
    }
}

}  // namespace cdphub::cli

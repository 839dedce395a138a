#include "admin/metrics.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "delivery/sqlite_delivery_store.hpp"
#include "server/service.hpp"

namespace cdphub::admin {
namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\', out += c;
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

class Writer {
  public:
    // One HELP and TYPE per family, then its samples.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    }
    template <class V>
    void sample(std::string_view name, V value, std::string_view labels = {}) {
        out_ << name;
        if (!labels.empty()) out_ << '{' << labels << '}';
        out_ << ' ' << value << '\n';
    }
    std::string str() const { return out_.str(); }

  private:
    std::ostringstream out_;
};

std::string kv(std::string_view k, std::string_view v) {
    return std::string(k) + "=\"" + label(v) + "\"";
}

void ingest_metrics(Writer& w, const server::IngestService& ingest) {
    const auto& c = ingest.counters();
    w.family("cdphub_http_requests_total", "counter", "HTTP requests read completely.");
    w.sample("cdphub_http_requests_total", c.requests.load());
    w.family("cdphub_http_connections_total", "counter", "TCP connections accepted.");
    w.sample("cdphub_http_connections_total", c.connections.load());
    w.family("cdphub_ingest_events_accepted_total", "counter",
             "Events durably written to the inbox and acknowledged with 200.");
    w.sample("cdphub_ingest_events_accepted_total", c.events_accepted.load());
    w.family("cdphub_http_errors_total", "counter", "Requests answered with an error, by class.");
    w.sample("cdphub_http_errors_total", c.bad_requests.load(), kv("class", "bad_request"));
    w.sample("cdphub_http_errors_total", c.unauthorized.load(), kv("class", "unauthorized"));
    w.sample("cdphub_http_errors_total", c.throttled.load(), kv("class", "throttled"));
    w.sample("cdphub_http_errors_total", c.server_errors.load(), kv("class", "server_error"));
    w.family("cdphub_webhook_requests_total", "counter", "Requests to connector webhooks.");
    w.sample("cdphub_webhook_requests_total", c.webhook_requests.load());
    w.family("cdphub_admin_requests_total", "counter", "Requests to the admin API and /metrics.");
    w.sample("cdphub_admin_requests_total", c.admin_requests.load());

    // Cumulative buckets, as the format wants them.
    w.family("cdphub_ingest_request_duration_seconds", "histogram",
             "Tracking API requests: from the request read to its answer (inbox commit "
             "included).");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < server::kLatencyBucketsMs.size(); ++i) {
        cumulative += c.latency_buckets[i].load();
        std::ostringstream le;
        le << server::kLatencyBucketsMs[i] / 1000.0;
        w.sample("cdphub_ingest_request_duration_seconds_bucket", cumulative, kv("le", le.str()));
    }
    cumulative += c.latency_buckets.back().load();
    w.sample("cdphub_ingest_request_duration_seconds_bucket", cumulative, kv("le", "+Inf"));
    w.sample("cdphub_ingest_request_duration_seconds_sum",
             static_cast<double>(c.latency_sum_us.load()) / 1e6);
    w.sample("cdphub_ingest_request_duration_seconds_count", cumulative);

    const auto& inbox = ingest.inbox();
    w.family("cdphub_inbox_queued_events", "gauge", "Events waiting for the inbox writer.");
    w.sample("cdphub_inbox_queued_events", inbox.queued_events());
    w.family("cdphub_inbox_unprocessed_events", "gauge",
             "Events committed to the inbox and not yet processed into the profile store.");
    w.sample("cdphub_inbox_unprocessed_events", inbox.last_position() - inbox.processed_position());
    w.family("cdphub_inbox_commits_total", "counter", "Inbox group commits.");
    w.sample("cdphub_inbox_commits_total", inbox.commits());
    w.family("cdphub_inbox_commit_failures_total", "counter", "Inbox commits that failed.");
    w.sample("cdphub_inbox_commit_failures_total", inbox.commit_failures());
    const auto& processor = ingest.processor();
    w.family("cdphub_processor_events_total", "counter",
             "Inbox events processed into the profile store (stored or rejected).");
    w.sample("cdphub_processor_events_total", processor.processed_events());
    w.family("cdphub_processor_lag_seconds", "gauge",
             "Age of the newest event of the last processed batch when it was processed.");
    w.sample("cdphub_processor_lag_seconds", static_cast<double>(processor.lag_ms()) / 1000.0);
}

void scheduler_metrics(Writer& w, HubView& hub) {
    auto tasks = hub.tasks();
    w.family("cdphub_task_runs_total", "counter",
             "Runs of scheduled tasks (a source's sync is named by its instance, an "
             "activation's diff planning 'activation <name>').");
    for (const auto& t : tasks) w.sample("cdphub_task_runs_total", t.runs, kv("task", t.name));
    w.family("cdphub_task_failures_total", "counter", "Failed runs of scheduled tasks.");
    for (const auto& t : tasks)
        w.sample("cdphub_task_failures_total", t.failures, kv("task", t.name));
    w.family("cdphub_task_items_total", "counter",
             "Items a task's runs handled (new records of a sync, changes of a diff).");
    for (const auto& t : tasks) w.sample("cdphub_task_items_total", t.items, kv("task", t.name));
    w.family("cdphub_task_state", "gauge", "1 for the state each task is in.");
    for (const auto& t : tasks)
        w.sample("cdphub_task_state", 1,
                 kv("task", t.name) + "," + kv("state", scheduler::state_name(t.state)));
}

void store_metrics(Writer& w, store::SqliteProfileStore& store) {
    // Sync runs by source and outcome: errors by class, across restarts.
    std::vector<std::tuple<std::string, std::string, std::int64_t, std::int64_t, std::int64_t>>
        runs;
    store.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT source, status, count(*), sum(inserted), sum(rejected) "
                            "FROM sync_runs GROUP BY source, status ORDER BY source, status");
        while (q.executeStep())
            runs.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString(),
                              q.getColumn(2).getInt64(), q.getColumn(3).getInt64(),
                              q.getColumn(4).getInt64());
    });
    w.family("cdphub_sync_runs_total", "counter", "Source sync runs by outcome (status code).");
    for (const auto& [src, status, n, ins, rej] : runs)
        w.sample("cdphub_sync_runs_total", n, kv("source", src) + "," + kv("status", status));
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> per_source;
    for (const auto& [src, status, n, ins, rej] : runs) {
        per_source[src].first += ins;
        per_source[src].second += rej;
    }
    // Each family's samples follow its own HELP and TYPE lines, as the format requires.
    w.family("cdphub_sync_records_inserted_total", "counter", "New records stored by syncs.");
    for (const auto& [src, v] : per_source)
        w.sample("cdphub_sync_records_inserted_total", v.first, kv("source", src));
    w.family("cdphub_sync_records_rejected_total", "counter", "Records syncs rejected.");
    for (const auto& [src, v] : per_source)
        w.sample("cdphub_sync_records_rejected_total", v.second, kv("source", src));

    delivery::SqliteDeliveryStore ds(store);
    auto bindings = ds.binding_status();
    w.family("cdphub_activation_changes", "gauge",
             "Outbox changes per activation and status (pending, delivered, rejected, dead).");
    for (const auto& b : bindings) {
        const auto& c = b.counts;
        w.sample("cdphub_activation_changes", c.pending,
                 kv("activation", c.name) + "," + kv("status", "pending"));
        w.sample("cdphub_activation_changes", c.delivered,
                 kv("activation", c.name) + "," + kv("status", "delivered"));
        w.sample("cdphub_activation_changes", c.rejected,
                 kv("activation", c.name) + "," + kv("status", "rejected"));
        w.sample("cdphub_activation_changes", c.dead,
                 kv("activation", c.name) + "," + kv("status", "dead"));
    }
    std::set<std::string> destinations;
    for (const auto& b : bindings) destinations.insert(b.counts.destination);
    w.family("cdphub_delivery_sent_total", "counter", "Changes a destination accepted.");
    w.family("cdphub_delivery_failed_total", "counter",
             "Changes rejected by a destination or dead-lettered.");
    w.family("cdphub_delivery_state", "gauge", "1 for the state each destination is in.");
    for (const auto& d : destinations) {
        auto s = ds.destination_status(d);
        w.sample("cdphub_delivery_sent_total", s.sent, kv("destination", d));
        w.sample("cdphub_delivery_failed_total", s.failed, kv("destination", d));
        w.sample("cdphub_delivery_state", 1,
                 kv("destination", d) + "," + kv("state", delivery::to_string(s.state)));
    }

    auto pc = store.profile_counts();
    auto sc = store.counts();
    w.family("cdphub_profiles", "gauge", "Profiles: live ones, and tombstones of merged ones.");
    w.sample("cdphub_profiles", pc.live, kv("state", "live"));
    w.sample("cdphub_profiles", pc.merged, kv("state", "merged"));
    w.family("cdphub_merges", "gauge", "Identity merges in effect (not undone).");
    w.sample("cdphub_merges", pc.merges);
    w.family("cdphub_records", "gauge", "Records in the store.");
    w.sample("cdphub_records", sc.records);
    w.family("cdphub_rejected_records", "gauge", "Records in the rejected store.");
    w.sample("cdphub_rejected_records", sc.rejected_records);
}

}  // namespace

std::string render_metrics(HubView& hub, store::SqliteProfileStore& store) {
    Writer w;
    if (const auto* ingest = hub.ingest()) ingest_metrics(w, *ingest);
    scheduler_metrics(w, hub);
    store_metrics(w, store);
    return w.str();
}

}  // namespace cdphub::admin

#include "cli/sync_command.hpp"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <set>
#include <thread>

#include "cli/connector_loading.hpp"
#include "cli/engine.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::cli {
namespace {

// Counts what each committed batch did, on top of the pipeline's sink.
class CountingSink final : public plugin_host::RecordSink {
  public:
    CountingSink(pipeline::Ingestor& ingestor, std::string source)
        : inner_(ingestor, std::move(source)) {}
    std::string cursor() override { return inner_.cursor(); }
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override {
        auto st = inner_.commit(std::move(records), std::move(cursor));
        if (!st.ok()) return st;
        const auto& r = inner_.last_result();
        ++batches;
        inserted += r.inserted;
        duplicates += r.duplicates;
        rejected += r.rejected + r.rejected_duplicates;
        changed.insert(r.changed_profiles.begin(), r.changed_profiles.end());
        return st;
    }

    std::uint64_t batches = 0, inserted = 0, duplicates = 0, rejected = 0;
    std::set<store::ProfileId> changed;

  private:
    pipeline::IngestSink inner_;
};

// Turns SIGINT/SIGTERM into a cancellation of the running read, so the plugin stops between
// pages and everything committed so far stays committed.
class InterruptWatcher {
  public:
    explicit InterruptWatcher(plugin_host::Connector& c) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);  // our own wake-up when the sync ends
        pthread_sigmask(SIG_BLOCK, &set, &old_);
        thread_ = std::thread([set, &c] {
            int sig = 0;
            if (sigwait(&set, &sig) == 0 && sig != SIGUSR1) {
                std::cerr << "\ncdphub sync: stopping after the current page...\n";
                c.cancel();
            }
        });
    }
    ~InterruptWatcher() {
        pthread_kill(thread_.native_handle(), SIGUSR1);
        thread_.join();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  private:
    sigset_t old_{};
    std::thread thread_;
};

}  // namespace

int cmd_sync(const GlobalOptions& g, const std::string& instance) {
    auto l = load_all(g);
    auto connector = open_connector(l, g, instance);
    if (!connector) return kProblems;
    if (!connector->plugin().is_source()) {
        std::cerr << "cdphub sync: " << instance << " (" << connector->plugin().id
                  << ") is not a source; destinations are delivered by 'cdphub run'\n";
        return kProblems;
    }
    auto engine = open_engine(g);
    if (!engine) return kProblems;

    CountingSink sink(*engine->ingestor, instance);
    const auto start = std::chrono::steady_clock::now();
    const std::string cursor_before = sink.cursor();
    plugin_host::ReadResult r;
    {
        InterruptWatcher watcher(*connector);
        r = connector->read(sink);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Real-time segment evaluation of what changed (computed traits included).
    if (!sink.changed.empty())
        engine->segments->on_changed({sink.changed.begin(), sink.changed.end()}, now_text());

    std::cout << instance << " (" << connector->plugin().id << " " << connector->plugin().version
              << "): " << sink.inserted << " new records, " << sink.duplicates
              << " already stored, " << sink.rejected << " rejected, in " << sink.batches
              << " batches, " << static_cast<int>(secs * 10) / 10.0 << " s\n";
    const std::string cursor_after = sink.cursor();
    std::cout << "  cursor " << (cursor_after.empty() ? "(none)" : cursor_after)
              << (cursor_after == cursor_before ? " (unchanged)" : "") << "\n";
    if (sink.rejected)
        std::cout << "  see why records were rejected: cdphub rejected --source " << instance
                  << "\n";
    if (r.status.ok()) return kOk;
    std::cerr << instance << ": sync stopped: " << secrets::redact(r.status.to_string()) << "\n";
    if (r.status.code == StatusCode::cancelled)
        std::cerr << "Everything up to the cursor above is stored; the next sync resumes there.\n";
    return kProblems;
}

}  // namespace cdphub::cli

#include "cli/sync_command.hpp"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/connector_loading.hpp"
#include "cli/delivery_commands.hpp"
#include "cli/engine.hpp"
#include "cli/source_sync.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::cli {
namespace {

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
    // An activation's name: deliver that binding now.
    for (const auto& a : l.manifests.activations)
        if (a.name == instance) return cmd_sync_binding(g, l, instance);
    auto connector = open_connector(l, g, instance);
    if (!connector) return kProblems;
    if (!connector->plugin().is_source()) {
        std::cerr << "cdphub sync: " << instance << " (" << connector->plugin().id
                  << ") is not a source; destinations are delivered by 'cdphub run'\n";
        return kProblems;
    }
    auto engine = open_engine(g);
    if (!engine) return kProblems;

    const auto start = std::chrono::steady_clock::now();
    SourceSyncResult r;
    {
        InterruptWatcher watcher(*connector);
        r = sync_source(*connector, *engine);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << instance << " (" << connector->plugin().id << " " << connector->plugin().version
              << "): " << r.inserted << " new records, " << r.duplicates << " already stored, "
              << r.rejected << " rejected, in " << r.batches << " batches, "
              << static_cast<int>(secs * 10) / 10.0 << " s\n";
    std::cout << "  cursor " << (r.cursor_after.empty() ? "(none)" : r.cursor_after)
              << (r.cursor_after == r.cursor_before ? " (unchanged)" : "") << "\n";
    if (r.rejected)
        std::cout << "  see why records were rejected: cdphub rejected --source " << instance
                  << "\n";
    if (r.status.ok()) return kOk;
    std::cerr << instance << ": sync stopped: " << secrets::redact(r.status.to_string()) << "\n";
    if (r.status.code == StatusCode::cancelled)
        std::cerr << "Everything up to the cursor above is stored; the next sync resumes there.\n";
    return kProblems;
}

}  // namespace cdphub::cli

#include "cli/delivery_commands.hpp"

#include <iostream>

#include "cli/engine.hpp"
#include "delivery/service.hpp"
#include "delivery/sqlite_delivery_store.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::cli {

int cmd_sync_binding(const GlobalOptions& g, Loaded& l, const std::string& binding) {
    const manifest::ActivationManifest* a = nullptr;
    for (const auto& x : l.manifests.activations)
        if (x.name == binding) a = &x;
    if (a == nullptr) return kProblems;
    auto connector = open_connector(l, g, a->destination);
    if (!connector) return kProblems;
    if (!connector->plugin().is_destination()) {
        std::cerr << "cdphub sync: activation " << binding << " names " << a->destination
                  << ", which is not a destination\n";
        return kProblems;
    }
    auto engine = open_engine(g);
    if (!engine) return kProblems;
    try {
        auto d = engine->store->plan_diff(binding);
        if (d.diff_id != 0)
            std::cout << binding << ": planned diff " << d.diff_id
                      << (d.backfill ? " (backfill)" : "") << ": " << d.entered << " entered, "
                      << d.exited << " exited, " << d.changed << " changed\n";
        delivery::SqliteDeliveryStore ds(*engine->store);
        delivery::DeliveryService service(ds, {});
        const auto* m = l.manifests.find(a->destination);
        service.add(std::move(connector), {{binding, a->segment, a->destination}},
                    delivery::with_settings({}, m != nullptr ? m->delivery : std::nullopt));
        auto r = service.run_until_idle(std::chrono::seconds(60))[a->destination];
        std::cout << binding << " -> " << a->destination << ": " << r.delivered << " delivered, "
                  << r.rejected << " rejected, " << r.retried << " to retry, " << r.pending
                  << " pending, in " << r.batches << " batches; destination "
                  << delivery::to_string(r.state) << "\n";
        if (!r.last_error.empty())
            std::cout << "  last error: " << secrets::redact(r.last_error) << "\n";
        if (r.rejected > 0)
            std::cout << "  see why: cdphub activation failures " << binding << "\n";
        return r.pending == 0 && r.state == delivery::DestinationState::running ? kOk : kProblems;
    } catch (const store::UnknownName& ex) {
        std::cerr << "cdphub sync: " << ex.what() << "\n";
        return kProblems;
    }
}

int cmd_activations(const GlobalOptions& g) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    delivery::SqliteDeliveryStore ds(*e->store);
    // The first columns are the outbox's (as before delivery existed), then delivery's own.
    std::cout << "binding  segment  destination  planned  pending  sent  rejected  dead  state  "
                 "last diff  last sync  last error\n";
    for (const auto& b : ds.binding_status()) {
        const auto& c = b.counts;
        auto dst = ds.destination_status(c.destination);
        std::string state(delivery::to_string(dst.state));
        if (dst.state == delivery::DestinationState::paused && dst.paused_until)
            state += " (breaker open until " + *dst.paused_until + ")";
        std::cout << c.name << "  " << c.segment << "  " << c.destination << "  "
                  << c.members_planned << "  " << c.pending << "  " << c.delivered << "  "
                  << c.rejected << "  " << c.dead << "  " << state << "  "
                  << c.last_diff_at.value_or("never") << "  " << dst.last_sync_at.value_or("never")
                  << "  " << secrets::redact(b.last_error.value_or(dst.last_error.value_or("-")))
                  << "\n";
    }
    return kOk;
}

int cmd_activation_failures(const GlobalOptions& g, const std::string& binding, std::size_t limit) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    delivery::SqliteDeliveryStore ds(*e->store);
    try {
        for (const auto& f : ds.failures(binding, limit))
            std::cout << f.change_id << "  profile " << f.profile_id << "  " << f.op << "  "
                      << f.status << " after " << f.attempts
                      << " attempts: " << secrets::redact(f.error) << "\n";
        return kOk;
    } catch (const store::UnknownName& ex) {
        std::cerr << "cdphub activation failures: " << ex.what() << "\n";
        return kProblems;
    }
}

int cmd_activation_replay(const GlobalOptions& g, const std::string& binding) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    delivery::SqliteDeliveryStore ds(*e->store);
    try {
        auto r = ds.replay_dead(binding);
        std::cout << binding << ": " << r.requeued << " dead-lettered changes back in the outbox";
        if (r.superseded > 0)
            std::cout << "; " << r.superseded
                      << " left dead because a later change of the same profile was delivered";
        std::cout << ". Deliver them with: cdphub sync " << binding << "\n";
        return kOk;
    } catch (const store::UnknownName& ex) {
        std::cerr << "cdphub activation replay: " << ex.what() << "\n";
        return kProblems;
    }
}

}  // namespace cdphub::cli

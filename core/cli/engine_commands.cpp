#include "cli/engine_commands.hpp"

#include <iostream>

#include "cli/engine.hpp"
#include "pipeline/rejected_replay.hpp"
#include "store/activation_types.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::cli {

namespace {

std::string id_text(const store::IdentifierValue& id) {
    return id.type + ":" + id.value;
}

std::optional<store::ProfileId> find(Engine& e, const std::string& who) {
    auto colon = who.find(':');
    if (colon == std::string::npos) {
        try {
            std::size_t used = 0;
            auto id = std::stoll(who, &used);
            if (used == who.size()) return id;
        } catch (const std::exception&) {
        }
        std::cerr << "cdphub profile: '" << who
                  << "' is neither a profile id nor TYPE:VALUE (e.g. email:ann@shop.io)\n";
        return std::nullopt;
    }
    // Look the identifier up as the normalizer would store it (lower-cased email, E.164 phone).
    std::string type = who.substr(0, colon), value = who.substr(colon + 1);
    if (auto stored = e.normalizer->lookup_form(type, value)) std::tie(type, value) = *stored;
    auto p = e.store->find_profile(type, value);
    if (!p) std::cerr << "cdphub profile: no profile holds " << type << ":" << value << "\n";
    return p;
}

void print_details(const store::ProfileDetails& d, bool explain) {
    std::cout << "Profile " << d.id;
    if (d.requested) std::cout << " (you asked for " << *d.requested << ", merged into it)";
    std::cout << "\n  created " << d.created_at << ", updated " << d.updated_at << "\n";
    std::cout << "Identifiers:\n";
    for (const auto& i : d.identifiers) {
        std::cout << "  " << id_text(i.id);
        if (explain)
            std::cout << "   first seen " << i.first_seen_at << " from " << i.source
                      << (i.record_id ? " record " + *i.record_id : std::string());
        std::cout << "\n";
    }
    std::cout << "Traits:\n";
    for (const auto& t : d.traits) {
        std::cout << "  " << t.name << " = " << t.observation.value.dump();
        if (explain)
            std::cout << "   from " << t.observation.source << " at " << t.observation.observed_at
                      << (t.record_id ? " record " + *t.record_id : std::string());
        std::cout << "\n";
    }
    if (!d.computed.empty()) {
        std::cout << "Computed traits:\n";
        for (const auto& [name, v] : d.computed)
            std::cout << "  " << name << " = " << v.first.dump() << "   computed " << v.second
                      << "\n";
    }
    if (!d.consents.empty()) {
        std::cout << "Consent:\n";
        for (const auto& [purpose, c] : d.consents)
            std::cout << "  " << purpose << ": " << (c.granted ? "granted" : "withdrawn") << " at "
                      << c.occurred_at << " via " << c.source << "\n";
    }
    std::cout << "Activity: " << d.events << " events, " << d.orders
              << " orders; records by source:";
    for (const auto& [src, n] : d.records_by_source) std::cout << " " << src << "=" << n;
    std::cout << "\n";
    if (!d.segments.empty()) {
        std::cout << "Segments:\n";
        for (const auto& m : d.segments)
            std::cout << "  " << m.segment << " since " << m.entered_at << "\n";
    }
    if (!explain) return;
    std::cout << "Why this is one profile (merge log):\n";
    if (d.merges.empty()) std::cout << "  no merges: every record matched it directly\n";
    for (const auto& m : d.merges) {
        std::cout << "  merge " << m.id << " at " << m.merged_at << ": profile " << m.absorbed
                  << " joined " << m.survivor << " because a record matched "
                  << id_text(m.survivor_link) << " (on " << m.survivor << ") and "
                  << id_text(m.absorbed_link) << " (on " << m.absorbed << ")";
        if (m.record) std::cout << ", store record #" << *m.record;
        if (m.undone_by) std::cout << "  [undone by unmerge " << *m.undone_by << "]";
        std::cout << "\n";
    }
    if (!d.merges.empty())
        std::cout << "  to split a wrong merge: cdphub profile unmerge MERGE_ID --reason '...'\n";
    if (!d.separations.empty()) {
        std::cout << "Kept apart by unmerges:\n";
        for (const auto& [a, b] : d.separations)
            std::cout << "  " << id_text(a) << " never with " << id_text(b) << "\n";
    }
    if (!d.notes.empty()) {
        std::cout << "Identifiers its records carried that were not linked:\n";
        for (const auto& n : d.notes) {
            for (const auto& b : n.resolution.value("blocked", nlohmann::json::array()))
                std::cout << "  " << n.source << " record " << n.record_id << ": "
                          << b.value("type", "") << ":" << b.value("value", "")
                          << " is a placeholder (blocked by /" << b.value("pattern", "") << "/)\n";
            for (const auto& x : n.resolution.value("dropped", nlohmann::json::array()))
                std::cout << "  " << n.source << " record " << n.record_id << ": "
                          << x.value("type", "") << ":" << x.value("value", "")
                          << " dropped: " << x.value("reason", "") << "\n";
        }
    }
}

}  // namespace

int cmd_profile_show(const GlobalOptions& g, const std::string& who, bool explain) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    auto id = find(*e, who);
    if (!id) return kProblems;
    auto d = e->store->profile_details(*id);
    if (!d) {
        std::cerr << "cdphub profile: there is no profile " << *id << "\n";
        return kProblems;
    }
    print_details(*d, explain);
    return kOk;
}

int cmd_profile_unmerge(const GlobalOptions& g, std::int64_t merge_id, const std::string& reason) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    try {
        auto r = e->resolver->unmerge(merge_id, reason, *e->store, *e->normalizer);
        e->segments->on_changed(r.changed, now_text());
        std::cout << "Unmerge " << r.unmerge_id << ": merge " << merge_id
                  << " undone; its records now resolve to profiles";
        for (auto p : r.profiles) std::cout << " " << p;
        std::cout << ".\nThe identifiers it linked by stay apart for future records. Segment "
                     "memberships were updated; the next activation diff sends the changes.\n";
        return kOk;
    } catch (const identity::UnmergeError& ex) {
        std::cerr << "cdphub profile unmerge: " << ex.what()
                  << " (see the merge ids with 'cdphub profile explain ID')\n";
        return kProblems;
    }
}

int cmd_segment_list(const GlobalOptions& g) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    for (const auto& s : e->segments->segments())
        std::cout << s.name << "  " << e->store->members(s.name).size() << " members  "
                  << s.expression << "\n";
    return kOk;
}

int cmd_segment_preview(const GlobalOptions& g, const std::string& expression, std::size_t limit) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    try {
        auto r = e->segments->preview(expression, limit, now_text());
        auto live = e->store->profile_counts().live;
        std::cout << r.count << " of " << live << " profiles match (nothing was saved)\n";
        for (auto id : r.sample) {
            auto d = e->store->profile_details(id);
            std::cout << "  " << id;
            if (d)
                for (const auto& i : d->identifiers) std::cout << "  " << id_text(i.id);
            std::cout << "\n";
        }
        return kOk;
    } catch (const pipeline::DefinitionError& ex) {
        std::cerr << "cdphub segment preview: " << ex.what() << "\n";
        return kUsage;
    }
}

int cmd_segment_evaluate(const GlobalOptions& g, const std::string& name) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    try {
        std::map<std::string, store::MembershipDelta> deltas;
        if (name.empty())
            deltas = e->segments->evaluate_all(now_text());
        else
            deltas[name] = e->segments->evaluate(name, now_text());
        for (const auto& [n, d] : deltas)
            std::cout << n << ": " << d.members.value_or(0) << " members (+" << d.entered
                      << " entered, -" << d.exited << " exited)\n";
        return kOk;
    } catch (const store::UnknownName& ex) {
        std::cerr << "cdphub segment evaluate: " << ex.what() << "\n";
        return kProblems;
    }
}

int cmd_activation_plan(const GlobalOptions& g, const std::string& binding) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    try {
        auto d = e->store->plan_diff(binding);
        if (d.diff_id == 0) {
            std::cout << binding << ": nothing changed since the last diff\n";
            return kOk;
        }
        std::cout << binding << ": diff " << d.diff_id << (d.backfill ? " (backfill)" : "") << ": "
                  << d.entered << " entered, " << d.exited << " exited, " << d.changed
                  << " changed; queued in the outbox for delivery\n";
        return kOk;
    } catch (const store::UnknownName& ex) {
        std::cerr << "cdphub activation plan: " << ex.what() << "\n";
        return kProblems;
    }
}

int cmd_rejected(const GlobalOptions& g, const std::string& source, std::size_t limit) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    std::optional<std::string_view> src;
    if (!source.empty()) src = source;
    for (const auto& r : e->store->list_rejected(src, 0, limit))
        std::cout << r.id << "  " << r.source << "  " << r.received_at << "  " << r.reason_code
                  << ": " << r.reason << "\n    " << r.raw.substr(0, 200) << "\n";
    return kOk;
}

int cmd_rejected_replay(const GlobalOptions& g, const std::string& source, std::size_t limit) {
    auto e = open_engine(g);
    if (!e) return kProblems;
    std::optional<std::string_view> src;
    if (!source.empty()) src = source;
    store::SqliteOperations ops(*e->store);
    auto r = pipeline::replay_rejected(*e->ingestor, ops, src, {}, limit);
    if (!r.changed_profiles.empty()) e->segments->on_changed(r.changed_profiles, now_text());
    std::cout << "replayed " << r.considered << " rejected records: " << r.accepted
              << " stored now, " << r.duplicates << " already stored, " << r.still_rejected
              << " still rejected (cdphub rejected shows why)\n";
    return kOk;
}

}  // namespace cdphub::cli

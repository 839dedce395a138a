#include "identity/resolver.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "identity/traits.hpp"
#include "normalize/time.hpp"

namespace cdphub::identity {

namespace {

using store::IdentifierValue;
using store::ProfileId;

nlohmann::json id_json(const IdentifierValue& id) {
    return {{"type", id.type}, {"value", id.value}};
}

using Candidate = Placement::Link;  // `match` is filled by lookup

// Why matching all remaining candidates would be wrong, and which types or identifiers are
// involved (the identifiers that may be dropped to fix it).
struct Conflict {
    std::string reason;
    std::set<std::string> types;            // limit conflicts: the type over its limit
    std::set<IdentifierValue> identifiers;  // separation conflicts: the two separated values
};

class Matcher {
  public:
    Matcher(const Rules& rules, store::ProfileWriter& w) : rules_(rules), w_(w) {}

    std::optional<ProfileId> lookup(const IdentifierValue& id) {
        auto it = lookups_.find(id);
        if (it != lookups_.end()) return it->second;
        auto p = w_.profile_of(id);
        lookups_.emplace(id, p);
        return p;
    }

    const std::vector<store::StoredIdentifier>& identifiers_of(ProfileId p) {
        auto it = profile_ids_.find(p);
        if (it == profile_ids_.end()) it = profile_ids_.emplace(p, w_.identifiers_of(p)).first;
        return it->second;
    }

    std::optional<Conflict> check(const std::vector<Candidate>& cands,
                                  const std::vector<ProfileId>& profiles) {
        // Nothing new can break a limit when every candidate already sits in the one profile.
        bool all_in_one = profiles.size() == 1 &&
                          std::all_of(cands.begin(), cands.end(),
                                      [](const Candidate& c) { return c.match.has_value(); });
        if (all_in_one) return std::nullopt;

        std::map<std::string, std::set<std::string>> values;  // the union, per type
        std::map<std::string, std::size_t> largest_single;    // most values one profile has
        std::map<IdentifierValue, ProfileId> owner;
        for (auto p : profiles) {
            std::map<std::string, std::size_t> own;
            for (const auto& s : identifiers_of(p)) {
                values[s.id.type].insert(s.id.value);
                ++own[s.id.type];
                owner[s.id] = p;
            }
            for (const auto& [t, n] : own) largest_single[t] = std::max(largest_single[t], n);
        }
        for (const auto& c : cands) values[c.id.id.type].insert(c.id.id.value);

        for (const auto& [type, vals] : values) {
            // A profile that already exceeds a limit (rules tightened since) is not made worse
            // by records that add nothing of that type; only growth beyond both counts.
            std::size_t allowed = std::max<std::size_t>(
                static_cast<std::size_t>(rules_.limit(type)), largest_single[type]);
            if (vals.size() > allowed)
                return Conflict{"linking would give one profile " + std::to_string(vals.size()) +
                                    " " + type + " values (limit " +
                                    std::to_string(rules_.limit(type)) + ")",
                                {type},
                                {}};
        }

        std::vector<IdentifierValue> all;
        for (const auto& [type, vals] : values)
            for (const auto& v : vals) all.push_back({type, v});
        for (const auto& [a, b] : w_.separations_of(all)) {
            if (!values.count(a.type) || !values[a.type].count(a.value)) continue;
            if (!values.count(b.type) || !values[b.type].count(b.value)) continue;
            auto oa = owner.find(a), ob = owner.find(b);
            // Already together in one profile (separated after the fact): not this record's doing.
            if (oa != owner.end() && ob != owner.end() && oa->second == ob->second) continue;
            return Conflict{"an unmerge separated " + a.type + " " + a.value + " from " + b.type +
                                " " + b.value,
                            {},
                            {a, b}};
        }
        return std::nullopt;
    }

  private:
    const Rules& rules_;
    store::ProfileWriter& w_;
    std::map<IdentifierValue, std::optional<ProfileId>> lookups_;
    std::map<ProfileId, std::vector<store::StoredIdentifier>> profile_ids_;
};

std::string timestamp(normalize::Timestamp t) {
    return normalize::format_rfc3339(t);
}

}  // namespace

Outcome Resolver::apply(const normalize::NormalizedRecord& record, store::RecordKey key,
                        store::ProfileWriter& w, const ApplyOptions& options) const {
    auto placement = place(record, w, options);
    contribute(record, placement, key, w);
    w.assign_record(key, placement.profile, placement.resolution, options.first);
    return {placement.profile, std::move(placement.resolution)};
}

Placement Resolver::place(const normalize::NormalizedRecord& record, store::ProfileWriter& w,
                          const ApplyOptions& options) const {
    Placement out;
    nlohmann::json& resolution = out.resolution;
    resolution = {{"linked", nlohmann::json::array()},
                  {"blocked", nlohmann::json::array()},
                  {"dropped", nlohmann::json::array()}};
    // Normalizer findings (an unusable identifier value, an ignored field) stay with the record.
    if (!record.warnings.empty()) resolution["warnings"] = record.warnings;

    // 1. Candidates: the record's identifiers (and an alias's previous id), minus placeholders.
    std::vector<Candidate>& cands = out.links;
    std::set<IdentifierValue> seen;
    auto consider = [&](const normalize::Identifier& id) {
        IdentifierValue v{id.type, id.value};
        if (!seen.insert(v).second) return;
        if (const auto* b = rules_.blocked(id.type, id.value)) {
            auto j = id_json(v);
            j["pattern"] = b->pattern;
            resolution["blocked"].push_back(std::move(j));
            return;
        }
        cands.push_back({{v, id.hashed}, std::nullopt});
    };
    for (const auto& id : record.identifiers) consider(id);
    if (record.alias) consider(record.alias->previous_id);
    std::stable_sort(cands.begin(), cands.end(), [&](const Candidate& a, const Candidate& b) {
        return rules_.ranks_before(a.id.id.type, b.id.id.type);
    });

    // 2. Match, dropping the least important conflicting identifier until nothing conflicts.
    Matcher m(rules_, w);
    std::vector<ProfileId> profiles;
    for (;;) {
        std::set<ProfileId> ps;
        for (auto& c : cands) {
            c.match = m.lookup(c.id.id);
            if (c.match) ps.insert(*c.match);
        }
        profiles.assign(ps.begin(), ps.end());
        auto conflict = m.check(cands, profiles);
        if (!conflict) break;
        // Droppable: candidates that take part (matched a profile, are of the type over its
        // limit, or are one of the separated values). An unrelated new identifier stays.
        std::optional<std::size_t> drop;
        auto worse = [&](std::size_t i, std::size_t j) {  // i is a better drop than j
            bool ui = rules_.unique(cands[i].id.id.type), uj = rules_.unique(cands[j].id.id.type);
            if (ui != uj) return !ui;
            return rules_.ranks_before(cands[j].id.id.type, cands[i].id.id.type) ||
                   (cands[i].id.id.type == cands[j].id.id.type && i > j);
        };
        for (std::size_t i = 0; i < cands.size(); ++i) {
            const auto& c = cands[i];
            bool involved = c.match.has_value() || conflict->types.count(c.id.id.type) > 0 ||
                            conflict->identifiers.count(c.id.id) > 0;
            if (!involved) continue;
            if (!drop || worse(i, *drop)) drop = i;
        }
        if (!drop) drop = cands.size() - 1;  // cannot happen: a conflict always involves one
        auto j = id_json(cands[*drop].id.id);
        j["reason"] = conflict->reason;
        resolution["dropped"].push_back(std::move(j));
        cands.erase(cands.begin() + static_cast<std::ptrdiff_t>(*drop));
        if (cands.empty()) break;
    }
    if (cands.empty()) return out;

    // 3. Zero matches: a new profile; several: merge into the oldest.
    out.new_profile = profiles.empty();
    if (out.new_profile) {
        out.profile = options.allocate ? options.allocate() : w.create_profile();
    } else {
        out.profile = profiles.front();
        out.absorbed.assign(profiles.begin() + 1, profiles.end());
        if (!out.absorbed.empty()) resolution["merged"] = out.absorbed;
    }
    for (const auto& c : cands) resolution["linked"].push_back(id_json(c.id.id));
    return out;
}

void Resolver::contribute(const normalize::NormalizedRecord& record, const Placement& placement,
                          store::RecordKey key, store::ProfileWriter& w) const {
    if (!placement.profile) return;
    const ProfileId profile = *placement.profile;
    // The merge log names, for each side, the first (highest-priority) identifier that matched it.
    auto first_match = [&](ProfileId p) -> const IdentifierValue& {
        for (const auto& c : placement.links)
            if (c.match == p) return c.id.id;
        return placement.links.front().id.id;  // unreachable: every profile came from a link
    };
    for (auto absorbed : placement.absorbed)
        merge_into(profile, absorbed, first_match(profile), first_match(absorbed), key, w);
    for (const auto& c : placement.links)
        if (!c.match) w.attach_identifier(profile, c.id, record.source, key);
    apply_content(record, key, profile, placement.new_profile, w);
}

void Resolver::merge_into(ProfileId survivor, ProfileId absorbed,
                          const IdentifierValue& survivor_link,
                          const IdentifierValue& absorbed_link, store::RecordKey key,
                          store::ProfileWriter& w) const {
    // Traits: the winner of the two profiles' winners, by each trait's own precedence.
    auto mine = w.traits_of(survivor);
    for (const auto& [name, theirs] : w.traits_of(absorbed)) {
        auto it = mine.find(name);
        if (it == mine.end() || prefers(rules_.trait_rule(name), theirs, it->second))
            w.set_trait(survivor, name, theirs);
    }
    // Consent: the most recent decision per purpose; at the same instant a refusal wins.
    auto my_consents = w.consents_of(survivor);
    for (const auto& [purpose, theirs] : w.consents_of(absorbed)) {
        auto it = my_consents.find(purpose);
        bool take = it == my_consents.end() || theirs.occurred_at > it->second.occurred_at ||
                    (theirs.occurred_at == it->second.occurred_at && !theirs.granted);
        if (take) w.set_consent(survivor, purpose, theirs);
    }
    store::MergeEntry e;
    e.survivor = survivor;
    e.absorbed = absorbed;
    e.survivor_link = survivor_link;
    e.absorbed_link = absorbed_link;
    e.record = key;
    w.merge_profiles(e);
}

void Resolver::apply_content(const normalize::NormalizedRecord& r, store::RecordKey key,
                             ProfileId profile, bool new_profile, store::ProfileWriter& w) const {
    const std::string occurred = timestamp(r.occurred_at);
    if (r.traits.is_object() && !r.traits.empty()) {
        std::map<std::string, store::TraitObservation> current;
        if (!new_profile) current = w.traits_of(profile);
        for (const auto& [name, value] : r.traits.items()) {
            // null means "not known here", not "erase": a sparse update must not wipe a value
            // another source provided.
            if (value.is_null()) continue;
            store::TraitObservation obs{value, r.source, occurred, key};
            auto it = current.find(name);
            if (it == current.end() || prefers(rules_.trait_rule(name), obs, it->second))
                w.set_trait(profile, name, obs);
        }
    }
    switch (r.type) {
        case normalize::RecordType::track:
            w.add_event(profile, key, r.source, r.event, occurred, r.properties);
            break;
        case normalize::RecordType::order:
            if (r.order) {
                store::OrderWrite o;
                o.order_id = r.order->id;
                o.currency = r.order->currency;
                o.total_minor = r.order->total_minor;
                o.tax_minor = r.order->tax_minor;
                o.discount_minor = r.order->discount_minor;
                if (!r.order->status.empty()) o.status = r.order->status;
                for (const auto& l : r.order->lines) {
                    nlohmann::json line = {
                        {"sku", l.sku}, {"quantity", l.quantity}, {"price_minor", l.price_minor}};
                    if (!l.name.empty()) line["name"] = l.name;
                    o.lines.push_back(std::move(line));
                }
                w.upsert_order(profile, key, r.source, o, occurred);
            }
            break;
        case normalize::RecordType::consent:
            if (r.consent) {
                auto current = w.consents_of(profile);
                auto it = current.find(r.consent->purpose);
                bool take = it == current.end() || occurred > it->second.occurred_at ||
                            (occurred == it->second.occurred_at && !r.consent->granted);
                if (take) {
                    store::ConsentDecision d;
                    d.granted = r.consent->granted;
                    d.source = r.source;
                    if (!r.consent->source.empty()) d.collected_via = r.consent->source;
                    d.occurred_at = occurred;
                    d.record = key;
                    w.set_consent(profile, r.consent->purpose, d);
                }
            }
            break;
        case normalize::RecordType::identify:
        case normalize::RecordType::alias:
            break;
    }
}

UnmergeResult Resolver::unmerge(std::int64_t merge_id, const std::string& reason,
                                store::ProfileStore& store,
                                const normalize::Normalizer& normalizer) const {
    UnmergeResult result;
    auto changed = store.write_profiles([&](store::ProfileWriter& w) {
        auto entry = w.merge_entry(merge_id);
        if (!entry) throw UnmergeError("there is no merge " + std::to_string(merge_id));
        if (entry->undone_by)
            throw UnmergeError("merge " + std::to_string(merge_id) +
                               " was already undone by unmerge " +
                               std::to_string(*entry->undone_by));
        auto live = w.live_profile(entry->survivor);
        if (!live)
            throw UnmergeError("the profile of merge " + std::to_string(merge_id) +
                               " no longer exists");
        std::vector<ProfileId> family{*live};
        for (auto p : w.absorbed_into(*live)) family.push_back(p);
        // Every merge inside the family is replayed, so all of them are undone here and the
        // ones that still hold are logged again by the replay.
        auto undone = w.merges_into(family);
        result.unmerge_id =
            w.record_unmerge(merge_id, reason, entry->survivor_link, entry->absorbed_link, undone);

        auto records = w.records_of(*live);
        w.clear_profile(*live);
        std::set<ProfileId> reusable(family.begin(), family.end());
        std::set<ProfileId> results;
        for (const auto& rec : records) {
            auto received = normalize::parse_rfc3339(rec.received_at);
            normalize::Timestamp received_at =
                std::holds_alternative<normalize::Timestamp>(received)
                    ? std::get<normalize::Timestamp>(received)
                    : normalize::Timestamp{};
            auto normalized =
                normalizer.normalize(nlohmann::json::parse(rec.body), rec.source, received_at);
            if (!normalized.ok()) {
                // The record was accepted once; under today's rules it no longer is. Keep it
                // unassigned with the reason rather than guessing a profile.
                w.assign_record(rec.key, std::nullopt, {{"error", normalized.rejection().message}},
                                true);
                continue;
            }
            ApplyOptions opts;
            opts.first = true;
            opts.allocate = [&]() -> ProfileId {
                // Give a split-off part the id it had before the merge when its record says so.
                if (rec.resolved_profile && reusable.erase(*rec.resolved_profile)) {
                    if (*rec.resolved_profile != *live) w.revive_profile(*rec.resolved_profile);
                    return *rec.resolved_profile;
                }
                return w.create_profile();
            };
            auto out = apply(normalized.record(), rec.key, w, opts);
            if (out.profile) results.insert(*out.profile);
        }
        // Replayed merges may have absorbed profiles made earlier in the replay.
        std::set<ProfileId> live_results;
        for (auto p : results)
            if (auto l = w.live_profile(p)) live_results.insert(*l);
        results = std::move(live_results);
        // The emptied profile keeps its id only if one of its records claimed it.
        if (reusable.count(*live) && !results.empty()) w.retire_profile(*live, *results.begin());
        result.profiles.assign(results.begin(), results.end());
        w.set_unmerge_result(result.unmerge_id, result.profiles);
    });
    result.changed = std::move(changed);
    return result;
}

}  // namespace cdphub::identity

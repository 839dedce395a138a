#include "admin/json_views.hpp"

#include <cdphub/json_depth.hpp>

#include <chrono>
#include <ctime>

#include "secrets/secrets.hpp"

namespace cdphub::admin {
namespace {

using nlohmann::json;

json id_json(const store::IdentifierValue& v) {
    return {{"type", v.type}, {"value", v.value}};
}

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

std::string utc_text(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

json to_json(const store::ProfileDetails& d) {
    json out = {{"id", d.id},
                {"requested", opt(d.requested)},
                {"created_at", d.created_at},
                {"updated_at", d.updated_at},
                {"identifiers", json::array()},
                {"traits", json::object()},
                {"computed_traits", json::object()},
                {"consent", json::object()},
                {"activity", {{"events", d.events}, {"orders", d.orders}}},
                {"records_by_source", d.records_by_source},
                {"segments", json::array()},
                {"merges", json::array()}};
    for (const auto& i : d.identifiers)
        out["identifiers"].push_back({{"type", i.id.type},
                                      {"value", i.id.value},
                                      {"hashed", i.hashed},
                                      {"first_seen_at", i.first_seen_at},
                                      {"source", i.source},
                                      {"record_id", opt(i.record_id)}});
    // Provenance with every value: where it came from, when, from which record.
    for (const auto& t : d.traits)
        out["traits"][t.name] = {{"value", t.observation.value},
                                 {"source", t.observation.source},
                                 {"observed_at", t.observation.observed_at},
                                 {"record_id", opt(t.record_id)}};
    for (const auto& [name, v] : d.computed)
        out["computed_traits"][name] = {{"value", v.first}, {"computed_at", v.second}};
    for (const auto& [purpose, c] : d.consents)
        out["consent"][purpose] = {{"granted", c.granted},
                                   {"source", c.source},
                                   {"collected_via", opt(c.collected_via)},
                                   {"occurred_at", c.occurred_at}};
    for (const auto& m : d.segments)
        out["segments"].push_back({{"segment", m.segment}, {"entered_at", m.entered_at}});
    for (const auto& m : d.merges)
        out["merges"].push_back({{"id", m.id},
                                 {"merged_at", m.merged_at},
                                 {"survivor", m.survivor},
                                 {"absorbed", m.absorbed},
                                 {"survivor_link", id_json(m.survivor_link)},
                                 {"absorbed_link", id_json(m.absorbed_link)},
                                 {"record", opt(m.record)},
                                 {"undone_by", opt(m.undone_by)}});
    return out;
}

json to_json(const scheduler::TaskStatus& t) {
    json out = {{"state", scheduler::state_name(t.state)},
                {"runs", t.runs},
                {"failures", t.failures},
                {"consecutive_failures", t.consecutive_failures},
                {"items", t.items},
                {"last_started_at", nullptr},
                {"last_finished_at", nullptr},
                {"last_status", nullptr},
                {"next_run_in_ms", nullptr}};
    if (t.last_started) out["last_started_at"] = utc_text(*t.last_started);
    if (t.last_finished) out["last_finished_at"] = utc_text(*t.last_finished);
    if (t.last_status)
        out["last_status"] = {{"code", std::string(to_string(t.last_status->code))},
                              {"message", secrets::redact(t.last_status->message)}};
    if (t.next_run)
        out["next_run_in_ms"] =
            std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          *t.next_run - scheduler::Clock::now())
                                          .count());
    return out;
}

json to_json(const store::SyncRun& r) {
    return {{"id", r.id},
            {"source", r.source},
            {"trigger", r.trigger},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"status", r.status},
            {"message", r.message},
            {"batches", r.batches},
            {"inserted", r.inserted},
            {"duplicates", r.duplicates},
            {"rejected", r.rejected},
            {"changed_profiles", r.changed_profiles}};
}

json to_json(const store::StoredRejection& r) {
    // The raw record as it came: JSON when it parses (and does not nest too deep to answer
    // with), the text otherwise.
    auto raw = json_text::exceeds_depth(r.raw) ? json(json::value_t::discarded)
                                               : json::parse(r.raw, nullptr, false);
    return {{"id", r.id},
            {"source", r.source},
            {"record_id", opt(r.record_id)},
            {"reason_code", r.reason_code},
            {"reason", r.reason},
            {"received_at", r.received_at},
            {"raw", raw.is_discarded() ? json(r.raw) : raw}};
}

json to_json(const delivery::DestinationStatus& d) {
    return {{"destination", d.destination},
            {"state", std::string(delivery::to_string(d.state))},
            {"paused_until", opt(d.paused_until)},
            {"consecutive_failures", d.failures},
            {"sent", d.sent},
            {"failed", d.failed},
            {"last_sync_at", opt(d.last_sync_at)},
            {"last_success_at", opt(d.last_success_at)},
            {"last_error", d.last_error ? json(secrets::redact(*d.last_error)) : json(nullptr)}};
}

json to_json(const delivery::BindingDeliveryStatus& b) {
    const auto& c = b.counts;
    return {{"name", c.name},
            {"segment", c.segment},
            {"destination", c.destination},
            {"members_planned", c.members_planned},
            {"pending", c.pending},
            {"delivered", c.delivered},
            {"rejected", c.rejected},
            {"dead", c.dead},
            {"last_diff_at", opt(c.last_diff_at)},
            {"last_delivered_at", opt(b.last_delivered_at)},
            {"last_error", b.last_error ? json(secrets::redact(*b.last_error)) : json(nullptr)}};
}

json to_json(const delivery::DeliveryStore::Failure& f) {
    return {{"change_id", f.change_id},
            {"profile_id", f.profile_id},
            {"op", f.op},
            {"status", f.status},
            {"attempts", f.attempts},
            {"error", secrets::redact(f.error)}};
}

}  // namespace cdphub::admin

#include "reader.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <set>

#include "records.hpp"

namespace cdphub_hubspot {
namespace {

using cdphub::plugins::url_encode;

// HubSpot ids are decimal strings: shorter is smaller.
bool id_less(const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::string next_after(const json& page) {
    auto p = page.find("paging");
    if (p == page.end() || !p->is_object()) return {};
    auto n = p->find("next");
    if (n == p->end() || !n->is_object()) return {};
    auto a = n->find("after");
    if (a == n->end()) return {};
    return a->is_string() ? a->get<std::string>() : a->dump();
}

}  // namespace

Reader::Reader(const Settings& settings, const ObjectSpec& spec, Api& api, const cdphub::Call& call,
               const cdphub::Host& host, json& cursor)
    : settings_(settings), spec_(spec), api_(api), call_(call), host_(host), cursor_(cursor) {}

json& Reader::state() {
    return cursor_["objects"][spec_.type];
}

void Reader::emit(const json& records) {
    call_.emit(records, cursor_);
    records_ += records.size();
}

void Reader::run() {
    json& st = state();
    if (!st.is_object() || !st.contains("phase")) {
        if (settings_.start_ms)
            st = {{"phase", "search"},
                  {"watermark_ms", *settings_.start_ms},
                  {"ids", json::array()},
                  {"strict", false}};
        else
            st = {{"phase", "list"}, {"after", ""}, {"started_ms", host_.now_ms()}};
    }
    if (state()["phase"] == "list") list_phase();
    if (state()["phase"] != "search")
        throw cdphub::FatalError("the stored cursor for " + spec_.type + " has an unknown phase: " +
                                 state().dump() + "; reset this connector's cursor");
    search_phase();
}

// The full load goes through the list API: it pages by object id, so it has no result ceiling
// and nothing shifts under it. Objects changed meanwhile get a stamp after started_ms and are
// picked up by the search phase, which starts there (less the index lag).
void Reader::list_phase() {
    std::string props;
    for (const auto& p : spec_.properties()) props += (props.empty() ? "" : ",") + url_encode(p);
    int restarts = 0;
    for (;;) {
        call_.throw_if_cancelled();
        json& st = state();
        const std::string after = st.value("after", "");
        const std::string url = settings_.base_url + "/crm/v3/objects/" + url_encode(spec_.type) +
                                "?limit=" + std::to_string(settings_.page_size) +
                                (after.empty() ? "" : "&after=" + url_encode(after)) +
                                "&properties=" + props + "&archived=false";
        auto r = api_.send(call_, "GET", url, "", "the " + spec_.type + " list");
        if (r.status() == 400 && !after.empty()) {
            if (++restarts > 3)
                throw cdphub::RetryableError("HubSpot keeps refusing the " + spec_.type +
                                             " list's paging token (" + describe(r) + ")");
            host_.warn("HubSpot refused the " + spec_.type + " list's paging token (" +
                       describe(r) +
                       "); reading the list again from the start (stored records are not "
                       "stored twice)");
            state()["after"] = "";
            continue;
        }
        if (r.status() == 400 || r.status() == 404)
            throw cdphub::ConfigError("HubSpot cannot list object type \"" + spec_.type + "\" (" +
                                      describe(r) + "): check \"objects\"");
        if (!r.ok())
            throw cdphub::RetryableError("HubSpot failed the " + spec_.type + " list (" +
                                         describe(r) + ")");
        const json page = r.json_body();
        json records = json::array();
        for (const auto& o : page.value("results", json::array()))
            records.push_back(map_object(spec_, o).record);
        const std::string next = next_after(page);
        if (!next.empty()) {
            state()["after"] = next;
            emit(records);
            continue;
        }
        const int64_t started = state().value("started_ms", int64_t{0});
        state() = {{"phase", "search"},
                   {"watermark_ms", std::max<int64_t>(0, started - settings_.index_lag_ms)},
                   {"ids", json::array()},
                   {"strict", false}};
        emit(records);
        return;
    }
}

// Incremental reads search by modification stamp, ascending, in windows [W, end) where end
// trails the clock by index_lag_ms: changes younger than that may not be searchable yet, and
// stay for the next read. Within a window pages are fetched by `after` (a result offset). An
// offset is only right while the result set stays put, so every page's `total` is compared with
// the first page's; when it changed (an object was modified and left the window), the page is
// dropped and a new window opens at the watermark. The same happens before the result ceiling
// (search_result_limit) and on a 400 for a paging token.
void Reader::search_phase() {
    const int64_t end = host_.now_ms() - settings_.index_lag_ms;
    int stalls = 0;
    for (;;) {
        call_.throw_if_cancelled();
        const bool tie = state().contains("tie_after");
        if (!tie && state()["watermark_ms"].get<int64_t>() >= end) return;
        bool advanced = false;
        const End e = window(end, advanced);
        if (e == End::complete) {
            if (!tie) return;
            // Every object at W is handed over: go on strictly after W.
            json& st = state();
            st.erase("tie_after");
            st["strict"] = true;
            st["ids"] = json::array();
            emit(json::array());
            continue;
        }
        if (e == End::ceiling && !advanced && !tie) {
            // More objects share the stamp W than one search can page through: page through
            // that stamp alone, by id.
            host_.info("more " + spec_.type +
                       " than one search returns share the modification stamp " +
                       cdphub::plugins::format_utc_ms(state()["watermark_ms"].get<int64_t>()) +
                       "; reading them by id");
            state()["tie_after"] = "0";
            emit(json::array());
            continue;
        }
        stalls = advanced ? 0 : stalls + 1;
        if (stalls > 20)
            throw cdphub::RetryableError("the " + spec_.type +
                                         " search keeps restarting without progress (objects "
                                         "change faster than they can be paged)");
    }
}

json Reader::search_body(int64_t end, const std::string& after) {
    const json& st = state();
    const std::string w = std::to_string(st["watermark_ms"].get<int64_t>());
    json filters, sort;
    if (st.contains("tie_after")) {
        filters = {{{"propertyName", spec_.modified_property}, {"operator", "EQ"}, {"value", w}},
                   {{"propertyName", "hs_object_id"},
                    {"operator", "GT"},
                    {"value", st["tie_after"].get<std::string>()}}};
        sort = "hs_object_id";
    } else {
        filters = {{{"propertyName", spec_.modified_property},
                    {"operator", st.value("strict", false) ? "GT" : "GTE"},
                    {"value", w}},
                   {{"propertyName", spec_.modified_property},
                    {"operator", "LT"},
                    {"value", std::to_string(end)}}};
        sort = spec_.modified_property;
    }
    json body = {{"filterGroups", json::array({{{"filters", filters}}})},
                 {"sorts", json::array({{{"propertyName", sort}, {"direction", "ASCENDING"}}})},
                 {"properties", spec_.properties()},
                 {"limit", settings_.search_page_size}};
    if (!after.empty()) body["after"] = after;
    return body;
}

Reader::End Reader::window(int64_t end, bool& advanced) {
    const bool tie = state().contains("tie_after");
    const int64_t window_start = state()["watermark_ms"].get<int64_t>();
    std::set<std::string> ids;
    for (const auto& id : state().value("ids", json::array())) ids.insert(id.get<std::string>());
    const std::string url =
        settings_.base_url + "/crm/v3/objects/" + url_encode(spec_.type) + "/search";
    std::string after;
    int64_t first_total = -1;
    for (;;) {
        call_.throw_if_cancelled();
        if (!after.empty() &&
            std::stoll(after) + settings_.search_page_size > settings_.search_result_limit)
            return End::ceiling;
        api_.pace_search(call_);
        auto r = api_.send(call_, "POST", url, search_body(end, after).dump(),
                           "the " + spec_.type + " search");
        if (r.status() == 400 && !after.empty()) {
            // The result ceiling, or a paging token HubSpot no longer honours: both mean
            // "search again from the watermark".
            host_.debug("HubSpot refused the " + spec_.type + " search at after=" + after + " (" +
                        describe(r) + "); searching again from the watermark");
            return End::ceiling;
        }
        if (r.status() == 400 || r.status() == 404)
            throw cdphub::ConfigError("HubSpot rejected the " + spec_.type + " search (" +
                                      describe(r) + "): check the object type and that \"" +
                                      spec_.modified_property + "\" is its modification date");
        if (!r.ok())
            throw cdphub::RetryableError("HubSpot failed the " + spec_.type + " search (" +
                                         describe(r) + ")");
        const json page = r.json_body();
        const int64_t total = page.value("total", int64_t{-1});
        if (first_total < 0) {
            first_total = total;
        } else if (total != first_total) {
            host_.debug("the " + spec_.type + " search results changed while paging (" +
                        std::to_string(first_total) + " -> " + std::to_string(total) +
                        "); searching again from the watermark");
            return End::rewindow;
        }
        json& st = state();
        int64_t w = st["watermark_ms"].get<int64_t>();
        bool strict = st.value("strict", false);
        std::string tie_after = tie ? st["tie_after"].get<std::string>() : std::string();
        json records = json::array();
        for (const auto& o : page.value("results", json::array())) {
            Mapped m = map_object(spec_, o);
            if (!m.modified || m.id.empty()) {
                records.push_back(std::move(m.record));
                continue;
            }
            const int64_t s = *m.modified;
            if (tie) {
                if (id_less(tie_after, m.id)) tie_after = m.id;
                if (s == w && ids.count(m.id) == 0) records.push_back(std::move(m.record));
                continue;
            }
            if (s < w || s >= end || (s == w && (strict || ids.count(m.id) != 0))) continue;
            records.push_back(std::move(m.record));
            if (s > w) {
                w = s;
                ids.clear();
                strict = false;
            }
            ids.insert(m.id);
        }
        if (tie) {
            advanced = advanced || tie_after != st["tie_after"].get<std::string>();
            st["tie_after"] = tie_after;
        } else {
            advanced = advanced || w != window_start;
            st["watermark_ms"] = w;
            st["strict"] = strict;
            st["ids"] = json(ids);
        }
        emit(records);
        after = next_after(page);
        if (after.empty()) return End::complete;
    }
}

}  // namespace cdphub_hubspot

#include "hubspot_crm.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

namespace cdphub::sim::hubspot {
namespace {

constexpr int64_t kSeedBase = 1704067200000;  // 2024-01-01T00:00:00Z: seeded history is past

constexpr std::array<const char*, 8> kFirst{"Ann", "Bo",  "Chen", "Dara",
                                            "Eli", "Fay", "Gus",  "Hana"};
constexpr std::array<const char*, 6> kLast{"Smith", "Okafor", "Lee", "Novak", "Garcia", "Ito"};
constexpr std::array<const char*, 5> kCountry{"DE", "US", "FR", "JP", "BR"};
constexpr std::array<const char*, 4> kIndustry{"SOFTWARE", "RETAIL", "BANKING", "LOGISTICS"};

bool is_time_property(const std::string& p) {
    return p == "lastmodifieddate" || p == "hs_lastmodifieddate" || p == "createdate";
}

// The value a filter or sort compares: numbers for times and ids, else the string.
struct Key {
    bool numeric = false;
    int64_t n = 0;
    std::string s;
    bool present = false;
};

Key key_of(const Object& o, const Version& v, const std::string& prop) {
    Key k;
    if (prop == "hs_object_id" || prop == "id") {
        k.numeric = k.present = true;
        k.n = static_cast<int64_t>(o.id);
        return k;
    }
    auto it = v.properties.find(prop);
    if (it == v.properties.end() || !it->is_string()) return k;
    k.present = true;
    k.s = it->get<std::string>();
    if (is_time_property(prop)) {
        if (auto t = parse_time(k.s)) {
            k.numeric = true;
            k.n = *t;
        }
    }
    return k;
}

int compare(const Key& a, const std::string& value, bool numeric_filter) {
    if (a.numeric && numeric_filter) {
        int64_t b = 0;
        if (auto t = parse_time(value)) b = *t;
        return a.n < b ? -1 : (a.n > b ? 1 : 0);
    }
    return a.s.compare(value);
}

bool matches(const Object& o, const Version& v, const SearchQuery::Filter& f) {
    Key k = key_of(o, v, f.property);
    if (f.op == "HAS_PROPERTY") return k.present;
    if (f.op == "NOT_HAS_PROPERTY") return !k.present;
    if (!k.present) return f.op == "NEQ";
    const int c = compare(k, f.value, k.numeric);
    if (f.op == "EQ") return c == 0;
    if (f.op == "NEQ") return c != 0;
    if (f.op == "LT") return c < 0;
    if (f.op == "LTE") return c <= 0;
    if (f.op == "GT") return c > 0;
    if (f.op == "GTE") return c >= 0;
    return false;
}

}  // namespace

std::string iso_ms(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];  // room for any int in each field (-Wformat-truncation)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

std::optional<int64_t> parse_time(const std::string& value) {
    if (value.empty()) return std::nullopt;
    if (value.find_first_not_of("0123456789") == std::string::npos) return std::stoll(value);
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(value.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

Crm::Crm(uint64_t seed, size_t contacts, size_t companies, size_t big_tie) : rng_(seed) {
    auto seed_type = [&](const std::string& name, const std::string& modified, size_t n,
                         size_t tie) {
        ObjectType t{name, modified, {}};
        // Stamps come in tie groups of 1-12 (bulk imports and workflows touch many records in
        // the same millisecond), and are shuffled so that id order is not time order.
        std::vector<int64_t> stamps;
        int64_t at = kSeedBase;
        while (stamps.size() < n) {
            const size_t group = stamps.size() < tie ? tie : 1 + rng_() % 12;
            for (size_t g = 0; g < group && stamps.size() < n; ++g) stamps.push_back(at);
            at += 1 + static_cast<int64_t>(rng_() % 600000);
        }
        std::shuffle(stamps.begin(), stamps.end(), rng_);
        last_stamp_ = std::max(last_stamp_, at);
        uint64_t id = name == "contacts" ? 101 : 5001;
        for (size_t i = 0; i < n; ++i) {
            Object o;
            o.id = id;
            id += 1 + rng_() % 3;
            o.created_ms = kSeedBase - 86400000 - static_cast<int64_t>(rng_() % 86400000);
            json p = json::object();
            const auto sid = std::to_string(o.id);
            p["hs_object_id"] = sid;
            p["createdate"] = iso_ms(o.created_ms);
            p[modified] = iso_ms(stamps[i]);
            if (name == "contacts") {
                std::string first = kFirst[rng_() % kFirst.size()];
                std::string last = kLast[rng_() % kLast.size()];
                p["firstname"] = first;
                p["lastname"] = last;
                // Some contacts have no email (HubSpot allows that); unset properties are null.
                p["email"] =
                    rng_() % 20 == 0 ? json() : json(first + "." + last + sid + "@example.com");
                p["phone"] = rng_() % 3 == 0
                                 ? json()
                                 : json("+1 212 555 " + std::to_string(1000 + o.id % 9000));
                p["country"] = kCountry[rng_() % kCountry.size()];
            } else {
                p["name"] = "Company " + sid;
                p["domain"] = "company" + sid + ".example";
                p["industry"] = kIndustry[rng_() % kIndustry.size()];
                p["country"] = kCountry[rng_() % kCountry.size()];
            }
            o.versions.push_back(Version{stamps[i], std::move(p)});
            t.objects.push_back(std::move(o));
        }
        types_[name] = std::move(t);
    };
    seed_type("contacts", "lastmodifieddate", contacts, big_tie);
    seed_type("companies", "hs_lastmodifieddate", companies, 0);
}

ObjectType* Crm::type(const std::string& name) {
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}

json Crm::render(const ObjectType& t, const Object& o, const Version& v,
                 const std::vector<std::string>& props) const {
    json p = json::object();
    // These three always come back, whatever was asked for.
    for (const auto& k :
         {std::string("hs_object_id"), std::string("createdate"), t.modified_property})
        p[k] = v.properties.value(k, json());
    if (props.empty()) {
        for (const auto& k : t.name == "contacts"
                                 ? std::vector<std::string>{"email", "firstname", "lastname"}
                                 : std::vector<std::string>{"name", "domain"})
            p[k] = v.properties.value(k, json());
    }
    for (const auto& k : props) p[k] = v.properties.value(k, json());
    return {{"id", std::to_string(o.id)},
            {"properties", p},
            {"createdAt", iso_ms(o.created_ms)},
            {"updatedAt", iso_ms(v.modified_ms)},
            {"archived", false}};
}

json Crm::list(const ObjectType& t, uint64_t after, size_t limit,
               const std::vector<std::string>& props, size_t short_to,
               const std::string& base_url) const {
    auto it = std::lower_bound(t.objects.begin(), t.objects.end(), after,
                               [](const Object& o, uint64_t a) { return o.id < a; });
    const size_t n = std::min(limit, short_to);
    json results = json::array();
    for (; it != t.objects.end() && results.size() < n; ++it)
        results.push_back(render(t, *it, it->versions.back(), props));
    json out = {{"results", results}};
    if (it != t.objects.end()) {
        const auto next = std::to_string(it->id);
        out["paging"] = {{"next",
                          {{"after", next},
                           {"link", base_url + "/crm/v3/objects/" + t.name + "?after=" + next}}}};
    }
    return out;
}

json Crm::search(const ObjectType& t, const SearchQuery& q, int64_t now_wall_ms, int64_t lag_ms,
                 size_t short_to) const {
    struct Hit {
        const Object* o;
        const Version* v;
    };
    std::vector<Hit> hits;
    for (const auto& o : t.objects) {
        // The index lags behind writes: a change younger than lag_ms is not searchable yet.
        const Version* v = &o.versions.back();
        if (o.versions.size() > 1 && now_wall_ms - o.changed_wall_ms < lag_ms)
            v = &o.versions[o.versions.size() - 2];
        bool any = q.groups.empty();
        for (const auto& g : q.groups) {
            bool all = true;
            for (const auto& f : g) all = all && matches(o, *v, f);
            any = any || all;
        }
        if (any) hits.push_back({&o, v});
    }
    if (!q.sort_property.empty()) {
        std::stable_sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
            Key ka = key_of(*a.o, *a.v, q.sort_property), kb = key_of(*b.o, *b.v, q.sort_property);
            bool less = ka.numeric && kb.numeric ? ka.n < kb.n : ka.s < kb.s;
            bool greater = ka.numeric && kb.numeric ? ka.n > kb.n : ka.s > kb.s;
            return q.descending ? greater : less;
        });
    }
    json results = json::array();
    const size_t n = std::min(q.limit, short_to);
    size_t i = q.after;
    for (; i < hits.size() && results.size() < n; ++i)
        results.push_back(render(t, *hits[i].o, *hits[i].v, q.properties));
    json out = {{"total", hits.size()}, {"results", results}};
    if (i < hits.size()) out["paging"] = {{"next", {{"after", std::to_string(i)}}}};
    return out;
}

size_t Crm::mutate(size_t count, int64_t now_ms) {
    size_t done = 0;
    for (size_t k = 0; k < count; ++k) {
        auto& t = rng_() % 4 == 0 ? types_["companies"] : types_["contacts"];
        if (t.objects.empty()) continue;
        auto& o = t.objects[rng_() % t.objects.size()];
        Version v = o.versions.back();
        // Stamps only move forward, even if two changes land in the same millisecond.
        v.modified_ms = std::max(now_ms, o.versions.back().modified_ms + 1);
        v.properties[t.modified_property] = iso_ms(v.modified_ms);
        const auto rev = std::to_string(o.versions.size());
        if (t.name == "contacts")
            v.properties["firstname"] = "Renamed" + rev;
        else
            v.properties["name"] = "Company " + std::to_string(o.id) + " rev " + rev;
        o.versions.push_back(std::move(v));
        o.changed_wall_ms = now_ms;
        ++done;
    }
    return done;
}

json Crm::state() const {
    json out = json::object();
    for (const auto& [name, t] : types_) {
        json arr = json::array();
        for (const auto& o : t.objects) {
            json versions = json::array();
            for (const auto& v : o.versions) versions.push_back(iso_ms(v.modified_ms));
            arr.push_back({{"id", std::to_string(o.id)},
                           {"modified", iso_ms(o.versions.back().modified_ms)},
                           {"versions", versions},
                           {"properties", o.versions.back().properties}});
        }
        out[name] = arr;
    }
    return out;
}

}  // namespace cdphub::sim::hubspot

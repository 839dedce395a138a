// The data side of the HubSpot simulator: seeded CRM objects (contacts, companies) with a version
// history, and the CRM v3 list and search semantics over them (paging, filters, one sort, the
// search result ceiling, a search index that lags behind writes). Wire concerns (auth, faults,
// error bodies, rate limits) live in hubspot.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cdphub::sim::hubspot {

using json = nlohmann::json;

// "YYYY-MM-DDTHH:MM:SS.mmmZ", the form HubSpot returns datetime properties in.
std::string iso_ms(int64_t ms);
// A datetime filter value: epoch milliseconds or ISO-8601 (HubSpot takes both).
std::optional<int64_t> parse_time(const std::string& value);

struct Version {
    int64_t modified_ms = 0;
    json properties;  // every value a string (or null when unset), as HubSpot sends them
};

struct Object {
    uint64_t id = 0;
    int64_t created_ms = 0;
    std::vector<Version> versions;  // oldest first; back() is current
    int64_t changed_wall_ms = 0;    // when the last change happened (for the search index lag)
};

struct ObjectType {
    std::string name;               // "contacts", "companies"
    std::string modified_property;  // "lastmodifieddate" or "hs_lastmodifieddate"
    std::vector<Object> objects;    // ascending id
};

// A search request's validated content.
struct SearchQuery {
    struct Filter {
        std::string property, op, value;
    };
    std::vector<std::vector<Filter>> groups;  // OR of ANDs
    std::string sort_property;                // empty: by id
    bool descending = false;
    std::vector<std::string> properties;
    size_t limit = 10;
    size_t after = 0;
};

class Crm {
  public:
    // `contacts` and `companies` objects; `big_tie` contacts share one lastmodifieddate.
    Crm(uint64_t seed, size_t contacts, size_t companies, size_t big_tie);

    ObjectType* type(const std::string& name);
    const std::map<std::string, ObjectType>& types() const { return types_; }

    // One object as the API shows it, with `props` (empty: the type's defaults).
    json render(const ObjectType& t, const Object& o, const Version& v,
                const std::vector<std::string>& props) const;

    // GET list: objects with id >= after (ascending), at most `limit`; next_after is set when
    // more follow.
    json list(const ObjectType& t, uint64_t after, size_t limit,
              const std::vector<std::string>& props, size_t short_to,
              const std::string& base_url) const;

    // POST search over the index (which shows each object's version of `lag_ms` ago).
    // The query is already validated (hubspot.cpp); an `after` past the end gives no results.
    json search(const ObjectType& t, const SearchQuery& q, int64_t now_wall_ms, int64_t lag_ms,
                size_t short_to) const;

    // Modifies `count` random objects now: a new version with a newer modification stamp.
    size_t mutate(size_t count, int64_t now_ms);

    json state() const;

  private:
    std::map<std::string, ObjectType> types_;
    std::mt19937_64 rng_;
    int64_t last_stamp_ = 0;
};

}  // namespace cdphub::sim::hubspot

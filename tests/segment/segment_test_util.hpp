// Helpers for the segment tests: writing hand-built or generated profile snapshots into a store
// file's profile tables, and printing snapshots for failure messages.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "profile/snapshot.hpp"

namespace cdphub::test {

// An event and an order as a snapshot holds them, for hand-built test profiles.
inline profile::EventFact ev(std::int64_t id, std::string name, std::string at,
                             nlohmann::json props = nlohmann::json::object(),
                             std::string source = "web") {
    profile::EventFact e;
    e.id = id;
    e.event = std::move(name);
    e.occurred_at = std::move(at);
    e.source = std::move(source);
    e.properties = std::move(props);
    return e;
}

inline profile::OrderFact order(std::int64_t id, std::string at, std::string currency,
                                std::int64_t total,
                                std::optional<std::string> status = std::nullopt) {
    profile::OrderFact o;
    o.id = id;
    o.source = "shop";
    o.order_id = "o" + std::to_string(id);
    o.occurred_at = std::move(at);
    o.currency = std::move(currency);
    o.total_minor = total;
    o.status = std::move(status);
    return o;
}

// Inserts snapshots into the store's tables as the identity engine would leave them. The
// connection must have foreign keys off (events and orders reference records rows that these
// tests do not create): call `db.exec("PRAGMA foreign_keys = OFF")` first.
class SnapshotWriter {
  public:
    explicit SnapshotWriter(SQLite::Database& db)
        : profile_(db,
                   "INSERT INTO profiles (id, created_at, updated_at, merged_into, merged_at) "
                   "VALUES (?, ?, ?, ?, ?)"),
          trait_(db,
                 "INSERT INTO profile_traits (profile_id, name, kind, value, source, observed_at) "
                 "VALUES (?, ?, ?, ?, 'test', '2024-01-01T00:00:00.000Z')"),
          identifier_(db,
                      "INSERT INTO profile_identifiers (type, value, profile_id, first_seen_at, "
                      "source) VALUES (?, ?, ?, '2024-01-01T00:00:00.000Z', 'test')"),
          consent_(db,
                   "INSERT INTO consents (profile_id, purpose, granted, source, occurred_at) "
                   "VALUES (?, ?, ?, ?, ?)"),
          event_(db,
                 "INSERT INTO events (id, profile_id, record_id, source, event, occurred_at, "
                 "properties) VALUES (?, ?, ?, ?, ?, ?, ?)"),
          order_(db,
                 "INSERT INTO orders (id, profile_id, source, order_id, record_id, occurred_at, "
                 "updated_at, currency, total_minor, tax_minor, discount_minor, status, lines) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") {}

    void add(const profile::ProfileSnapshot& s,
             std::optional<profile::ProfileId> merged_into = std::nullopt) {
        run(profile_, [&](SQLite::Statement& q) {
            q.bind(1, static_cast<int64_t>(s.id));
            q.bind(2,
                   s.created_at.empty() ? std::string("2024-01-01T00:00:00.000Z") : s.created_at);
            q.bind(3, "2024-01-01T00:00:00.000Z");
            if (merged_into) {
                q.bind(4, static_cast<int64_t>(*merged_into));
                q.bind(5, "2024-02-01T00:00:00.000Z");
            }
        });
        for (const auto& trait : s.traits) {
            const std::string& name = trait.first;
            const nlohmann::json& v = trait.second;
            if (v.is_null()) continue;
            run(trait_, [&](SQLite::Statement& q) {
                q.bind(1, static_cast<int64_t>(s.id));
                q.bind(2, name);
                if (v.is_string()) {
                    q.bind(3, "string");
                    q.bind(4, v.get<std::string>());
                } else if (v.is_boolean()) {
                    q.bind(3, "boolean");
                    q.bind(4, v.get<bool>() ? 1 : 0);
                } else if (v.is_number_float()) {
                    q.bind(3, "number");
                    q.bind(4, v.get<double>());
                } else if (v.is_number()) {
                    q.bind(3, "number");
                    q.bind(4, static_cast<int64_t>(v.get<std::int64_t>()));
                } else {
                    q.bind(3, v.is_object() ? "object" : "array");
                    q.bind(4, v.dump());
                }
            });
        }
        for (const auto& ids : s.identifiers) {
            const std::string& type = ids.first;
            for (const auto& value : ids.second) {
                run(identifier_, [&](SQLite::Statement& q) {
                    q.bind(1, type);
                    q.bind(2, value);
                    q.bind(3, static_cast<int64_t>(s.id));
                });
            }
        }
        for (const auto& consent : s.consent) {
            const std::string& purpose = consent.first;
            const profile::ConsentFact& c = consent.second;
            run(consent_, [&](SQLite::Statement& q) {
                q.bind(1, static_cast<int64_t>(s.id));
                q.bind(2, purpose);
                q.bind(3, c.granted ? 1 : 0);
                q.bind(4, c.source.empty() ? std::string("test") : c.source);
                q.bind(5, c.occurred_at.empty() ? std::string("2024-01-01T00:00:00.000Z")
                                                : c.occurred_at);
            });
        }
        for (const auto& e : s.events) {
            run(event_, [&](SQLite::Statement& q) {
                q.bind(1, static_cast<int64_t>(e.id));
                q.bind(2, static_cast<int64_t>(s.id));
                q.bind(3, static_cast<int64_t>(e.id));
                q.bind(4, e.source);
                q.bind(5, e.event);
                q.bind(6, e.occurred_at);
                q.bind(7, e.properties.dump());
            });
        }
        for (const auto& o : s.orders) {
            run(order_, [&](SQLite::Statement& q) {
                q.bind(1, static_cast<int64_t>(o.id));
                q.bind(2, static_cast<int64_t>(s.id));
                q.bind(3, o.source);
                q.bind(4, o.order_id);
                q.bind(5, static_cast<int64_t>(o.id) + (int64_t{1} << 40));
                q.bind(6, o.occurred_at);
                q.bind(7, o.occurred_at);
                q.bind(8, o.currency);
                q.bind(9, static_cast<int64_t>(o.total_minor));
                if (o.tax_minor) q.bind(10, static_cast<int64_t>(*o.tax_minor));
                if (o.discount_minor) q.bind(11, static_cast<int64_t>(*o.discount_minor));
                if (o.status) q.bind(12, *o.status);
                q.bind(13, o.lines.dump());
            });
        }
    }

  private:
    template <class F>
    static void run(SQLite::Statement& q, F&& bind) {
        q.reset();
        q.clearBindings();
        bind(q);
        q.exec();
    }

    SQLite::Statement profile_, trait_, identifier_, consent_, event_, order_;
};

inline nlohmann::json snapshot_to_json(const profile::ProfileSnapshot& s) {
    nlohmann::json j;
    j["id"] = s.id;
    j["traits"] = nlohmann::json::object();
    for (const auto& [k, v] : s.traits) j["traits"][k] = v;
    j["identifiers"] = s.identifiers;
    j["consent"] = nlohmann::json::object();
    for (const auto& [k, c] : s.consent) j["consent"][k] = c.granted;
    j["events"] = nlohmann::json::array();
    for (const auto& e : s.events)
        j["events"].push_back({{"id", e.id},
                               {"event", e.event},
                               {"occurred_at", e.occurred_at},
                               {"source", e.source},
                               {"properties", e.properties}});
    j["orders"] = nlohmann::json::array();
    for (const auto& o : s.orders) {
        nlohmann::json x = {{"id", o.id},
                            {"source", o.source},
                            {"order_id", o.order_id},
                            {"occurred_at", o.occurred_at},
                            {"currency", o.currency},
                            {"total_minor", o.total_minor}};
        if (o.tax_minor) x["tax_minor"] = *o.tax_minor;
        if (o.discount_minor) x["discount_minor"] = *o.discount_minor;
        if (o.status) x["status"] = *o.status;
        j["orders"].push_back(x);
    }
    return j;
}

}  // namespace cdphub::test

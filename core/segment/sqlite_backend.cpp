#include "segment/sqlite_backend.hpp"

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>

#include "segment/values.hpp"

namespace cdphub::segment {

namespace {

// SQLite hands aggregates zeroed memory (8-byte aligned); the sum is constructed in it on the
// first row. ExactSum is trivially destructible, so nothing needs tearing down.
struct SumState {
    bool constructed;
    alignas(ExactSum) unsigned char storage[sizeof(ExactSum)];
};

void sum_step(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
    auto* st = static_cast<SumState*>(sqlite3_aggregate_context(ctx, sizeof(SumState)));
    if (st == nullptr) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (!st->constructed) {
        new (st->storage) ExactSum();
        st->constructed = true;
    }
    auto* sum = std::launder(reinterpret_cast<ExactSum*>(st->storage));
    switch (sqlite3_value_type(argv[0])) {
        case SQLITE_INTEGER:
            sum->add_int(sqlite3_value_int64(argv[0]));
            break;
        case SQLITE_FLOAT:
            sum->add_double(sqlite3_value_double(argv[0]));
            break;
        default:
            break;  // not a number: ignored, as in memory
    }
}

void sum_final(sqlite3_context* ctx) {
    auto* st = static_cast<SumState*>(sqlite3_aggregate_context(ctx, 0));
    if (st == nullptr || !st->constructed) {
        sqlite3_result_int64(ctx, 0);
        return;
    }
    const auto* sum = std::launder(reinterpret_cast<const ExactSum*>(st->storage));
    if (sum->result_is_integer())
        sqlite3_result_int64(ctx, sum->integer_result());
    else
        sqlite3_result_double(ctx, sum->double_result());
}

nlohmann::json parse_json(const std::string& text, const char* what) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("invalid JSON in ") + what + ": " + e.what());
    }
}

}  // namespace

void register_sql_functions(SQLite::Database& db) {
    sqlite3* h = db.getHandle();
    sqlite3_stmt* probe = nullptr;
    std::string sql = std::string("SELECT ") + kSumFunction + "(1)";
    int rc = sqlite3_prepare_v2(h, sql.c_str(), -1, &probe, nullptr);
    sqlite3_finalize(probe);
    if (rc == SQLITE_OK) return;
    rc = sqlite3_create_function_v2(h, kSumFunction, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                    nullptr, sum_step, sum_final, nullptr);
    if (rc != SQLITE_OK) throw SQLite::Exception(h, rc);
}

std::vector<profile::ProfileId> run_segment_sql(SQLite::Database& db, const CompiledSql& compiled) {
    register_sql_functions(db);
    SQLite::Statement q(db, compiled.sql);
    for (std::size_t i = 0; i < compiled.params.size(); ++i) {
        int n = static_cast<int>(i + 1);
        const auto& v = compiled.params[i];
        if (const auto* s = std::get_if<std::string>(&v))
            q.bind(n, *s);
        else if (const auto* d = std::get_if<double>(&v))
            q.bind(n, *d);
        else
            q.bind(n, static_cast<int64_t>(std::get<std::int64_t>(v)));
    }
    std::vector<profile::ProfileId> ids;
    while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    // The SQL has no ORDER BY: with one, SQLite switches compounds to merges that sort every
    // operand (and scans all profiles for the tombstone filter). Sorting here is cheaper.
    std::sort(ids.begin(), ids.end());
    return ids;
}

profile::ProfileSnapshot load_snapshot(SQLite::Database& db, profile::ProfileId id) {
    return SnapshotLoader(db).load(id);
}

namespace {

// Binds the profile id and resets the statement when the scope ends, also on a throw, so the
// next load finds it ready.
class Query {
  public:
    Query(SQLite::Statement& q, profile::ProfileId id) : q_(q) {
        q_.bind(1, static_cast<int64_t>(id));
    }
    ~Query() { q_.tryReset(); }  // never throws; the next bind overwrites the id
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    SQLite::Statement& operator*() { return q_; }

  private:
    SQLite::Statement& q_;
};

}  // namespace

SnapshotLoader::SnapshotLoader(SQLite::Database& db)
    : profile_(db, "SELECT created_at FROM profiles WHERE id = ?"),
      traits_(db, "SELECT name, kind, value FROM profile_traits WHERE profile_id = ?"),
      identifiers_(db,
                   "SELECT type, value FROM profile_identifiers WHERE profile_id = ? "
                   "ORDER BY type, value"),
      consents_(db,
                "SELECT purpose, granted, source, occurred_at FROM consents WHERE profile_id = ?"),
      events_(db,
              "SELECT id, event, occurred_at, source, properties FROM events WHERE profile_id = ? "
              "ORDER BY occurred_at, id"),
      orders_(db,
              "SELECT id, source, order_id, occurred_at, currency, total_minor, tax_minor, "
              "discount_minor, status, lines FROM orders WHERE profile_id = ? "
              "ORDER BY occurred_at, id") {}

profile::ProfileSnapshot SnapshotLoader::load(profile::ProfileId id) {
    profile::ProfileSnapshot s;
    s.id = id;
    {
        Query query(profile_, id);
        auto& q = *query;
        if (!q.executeStep()) throw std::out_of_range("no profile " + std::to_string(id));
        s.created_at = q.getColumn(0).getString();
    }
    {
        Query query(traits_, id);
        auto& q = *query;
        while (q.executeStep()) {
            std::string name = q.getColumn(0).getString();
            std::string kind = q.getColumn(1).getString();
            SQLite::Column v = q.getColumn(2);
            nlohmann::json value;
            if (v.isNull()) continue;
            if (kind == "string") {
                value = v.getString();
            } else if (kind == "number") {
                if (v.isInteger())
                    value = static_cast<std::int64_t>(v.getInt64());
                else
                    value = v.getDouble();
            } else if (kind == "boolean") {
                value = v.getInt64() != 0;
            } else {
                value = parse_json(v.getString(), "profile_traits.value");
            }
            s.traits.emplace(std::move(name), std::move(value));
        }
    }
    {
        Query query(identifiers_, id);
        auto& q = *query;
        while (q.executeStep())
            s.identifiers[q.getColumn(0).getString()].push_back(q.getColumn(1).getString());
    }
    {
        Query query(consents_, id);
        auto& q = *query;
        while (q.executeStep()) {
            profile::ConsentFact c;
            c.granted = q.getColumn(1).getInt64() != 0;
            c.source = q.getColumn(2).getString();
            c.occurred_at = q.getColumn(3).getString();
            s.consent.emplace(q.getColumn(0).getString(), std::move(c));
        }
    }
    {
        Query query(events_, id);
        auto& q = *query;
        while (q.executeStep()) {
            profile::EventFact e;
            e.id = q.getColumn(0).getInt64();
            e.event = q.getColumn(1).getString();
            e.occurred_at = q.getColumn(2).getString();
            e.source = q.getColumn(3).getString();
            e.properties = parse_json(q.getColumn(4).getString(), "events.properties");
            s.events.push_back(std::move(e));
        }
    }
    {
        Query query(orders_, id);
        auto& q = *query;
        while (q.executeStep()) {
            profile::OrderFact o;
            o.id = q.getColumn(0).getInt64();
            o.source = q.getColumn(1).getString();
            o.order_id = q.getColumn(2).getString();
            o.occurred_at = q.getColumn(3).getString();
            o.currency = q.getColumn(4).getString();
            o.total_minor = q.getColumn(5).getInt64();
            if (!q.getColumn(6).isNull()) o.tax_minor = q.getColumn(6).getInt64();
            if (!q.getColumn(7).isNull()) o.discount_minor = q.getColumn(7).getInt64();
            if (!q.getColumn(8).isNull()) o.status = q.getColumn(8).getString();
            o.lines = parse_json(q.getColumn(9).getString(), "orders.lines");
            s.orders.push_back(std::move(o));
        }
    }
    return s;
}

}  // namespace cdphub::segment

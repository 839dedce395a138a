#include "delivery/sqlite_delivery_store.hpp"

#include <SQLiteCpp/Statement.h>

#include "store/database.hpp"
#include "store/sqlite_activation.hpp"

namespace cdphub::delivery {
namespace {

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

void bind_opt(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

std::int64_t binding_id(SQLite::Database& db, std::string_view name) {
    SQLite::Statement q(db, "SELECT id FROM activation_bindings WHERE name = ?");
    q.bind(1, std::string(name));
    if (!q.executeStep())
        throw store::UnknownName("there is no activation binding named '" + std::string(name) +
                                 "'");
    return q.getColumn(0).getInt64();
}

}  // namespace

std::string_view to_string(DestinationState s) {
    switch (s) {
        case DestinationState::running:
            return "running";
        case DestinationState::paused:
            return "paused";
        case DestinationState::auth_failed:
            return "auth_failed";
        case DestinationState::config_failed:
            return "config_failed";
    }
    return "running";
}

DestinationState parse_state(std::string_view s) {
    if (s == "paused") return DestinationState::paused;
    if (s == "auth_failed") return DestinationState::auth_failed;
    if (s == "config_failed") return DestinationState::config_failed;
    return DestinationState::running;
}

SqliteDeliveryStore::SqliteDeliveryStore(store::SqliteProfileStore& store, Clock clock)
    : store_(store), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string SqliteDeliveryStore::now_text(std::int64_t plus_ms) {
    return store::format_timestamp(clock_() + std::chrono::milliseconds(plus_ms));
}

std::vector<BindingRef> SqliteDeliveryStore::bindings() {
    std::vector<BindingRef> out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT b.name, s.name, b.destination FROM activation_bindings b "
                            "JOIN segments s ON s.id = b.segment_id ORDER BY b.name");
        while (q.executeStep())
            out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                           q.getColumn(2).getString()});
    });
    return out;
}

std::vector<OutboxChange> SqliteDeliveryStore::next_changes(std::string_view binding,
                                                            std::size_t limit) {
    std::vector<OutboxChange> out;
    const auto now = now_text();
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        const auto b = binding_id(db, binding);
        // The earliest pending change of each profile, if its time has come; a profile whose
        // earliest change waits holds back its later ones (activation_changes_pending_by_profile
        // answers the NOT EXISTS).
        SQLite::Statement q(
            db,
            "SELECT c.id, c.profile_id, c.op, c.payload, c.attempts FROM activation_changes c "
            "WHERE c.binding_id = ?1 AND c.status = 'pending' AND NOT EXISTS (SELECT 1 FROM "
            "activation_changes e WHERE e.binding_id = ?1 AND e.profile_id = c.profile_id AND "
            "e.status = 'pending' AND e.id < c.id) AND (c.next_attempt_at IS NULL OR "
            "c.next_attempt_at <= ?2) ORDER BY c.id LIMIT ?3");
        q.bind(1, b);
        q.bind(2, now);
        q.bind(3, static_cast<std::int64_t>(limit));
        out.reserve(limit);
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                           q.getColumn(2).getString(), q.getColumn(3).getString(),
                           q.getColumn(4).getInt64()});
    });
    return out;
}

void SqliteDeliveryStore::settle(std::string_view destination,
                                 const std::vector<Settlement>& outcomes, int max_attempts) {
    // Most of a batch is usually delivered: those rows are settled with one statement over the
    // list of their ids, the rest one by one (one UPDATE per change was a third of the hub's
    // delivery cost, docs/benchmarks.md "Delivery").
    std::string delivered_ids = "[";
    std::vector<const Settlement*> others;
    for (const auto& o : outcomes) {
        if (o.outcome == store::ChangeOutcome::delivered && o.count_attempt) {
            if (delivered_ids.size() > 1) delivered_ids += ',';
            delivered_ids += std::to_string(o.change_id);
        } else {
            others.push_back(&o);
        }
    }
    delivered_ids += ']';
    store_.with_connection([&](SQLite::Database& db, const std::string& now) {
        std::int64_t sent = 0, failed = 0;
        if (delivered_ids.size() > 2) {
            SQLite::Statement d(
                db,
                "UPDATE activation_changes SET attempts = attempts + 1, status = 'delivered', "
                "last_error = NULL, delivered_at = ?2, next_attempt_at = NULL WHERE id IN (SELECT "
                "value FROM json_each(?1)) AND status = 'pending'");
            d.bind(1, delivered_ids);
            d.bind(2, now);
            sent += d.exec();
        }
        // A retry that used up the budget becomes dead in the same statement.
        SQLite::Statement s(
            db,
            "UPDATE activation_changes SET attempts = attempts + ?2, status = CASE WHEN ?3 = "
            "'pending' AND attempts + ?2 >= ?4 THEN 'dead' ELSE ?3 END, last_error = ?5, "
            "delivered_at = ?6, next_attempt_at = ?7 WHERE id = ?1 AND status = 'pending' "
            "RETURNING status");
        for (const auto* o : others) {
            const char* status = o->outcome == store::ChangeOutcome::delivered  ? "delivered"
                                 : o->outcome == store::ChangeOutcome::rejected ? "rejected"
                                 : o->outcome == store::ChangeOutcome::dead     ? "dead"
                                                                                : "pending";
            const bool delivered = o->outcome == store::ChangeOutcome::delivered;
            s.bind(1, o->change_id);
            s.bind(2, o->count_attempt ? 1 : 0);
            s.bind(3, status);
            s.bind(4, max_attempts);
            bind_opt(s, 5,
                     delivered || o->error.empty() ? std::nullopt
                                                   : std::optional<std::string>(o->error));
            bind_opt(s, 6, delivered ? std::optional<std::string>(now) : std::nullopt);
            bind_opt(s, 7, o->next_attempt_at);
            if (s.executeStep()) {
                const auto st = s.getColumn(0).getString();
                if (st == "delivered") ++sent;
                if (st == "rejected" || st == "dead") ++failed;
            }
            s.reset();
        }
        SQLite::Statement d(db,
                            "INSERT INTO delivery_destinations (destination, sent, failed, "
                            "last_sync_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (destination) DO "
                            "UPDATE SET sent = sent + ?2, failed = failed + ?3, last_sync_at = ?4");
        d.bind(1, std::string(destination));
        d.bind(2, sent);
        d.bind(3, failed);
        d.bind(4, now);
        d.exec();
    });
}

std::int64_t SqliteDeliveryStore::pending(std::string_view binding) {
    std::int64_t n = 0;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT count(*) FROM activation_changes WHERE binding_id = ? AND "
                            "status = 'pending'");
        q.bind(1, binding_id(db, binding));
        q.executeStep();
        n = q.getColumn(0).getInt64();
    });
    return n;
}

DestinationStatus SqliteDeliveryStore::destination_status(std::string_view destination) {
    DestinationStatus st;
    st.destination = std::string(destination);
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT state, paused_until, failures, sent, failed, last_sync_at, "
                            "last_success_at, last_error FROM delivery_destinations WHERE "
                            "destination = ?");
        q.bind(1, st.destination);
        if (!q.executeStep()) return;
        st.state = parse_state(q.getColumn(0).getString());
        st.paused_until = opt_text(q.getColumn(1));
        st.failures = q.getColumn(2).getInt64();
        st.sent = q.getColumn(3).getInt64();
        st.failed = q.getColumn(4).getInt64();
        st.last_sync_at = opt_text(q.getColumn(5));
        st.last_success_at = opt_text(q.getColumn(6));
        st.last_error = opt_text(q.getColumn(7));
    });
    return st;
}

void SqliteDeliveryStore::save_destination_status(const DestinationStatus& st) {
    // Counters belong to settle(); this writes the worker's state only.
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(
            db,
            "INSERT INTO delivery_destinations (destination, state, paused_until, failures, "
            "last_sync_at, last_success_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON "
            "CONFLICT (destination) DO UPDATE SET state = ?2, paused_until = ?3, failures = ?4, "
            "last_sync_at = coalesce(?5, last_sync_at), last_success_at = coalesce(?6, "
            "last_success_at), last_error = ?7");
        q.bind(1, st.destination);
        q.bind(2, std::string(to_string(st.state)));
        bind_opt(q, 3, st.paused_until);
        q.bind(4, st.failures);
        bind_opt(q, 5, st.last_sync_at);
        bind_opt(q, 6, st.last_success_at);
        bind_opt(q, 7, st.last_error);
        q.exec();
    });
}

ReplayResult SqliteDeliveryStore::replay_dead(std::string_view binding) {
    ReplayResult r;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        const auto b = binding_id(db, binding);
        const char* superseded =
            "EXISTS (SELECT 1 FROM activation_changes later WHERE later.binding_id = d.binding_id "
            "AND later.profile_id = d.profile_id AND later.id > d.id AND later.status = "
            "'delivered')";
        SQLite::Statement count(db, std::string("SELECT count(*) FROM activation_changes d WHERE "
                                                "d.binding_id = ? AND d.status = 'dead' AND ") +
                                        superseded);
        count.bind(1, b);
        count.executeStep();
        r.superseded = count.getColumn(0).getInt64();
        // Requeued rows keep their ids, so they still come before the profile's later changes.
        SQLite::Statement q(db, std::string("UPDATE activation_changes AS d SET status = "
                                            "'pending', attempts = 0, next_attempt_at = NULL "
                                            "WHERE d.binding_id = ? AND d.status = 'dead' AND "
                                            "NOT ") +
                                    superseded);
        q.bind(1, b);
        r.requeued = q.exec();
    });
    return r;
}

std::vector<BindingDeliveryStatus> SqliteDeliveryStore::binding_status() {
    std::vector<BindingDeliveryStatus> out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        for (auto& counts : store::sqlite_binding_status(db)) {
            BindingDeliveryStatus s;
            SQLite::Statement q(
                db,
                "SELECT (SELECT max(delivered_at) FROM activation_changes WHERE binding_id = "
                "b.id), "
                "(SELECT last_error FROM activation_changes WHERE binding_id = b.id AND last_error "
                "IS NOT NULL ORDER BY id DESC LIMIT 1) FROM activation_bindings b WHERE b.name = "
                "?");
            q.bind(1, counts.name);
            if (q.executeStep()) {
                s.last_delivered_at = opt_text(q.getColumn(0));
                s.last_error = opt_text(q.getColumn(1));
            }
            s.counts = std::move(counts);
            out.push_back(std::move(s));
        }
    });
    return out;
}

std::vector<DeliveryStore::Failure> SqliteDeliveryStore::failures(std::string_view binding,
                                                                  std::size_t limit) {
    std::vector<Failure> out;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        SQLite::Statement q(db,
                            "SELECT id, profile_id, op, status, coalesce(last_error, ''), attempts "
                            "FROM activation_changes WHERE binding_id = ? AND status IN "
                            "('rejected', 'dead') ORDER BY id DESC LIMIT ?");
        q.bind(1, binding_id(db, binding));
        q.bind(2, static_cast<std::int64_t>(limit));
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                           q.getColumn(2).getString(), q.getColumn(3).getString(),
                           q.getColumn(4).getString(), q.getColumn(5).getInt64()});
    });
    return out;
}

}  // namespace cdphub::delivery

#include "store/sqlite_activation.hpp"

#include "store/statement_cache.hpp"

#include <optional>

#include <SQLiteCpp/Statement.h>

namespace cdphub::store {

namespace {

std::int64_t id_of(SQLite::Database& db, const char* sql, std::string_view name, const char* what) {
    SQLite::Statement q(db, sql);
    q.bind(1, std::string(name));
    if (!q.executeStep())
        throw UnknownName(std::string("there is no ") + what + " named '" + std::string(name) +
                          "'");
    return q.getColumn(0).getInt64();
}

std::int64_t segment_id(SQLite::Database& db, std::string_view name) {
    return id_of(db, "SELECT id FROM segments WHERE name = ?", name, "segment");
}

void bind_param(SQLite::Statement& s, int i, const SqlParam& p) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
                s.bind(i);
            else
                s.bind(i, v);
        },
        p);
}

// The SQL value of one mapped field for profile `m.profile_id`, as JSON for json_object().
// Returns the expression and appends its parameters. Operands were checked when the binding was
// defined; anything else maps to NULL.
std::string field_sql(const std::string& operand, std::vector<SqlParam>& params) {
    auto dot = operand.find('.');
    std::string head = operand.substr(0, dot);
    std::string rest = dot == std::string::npos ? "" : operand.substr(dot + 1);
    const char* typed_value =
        "CASE kind WHEN 'boolean' THEN json(iif(value, 'true', 'false')) "
        "WHEN 'object' THEN json(value) WHEN 'array' THEN json(value) ELSE value END";
    if (head == "profile" && rest == "id") return "m.profile_id";
    if (head == "identifiers") {
        params.emplace_back(rest);
        return "(SELECT value FROM profile_identifiers WHERE profile_id = m.profile_id AND type = "
               "? ORDER BY first_seen_at, value LIMIT 1)";
    }
    if (head == "consent") {
        params.emplace_back(rest);
        return "(SELECT json(iif(granted, 'true', 'false')) FROM consents WHERE profile_id = "
               "m.profile_id AND purpose = ?)";
    }
    if (head == "traits" || head == "computed") {
        const std::string table = head == "traits" ? "profile_traits" : "computed_traits";
        auto sub = rest.find('.');
        if (sub == std::string::npos) {
            params.emplace_back(rest);
            return "(SELECT " + std::string(typed_value) + " FROM " + table +
                   " WHERE profile_id = m.profile_id AND name = ?)";
        }
        // A nested path inside an object value: "$.a.b" with each key quoted.
        std::string path = "$";
        std::string keys = rest.substr(sub + 1);
        for (std::size_t start = 0;;) {
            auto end = keys.find('.', start);
            std::string key = keys.substr(start, end - start);
            std::string quoted;
            for (char c : key) {
                if (c == '"' || c == '\\') quoted += '\\';
                quoted += c;
            }
            path += ".\"" + quoted + "\"";
            if (end == std::string::npos) break;
            start = end + 1;
        }
        params.emplace_back(path);
        params.emplace_back(rest.substr(0, sub));
        return "(SELECT value -> ? FROM " + table +
               " WHERE profile_id = m.profile_id AND name = ? AND kind = 'object')";
    }
    return "NULL";
}

struct BindingRow {
    std::int64_t id = 0;
    std::int64_t segment_id = 0;
    std::optional<std::string> planned_at;  // null: never planned, or redefined since
    std::vector<FieldMapping> mapping;
    std::optional<std::string> purpose;
};

BindingRow binding_row(SQLite::Database& db, std::string_view name) {
    SQLite::Statement q(db,
                        "SELECT id, segment_id, mapping, purpose, CASE WHEN planned_at >= "
                        "updated_at THEN planned_at END FROM activation_bindings WHERE name = ?");
    q.bind(1, std::string(name));
    if (!q.executeStep())
        throw UnknownName("there is no activation binding named '" + std::string(name) + "'");
    BindingRow b;
    b.id = q.getColumn(0).getInt64();
    b.segment_id = q.getColumn(1).getInt64();
    for (const auto& f : nlohmann::json::parse(q.getColumn(2).getString()))
        b.mapping.push_back({f.at("field").get<std::string>(), f.at("operand").get<std::string>()});
    if (!q.getColumn(3).isNull()) b.purpose = q.getColumn(3).getString();
    if (!q.getColumn(4).isNull()) b.planned_at = q.getColumn(4).getString();
    return b;
}

}  // namespace

std::int64_t sqlite_define_segment(SQLite::Database& db, const SegmentDefinition& s,
                                   const std::string& now) {
    SQLite::Statement q(db,
                        "INSERT INTO segments (name, expression, ast, created_at, updated_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO UPDATE SET expression "
                        "= excluded.expression, ast = excluded.ast, updated_at = "
                        "excluded.updated_at WHERE segments.expression IS NOT excluded.expression");
    q.bind(1, s.name);
    q.bind(2, s.expression);
    q.bind(3, s.ast.dump());
    q.bind(4, now);
    q.exec();
    return segment_id(db, s.name);
}

std::vector<SegmentDefinition> sqlite_segments(SQLite::Database& db) {
    SQLite::Statement q(db, "SELECT name, expression, ast FROM segments ORDER BY name");
    std::vector<SegmentDefinition> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                       nlohmann::json::parse(q.getColumn(2).getString())});
    return out;
}

MembershipDelta sqlite_evaluate_segment(SQLite::Database& db, std::string_view segment,
                                        const std::string& select_sql,
                                        const std::vector<SqlParam>& params,
                                        const std::string& now) {
    const auto seg = segment_id(db, segment);
    db.exec("CREATE TEMP TABLE IF NOT EXISTS eval_members (profile_id INTEGER PRIMARY KEY)");
    db.exec("DELETE FROM eval_members");
    {
        // The compiled query is the compiler's text with every user value bound, never spliced.
        SQLite::Statement fill(
            db,
            "INSERT OR IGNORE INTO eval_members (profile_id) SELECT * FROM (" + select_sql + ")");
        for (std::size_t i = 0; i < params.size(); ++i)
            bind_param(fill, static_cast<int>(i) + 1, params[i]);
        fill.exec();
    }
    MembershipDelta d;
    {
        SQLite::Statement exit(db,
                               "UPDATE segment_memberships SET exited_at = ?1 WHERE segment_id = "
                               "?2 AND exited_at IS NULL AND profile_id NOT IN (SELECT profile_id "
                               "FROM eval_members)");
        exit.bind(1, now);
        exit.bind(2, seg);
        d.exited = exit.exec();
    }
    {
        SQLite::Statement enter(db,
                                "INSERT INTO segment_memberships (segment_id, profile_id, "
                                "entered_at) SELECT ?2, e.profile_id, ?1 FROM eval_members e "
                                "WHERE NOT EXISTS (SELECT 1 FROM segment_memberships m WHERE "
                                "m.segment_id = ?2 AND m.profile_id = e.profile_id AND "
                                "m.exited_at IS NULL)");
        enter.bind(1, now);
        enter.bind(2, seg);
        d.entered = enter.exec();
    }
    d.members = db.execAndGet("SELECT count(*) FROM eval_members").getInt64();
    db.exec("DELETE FROM eval_members");
    SQLite::Statement stamp(db, "UPDATE segments SET evaluated_at = ? WHERE id = ?");
    stamp.bind(1, now);
    stamp.bind(2, seg);
    stamp.exec();
    return d;
}

MembershipDelta sqlite_update_members(SQLite::Database& db, std::string_view segment,
                                      const std::vector<std::pair<ProfileId, bool>>& updates,
                                      const std::string& now, bool count_members) {
    const auto seg = segment_id(db, segment);
    SQLite::Statement enter(db,
                            "INSERT INTO segment_memberships (segment_id, profile_id, entered_at) "
                            "SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM "
                            "segment_memberships WHERE segment_id = ?1 AND profile_id = ?2 AND "
                            "exited_at IS NULL) AND EXISTS (SELECT 1 FROM profiles WHERE id = ?2 "
                            "AND merged_into IS NULL)");
    SQLite::Statement exit(db,
                           "UPDATE segment_memberships SET exited_at = ?3 WHERE segment_id = ?1 "
                           "AND profile_id = ?2 AND exited_at IS NULL");
    MembershipDelta d;
    for (const auto& [profile, member] : updates) {
        auto& s = member ? enter : exit;
        s.bind(1, seg);
        s.bind(2, profile);
        s.bind(3, now);
        (member ? d.entered : d.exited) += s.exec();
        s.reset();
    }
    if (!count_members) return d;
    SQLite::Statement n(db,
                        "SELECT count(*) FROM segment_memberships WHERE segment_id = ? AND "
                        "exited_at IS NULL");
    n.bind(1, seg);
    n.executeStep();
    d.members = n.getColumn(0).getInt64();
    return d;
}

std::vector<ProfileId> sqlite_members(SQLite::Database& db, std::string_view segment) {
    const auto seg = segment_id(db, segment);
    SQLite::Statement q(db,
                        "SELECT profile_id FROM segment_memberships WHERE segment_id = ? AND "
                        "exited_at IS NULL ORDER BY profile_id");
    q.bind(1, seg);
    std::vector<ProfileId> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
}

void sqlite_define_binding(SQLite::Database& db, const BindingDefinition& b,
                           const std::string& now) {
    const auto seg = segment_id(db, b.segment);
    nlohmann::json mapping = nlohmann::json::array();
    for (const auto& f : b.mapping) mapping.push_back({{"field", f.field}, {"operand", f.operand}});
    SQLite::Statement q(db,
                        "INSERT INTO activation_bindings (name, segment_id, destination, mapping, "
                        "purpose, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
                        "ON CONFLICT (name) DO UPDATE SET segment_id = excluded.segment_id, "
                        "destination = excluded.destination, mapping = excluded.mapping, purpose "
                        "= excluded.purpose, updated_at = excluded.updated_at WHERE "
                        "activation_bindings.segment_id IS NOT excluded.segment_id OR "
                        "activation_bindings.destination IS NOT excluded.destination OR "
                        "activation_bindings.mapping IS NOT excluded.mapping OR "
                        "activation_bindings.purpose IS NOT excluded.purpose");
    q.bind(1, b.name);
    q.bind(2, seg);
    q.bind(3, b.destination);
    q.bind(4, mapping.dump());
    if (b.purpose)
        q.bind(5, *b.purpose);
    else
        q.bind(5);
    q.bind(6, now);
    q.exec();
}

DiffSummary sqlite_plan_diff(SQLite::Database& db, StatementCache& cache, std::string_view binding,
                             const std::string& now, std::chrono::milliseconds coalesce) {
    const auto b = binding_row(db, binding);
    DiffSummary d;
    {
        auto& q =
            cache.get("SELECT NOT EXISTS (SELECT 1 FROM activation_diffs WHERE binding_id = ?)");
        q.bind(1, b.id);
        q.executeStep();
        d.backfill = q.getColumn(0).getInt() != 0;
    }
    // The diff these changes join: the binding's latest, if it is recent and not a backfill.
    std::optional<std::int64_t> joined;
    if (coalesce.count() > 0 && !d.backfill) {
        auto& last = cache.get(
            "SELECT id FROM activation_diffs WHERE id = (SELECT max(id) FROM activation_diffs "
            "WHERE binding_id = ?1) AND backfill = 0 AND created_at >= strftime('%Y-%m-%dT%H:%M:"
            "%fZ', ?2, ?3)");
        last.bind(1, b.id);
        last.bind(2, now);
        last.bind(
            3, "-" + std::to_string(static_cast<double>(coalesce.count()) / 1000.0) + " seconds");
        if (last.executeStep()) joined = last.getColumn(0).getInt64();
    }

    // Who should be at the destination now: current members, with consent where required.
    std::vector<SqlParam> params;
    std::string payload = "json_object(";
    for (std::size_t i = 0; i < b.mapping.size(); ++i) {
        if (i) payload += ", ";
        payload += "?, ";
        params.emplace_back(b.mapping[i].field);
        payload += field_sql(b.mapping[i].operand, params);
    }
    payload += ")";
    // Candidates: after the first diff, only profiles whose membership or data changed since
    // the last one can differ from what the destination holds, so a diff costs the churn, not
    // the segment size. Without a previous plan (or after the binding changed) everyone counts.
    db.exec("CREATE TEMP TABLE IF NOT EXISTS diff_candidates (profile_id INTEGER PRIMARY KEY)");
    cache.get("DELETE FROM diff_candidates").exec();
    const bool full = !b.planned_at.has_value();
    if (full) {
        auto& all = cache.get(
            "INSERT OR IGNORE INTO diff_candidates SELECT profile_id FROM "
            "segment_memberships WHERE segment_id = ?1 AND exited_at IS NULL "
            "UNION SELECT profile_id FROM activation_state WHERE binding_id = ?2");
        all.bind(1, b.segment_id);
        all.bind(2, b.id);
        all.exec();
    } else {
        auto& since = cache.get(
            "INSERT OR IGNORE INTO diff_candidates "
            "SELECT profile_id FROM segment_memberships WHERE segment_id = ?1 AND entered_at >= ?2 "
            "UNION SELECT profile_id FROM segment_memberships WHERE segment_id = ?1 AND exited_at "
            ">= ?2 UNION SELECT id FROM profiles WHERE updated_at >= ?2");
        since.bind(1, b.segment_id);
        since.bind(2, *b.planned_at);
        since.exec();
    }
    db.exec(
        "CREATE TEMP TABLE IF NOT EXISTS diff_target (profile_id INTEGER PRIMARY KEY, payload "
        "TEXT, payload_hash INTEGER)");
    cache.get("DELETE FROM diff_target").exec();
    {
        // Candidates that belong at the destination now: current members, with consent where
        // the binding requires it, and their mapped fields.
        std::string sql =
            "INSERT INTO diff_target (profile_id, payload) SELECT m.profile_id, " + payload +
            " FROM diff_candidates c CROSS JOIN segment_memberships m ON m.segment_id = ? AND "
            "m.profile_id = c.profile_id AND m.exited_at IS NULL";
        if (b.purpose)
            sql +=
                " WHERE EXISTS (SELECT 1 FROM consents k WHERE k.profile_id = m.profile_id AND "
                "k.purpose = ? AND k.granted = 1)";
        auto& fill = cache.get(sql);
        int i = 1;
        for (const auto& p : params) bind_param(fill, i++, p);
        fill.bind(i++, b.segment_id);
        if (b.purpose) fill.bind(i++, *b.purpose);
        fill.exec();
        // A second pass, so that each payload is built once (a column of the INSERT's SELECT
        // that used it twice could be evaluated twice).
        cache.get("UPDATE diff_target SET payload_hash = cdphub_payload_hash(payload)").exec();
    }

    if (joined) {
        d.diff_id = *joined;
    } else {
        auto& diff = cache.get(
            "INSERT INTO activation_diffs (binding_id, created_at, backfill, "
            "entered, exited, changed) VALUES (?, ?, ?, 0, 0, 0)");
        diff.bind(1, b.id);
        diff.bind(2, now);
        diff.bind(3, d.backfill ? 1 : 0);
        diff.exec();
        d.diff_id = db.getLastInsertRowid();
    }

    // Where this diff's outbox rows start: the state is brought up to date from them below, so
    // that each comparison with the state is made once.
    std::int64_t first_change = 0;
    {
        auto& q = cache.get("SELECT ifnull(max(id), 0) FROM activation_changes");
        q.executeStep();
        first_change = q.getColumn(0).getInt64();
    }

    // The candidates and targets are the churn; the state and the memberships are the whole
    // segment. CROSS JOIN makes SQLite loop over the small side and look the other up by key:
    // left to choose, it scanned every member of the binding (2.2 s at 1M members, 1% churn).
    // Each step uses some of ?1 diff id, ?2 binding id, ?3 first_change. SQLite counts
    // parameters up to the highest index used, so binding every index up to that count is
    // always valid.
    auto run = [&](const char* sql) {
        auto& s = cache.get(sql);
        const int n = s.getBindParameterCount();
        if (n >= 1) s.bind(1, d.diff_id);
        if (n >= 2) s.bind(2, b.id);
        if (n >= 3) s.bind(3, first_change);
        return static_cast<std::int64_t>(s.exec());
    };
    // Exits carry the payload the destination was last given (the outbox row the state points
    // at), so it can find the person. Should that row be gone (the outbox is append-only, but
    // an admin can delete rows by hand), the exit is still planned, with an empty payload that
    // the destination rejects visibly, instead of being skipped.
    d.exited =
        run("INSERT INTO activation_changes (diff_id, binding_id, profile_id, op, payload) "
            "SELECT ?1, ?2, st.profile_id, 'exit', ifnull(c.payload, '{}') FROM activation_state "
            "st LEFT JOIN activation_changes c ON c.id = st.change_id WHERE st.binding_id = ?2 AND "
            "st.profile_id IN (SELECT profile_id FROM diff_candidates) AND st.profile_id NOT IN "
            "(SELECT profile_id FROM diff_target) ORDER BY st.profile_id");
    d.changed =
        run("INSERT INTO activation_changes (diff_id, binding_id, profile_id, op, payload) "
            "SELECT ?1, ?2, t.profile_id, 'update', t.payload FROM diff_target t CROSS JOIN "
            "activation_state st ON st.binding_id = ?2 AND st.profile_id = t.profile_id WHERE "
            "t.payload_hash IS NOT st.payload_hash ORDER BY t.profile_id");
    d.entered =
        run("INSERT INTO activation_changes (diff_id, binding_id, profile_id, op, payload) "
            "SELECT ?1, ?2, t.profile_id, 'enter', t.payload FROM diff_target t WHERE NOT EXISTS "
            "(SELECT 1 FROM activation_state st WHERE st.binding_id = ?2 AND st.profile_id = "
            "t.profile_id) ORDER BY t.profile_id");
    // The state becomes what the destination holds once these changes are delivered.
    run("DELETE FROM activation_state WHERE binding_id = ?2 AND profile_id IN (SELECT profile_id "
        "FROM activation_changes WHERE id > ?3 AND op = 'exit')");
    run("UPDATE activation_state SET payload_hash = t.payload_hash, change_id = c.id FROM "
        "activation_changes c CROSS JOIN diff_target t ON t.profile_id = c.profile_id WHERE c.id > "
        "?3 AND c.op = 'update' AND activation_state.binding_id = ?2 AND "
        "activation_state.profile_id = c.profile_id");
    run("INSERT INTO activation_state (binding_id, profile_id, payload_hash, change_id) "
        "SELECT ?2, c.profile_id, t.payload_hash, c.id FROM activation_changes c CROSS JOIN "
        "diff_target t ON t.profile_id = c.profile_id WHERE c.id > ?3 AND c.op = 'enter'");
    cache.get("DELETE FROM diff_target").exec();
    cache.get("DELETE FROM diff_candidates").exec();
    {
        auto& mark = cache.get("UPDATE activation_bindings SET planned_at = ? WHERE id = ?");
        mark.bind(1, now);
        mark.bind(2, b.id);
        mark.exec();
    }

    if (d.entered + d.exited + d.changed == 0 && !d.backfill) {
        // Nothing to deliver: no empty diff rows pile up from a scheduler that runs often (a
        // joined diff keeps the changes it already has).
        if (!joined) {
            auto& drop = cache.get("DELETE FROM activation_diffs WHERE id = ?");
            drop.bind(1, d.diff_id);
            drop.exec();
        }
        d.diff_id = 0;
        return d;
    }
    auto& counts = cache.get(
        "UPDATE activation_diffs SET entered = entered + ?, exited = exited + "
        "?, changed = changed + ? WHERE id = ?");
    counts.bind(1, d.entered);
    counts.bind(2, d.exited);
    counts.bind(3, d.changed);
    counts.bind(4, d.diff_id);
    counts.exec();
    return d;
}

std::vector<PendingChange> sqlite_pending_changes(SQLite::Database& db, std::string_view binding,
                                                  std::size_t limit) {
    const auto b = binding_row(db, binding);
    SQLite::Statement q(db,
                        "SELECT id, diff_id, profile_id, op, payload, attempts FROM "
                        "activation_changes WHERE binding_id = ? AND status = 'pending' ORDER BY "
                        "id LIMIT ?");
    q.bind(1, b.id);
    q.bind(2, static_cast<std::int64_t>(limit));
    std::vector<PendingChange> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                       q.getColumn(2).getInt64(), q.getColumn(3).getString(),
                       nlohmann::json::parse(q.getColumn(4).getString()),
                       q.getColumn(5).getInt64()});
    return out;
}

void sqlite_settle_changes(SQLite::Database& db,
                           const std::vector<std::pair<std::int64_t, ChangeOutcome>>& outcomes,
                           const std::string& error, const std::string& now) {
    SQLite::Statement s(db,
                        "UPDATE activation_changes SET status = ?, attempts = attempts + 1, "
                        "last_error = ?, delivered_at = ? WHERE id = ? AND status = 'pending'");
    for (const auto& [id, outcome] : outcomes) {
        const char* status = outcome == ChangeOutcome::delivered  ? "delivered"
                             : outcome == ChangeOutcome::rejected ? "rejected"
                             : outcome == ChangeOutcome::dead     ? "dead"
                                                                  : "pending";
        s.bind(1, status);
        if (error.empty() || outcome == ChangeOutcome::delivered)
            s.bind(2);
        else
            s.bind(2, error);
        if (outcome == ChangeOutcome::delivered)
            s.bind(3, now);
        else
            s.bind(3);
        s.bind(4, id);
        s.exec();
        s.reset();
    }
}

std::vector<BindingStatus> sqlite_binding_status(SQLite::Database& db) {
    SQLite::Statement q(
        db,
        "SELECT b.name, s.name, b.destination, "
        "(SELECT count(*) FROM activation_state st WHERE st.binding_id = b.id), "
        "(SELECT count(*) FROM activation_changes c WHERE c.binding_id = b.id AND c.status = "
        "'pending'), "
        "(SELECT count(*) FROM activation_changes c WHERE c.binding_id = b.id AND c.status = "
        "'delivered'), "
        "(SELECT count(*) FROM activation_changes c WHERE c.binding_id = b.id AND c.status = "
        "'rejected'), "
        "(SELECT count(*) FROM activation_changes c WHERE c.binding_id = b.id AND c.status = "
        "'dead'), "
        "(SELECT max(created_at) FROM activation_diffs d WHERE d.binding_id = b.id) "
        "FROM activation_bindings b JOIN segments s ON s.id = b.segment_id ORDER BY b.name");
    std::vector<BindingStatus> out;
    while (q.executeStep()) {
        BindingStatus st;
        st.name = q.getColumn(0).getString();
        st.segment = q.getColumn(1).getString();
        st.destination = q.getColumn(2).getString();
        st.members_planned = q.getColumn(3).getInt64();
        st.pending = q.getColumn(4).getInt64();
        st.delivered = q.getColumn(5).getInt64();
        st.rejected = q.getColumn(6).getInt64();
        st.dead = q.getColumn(7).getInt64();
        if (!q.getColumn(8).isNull()) st.last_diff_at = q.getColumn(8).getString();
        out.push_back(std::move(st));
    }
    return out;
}

}  // namespace cdphub::store

#include "store/sqlite_profile_writer.hpp"

#include <SQLiteCpp/Transaction.h>

namespace cdphub::store {

namespace {

// Binds, executes and resets a cached write statement; returns the rows it changed.
template <typename Bind>
int run(SQLite::Statement& s, Bind&& bind) {
    bind(s);
    int changes = s.exec();
    s.reset();
    s.clearBindings();
    return changes;
}

std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}

void bind_optional(SQLite::Statement& s, int i, const std::optional<std::int64_t>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

void bind_optional(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

}  // namespace

void bind_json_value(SQLite::Statement& s, int kind_index, int value_index,
                     const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::string:
            s.bind(kind_index, "string");
            s.bind(value_index, value.get_ref<const std::string&>());
            break;
        case nlohmann::json::value_t::boolean:
            s.bind(kind_index, "boolean");
            s.bind(value_index, value.get<bool>() ? 1 : 0);
            break;
        case nlohmann::json::value_t::number_integer:
            s.bind(kind_index, "number");
            s.bind(value_index, value.get<std::int64_t>());
            break;
        case nlohmann::json::value_t::number_unsigned: {
            s.bind(kind_index, "number");
            auto u = value.get<std::uint64_t>();
            // SQLite integers are signed 64-bit; larger values keep their magnitude as REAL.
            if (u <= static_cast<std::uint64_t>(INT64_MAX))
                s.bind(value_index, static_cast<std::int64_t>(u));
            else
                s.bind(value_index, static_cast<double>(u));
            break;
        }
        case nlohmann::json::value_t::number_float:
            s.bind(kind_index, "number");
            s.bind(value_index, value.get<double>());
            break;
        case nlohmann::json::value_t::array:
            s.bind(kind_index, "array");
            s.bind(value_index, value.dump());
            break;
        default:  // objects (null never reaches the store: the engine skips it)
            s.bind(kind_index, "object");
            s.bind(value_index, value.dump());
            break;
    }
}

nlohmann::json read_json_value(const SQLite::Column& kind, const SQLite::Column& value) {
    const std::string k = kind.getString();
    if (k == "string") return value.getString();
    if (k == "boolean") return value.getInt64() != 0;
    if (k == "number") {
        if (value.isInteger()) return value.getInt64();
        return value.getDouble();
    }
    return nlohmann::json::parse(value.getString());
}

struct SqliteProfileWriter::Statements {
    explicit Statements(SQLite::Database& db)
        : find_identifier(db,
                          "SELECT profile_id FROM profile_identifiers WHERE type = ? AND "
                          "value = ?"),
          identifiers_of(db,
                         "SELECT type, value, hashed FROM profile_identifiers WHERE "
                         "profile_id = ? ORDER BY type, value"),
          separations(db,
                      "SELECT type_a, value_a, type_b, value_b FROM identity_separations "
                      "WHERE (type_a = ?1 AND value_a = ?2) OR (type_b = ?1 AND value_b = ?2)"),
          any_separation(db, "SELECT EXISTS (SELECT 1 FROM identity_separations)"),
          insert_profile(db, "INSERT INTO profiles (created_at, updated_at) VALUES (?, ?)"),
          touch_profile(db, "UPDATE profiles SET updated_at = ? WHERE id = ?"),
          attach(db,
                 "INSERT INTO profile_identifiers (type, value, profile_id, hashed, "
                 "first_seen_at, source, record_id) VALUES (?, ?, ?, ?, ?, ?, ?)"),
          traits_of(db,
                    "SELECT name, kind, value, source, observed_at, record_id FROM "
                    "profile_traits WHERE profile_id = ?"),
          set_trait(db,
                    "INSERT INTO profile_traits (profile_id, name, kind, value, source, "
                    "observed_at, record_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(profile_id, name) DO UPDATE SET kind = excluded.kind, value = "
                    "excluded.value, source = excluded.source, observed_at = "
                    "excluded.observed_at, record_id = excluded.record_id"),
          add_event(db,
                    "INSERT INTO events (profile_id, record_id, source, event, occurred_at, "
                    "properties) VALUES (?, ?, ?, ?, ?, ?)"),
          // A later record of the same order (by its occurred_at) updates it; an earlier one
          // that arrives late only moves the placed time back. Ties go to the newer record.
          upsert_order(
              db,
              "INSERT INTO orders (profile_id, source, order_id, record_id, occurred_at, "
              "updated_at, currency, total_minor, tax_minor, discount_minor, status, lines) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
              "ON CONFLICT (source, order_id) DO UPDATE SET "
              "occurred_at = min(orders.occurred_at, excluded.occurred_at), "
              "profile_id = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.profile_id ELSE orders.profile_id END, "
              "record_id = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.record_id ELSE orders.record_id END, "
              "currency = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.currency ELSE orders.currency END, "
              "total_minor = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.total_minor ELSE orders.total_minor END, "
              "tax_minor = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.tax_minor ELSE orders.tax_minor END, "
              "discount_minor = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.discount_minor ELSE orders.discount_minor END, "
              "status = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.status ELSE orders.status END, "
              "lines = CASE WHEN excluded.updated_at >= orders.updated_at "
              "  THEN excluded.lines ELSE orders.lines END, "
              "updated_at = max(orders.updated_at, excluded.updated_at)"),
          order_profile(db, "SELECT profile_id FROM orders WHERE source = ? AND order_id = ?"),
          consents_of(db,
                      "SELECT purpose, granted, source, collected_via, occurred_at, "
                      "record_id FROM consents WHERE profile_id = ?"),
          set_consent(db,
                      "INSERT INTO consents (profile_id, purpose, granted, source, "
                      "collected_via, occurred_at, record_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (profile_id, purpose) DO UPDATE SET granted = "
                      "excluded.granted, source = excluded.source, collected_via = "
                      "excluded.collected_via, occurred_at = excluded.occurred_at, "
                      "record_id = excluded.record_id"),
          assign_first(db,
                       "UPDATE records SET profile_id = ?, resolved_profile_id = ?, resolution "
                       "= ? WHERE id = ?"),
          assign(db, "UPDATE records SET profile_id = ?, resolution = ? WHERE id = ?"),
          merged_into(db, "SELECT merged_into FROM profiles WHERE id = ?") {}

    SQLite::Statement find_identifier, identifiers_of, separations, any_separation, insert_profile,
        touch_profile, attach, traits_of, set_trait, add_event, upsert_order, order_profile,
        consents_of, set_consent, assign_first, assign, merged_into;

    void reset_all() {
        for (auto* s :
             {&find_identifier, &identifiers_of, &separations, &any_separation, &insert_profile,
              &touch_profile, &attach, &traits_of, &set_trait, &add_event, &upsert_order,
              &order_profile, &consents_of, &set_consent, &assign_first, &assign, &merged_into}) {
            s->tryReset();
            s->clearBindings();
        }
    }
};

SqliteProfileWriter::SqliteProfileWriter(SQLite::Database& db)
    : db_(db), st_(std::make_unique<Statements>(db)) {}

SqliteProfileWriter::~SqliteProfileWriter() = default;

void SqliteProfileWriter::begin(std::string now) {
    now_ = std::move(now);
    changed_.clear();
    touched_.clear();
}

void SqliteProfileWriter::reset_statements() {
    st_->reset_all();
}

void SqliteProfileWriter::touch(ProfileId profile) {
    changed_.insert(profile);
    if (!touched_.insert(profile).second) return;
    run(st_->touch_profile, [&](SQLite::Statement& s) {
        s.bind(1, now_);
        s.bind(2, profile);
    });
}

std::optional<ProfileId> SqliteProfileWriter::profile_of(const IdentifierValue& id) {
    auto& q = st_->find_identifier;
    q.bindNoCopy(1, id.type);
    q.bindNoCopy(2, id.value);
    std::optional<ProfileId> out;
    if (q.executeStep()) out = q.getColumn(0).getInt64();
    q.reset();
    q.clearBindings();
    return out;
}

std::vector<StoredIdentifier> SqliteProfileWriter::identifiers_of(ProfileId profile) {
    auto& q = st_->identifiers_of;
    q.bind(1, profile);
    std::vector<StoredIdentifier> out;
    while (q.executeStep())
        out.push_back({{q.getColumn(0).getString(), q.getColumn(1).getString()},
                       q.getColumn(2).getInt() != 0});
    q.reset();
    return out;
}

std::vector<std::pair<IdentifierValue, IdentifierValue>> SqliteProfileWriter::separations_of(
    std::span<const IdentifierValue> ids) {
    std::vector<std::pair<IdentifierValue, IdentifierValue>> out;
    // Almost every store has none; one cheap probe saves a lookup per identifier.
    auto& any = st_->any_separation;
    bool has_any = any.executeStep() && any.getColumn(0).getInt() != 0;
    any.reset();
    if (!has_any) return out;
    auto& q = st_->separations;
    for (const auto& id : ids) {
        q.bind(1, id.type);
        q.bind(2, id.value);
        while (q.executeStep())
            out.push_back({{q.getColumn(0).getString(), q.getColumn(1).getString()},
                           {q.getColumn(2).getString(), q.getColumn(3).getString()}});
        q.reset();
    }
    q.clearBindings();
    return out;
}

ProfileId SqliteProfileWriter::create_profile() {
    run(st_->insert_profile, [&](SQLite::Statement& s) {
        s.bind(1, now_);
        s.bind(2, now_);
    });
    ProfileId id = db_.getLastInsertRowid();
    changed_.insert(id);
    touched_.insert(id);
    return id;
}

void SqliteProfileWriter::attach_identifier(ProfileId profile, const StoredIdentifier& id,
                                            std::string_view source, RecordKey record) {
    run(st_->attach, [&](SQLite::Statement& s) {
        s.bindNoCopy(1, id.id.type);
        s.bindNoCopy(2, id.id.value);
        s.bind(3, profile);
        s.bind(4, id.hashed ? 1 : 0);
        s.bindNoCopy(5, now_);
        s.bind(6, std::string(source));
        s.bind(7, record);
    });
    touch(profile);
}

void SqliteProfileWriter::end_memberships(ProfileId profile) {
    SQLite::Statement s(db_,
                        "UPDATE segment_memberships SET exited_at = ? WHERE profile_id = ? AND "
                        "exited_at IS NULL");
    s.bind(1, now_);
    s.bind(2, profile);
    s.exec();
}

struct SqliteProfileWriter::MergeStatements {
    explicit MergeStatements(SQLite::Database& db)
        : identifiers(db, "UPDATE profile_identifiers SET profile_id = ?1 WHERE profile_id = ?2"),
          records(db, "UPDATE records SET profile_id = ?1 WHERE profile_id = ?2"),
          events(db, "UPDATE events SET profile_id = ?1 WHERE profile_id = ?2"),
          orders(db, "UPDATE orders SET profile_id = ?1 WHERE profile_id = ?2"),
          traits(db, "DELETE FROM profile_traits WHERE profile_id = ?"),
          consents(db, "DELETE FROM consents WHERE profile_id = ?"),
          computed(db, "DELETE FROM computed_traits WHERE profile_id = ?"),
          memberships(db,
                      "UPDATE segment_memberships SET exited_at = ? WHERE profile_id = ? AND "
                      "exited_at IS NULL"),
          absorb(db,
                 "UPDATE profiles SET merged_into = ?, merged_at = ?, updated_at = ? WHERE id = ?"),
          log(db,
              "INSERT INTO merge_log (merged_at, survivor_id, absorbed_id, "
              "survivor_identifier_type, survivor_identifier_value, absorbed_identifier_type, "
              "absorbed_identifier_value, record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") {}
    SQLite::Statement identifiers, records, events, orders, traits, consents, computed, memberships,
        absorb, log;
};

std::int64_t SqliteProfileWriter::merge_profiles(const MergeEntry& e) {
    if (!merge_st_) merge_st_ = std::make_unique<MergeStatements>(db_);
    auto& m = *merge_st_;
    for (auto* s : {&m.identifiers, &m.records, &m.events, &m.orders})
        run(*s, [&](SQLite::Statement& q) {
            q.bind(1, e.survivor);
            q.bind(2, e.absorbed);
        });
    for (auto* s : {&m.traits, &m.consents, &m.computed})
        run(*s, [&](SQLite::Statement& q) { q.bind(1, e.absorbed); });
    run(m.memberships, [&](SQLite::Statement& q) {
        q.bind(1, now_);
        q.bind(2, e.absorbed);
    });
    run(m.absorb, [&](SQLite::Statement& q) {
        q.bind(1, e.survivor);
        q.bind(2, now_);
        q.bind(3, now_);
        q.bind(4, e.absorbed);
    });
    run(m.log, [&](SQLite::Statement& q) {
        q.bind(1, now_);
        q.bind(2, e.survivor);
        q.bind(3, e.absorbed);
        q.bind(4, e.survivor_link.type);
        q.bind(5, e.survivor_link.value);
        q.bind(6, e.absorbed_link.type);
        q.bind(7, e.absorbed_link.value);
        bind_optional(q, 8, e.record);
    });
    const auto id = db_.getLastInsertRowid();
    changed_.insert(e.absorbed);
    touch(e.survivor);
    return id;
}

std::map<std::string, TraitObservation> SqliteProfileWriter::traits_of(ProfileId profile) {
    auto& q = st_->traits_of;
    q.bind(1, profile);
    std::map<std::string, TraitObservation> out;
    while (q.executeStep())
        out.emplace(q.getColumn(0).getString(),
                    TraitObservation{read_json_value(q.getColumn(1), q.getColumn(2)),
                                     q.getColumn(3).getString(), q.getColumn(4).getString(),
                                     optional_int(q.getColumn(5))});
    q.reset();
    return out;
}

void SqliteProfileWriter::set_trait(ProfileId profile, const std::string& name,
                                    const TraitObservation& v) {
    run(st_->set_trait, [&](SQLite::Statement& s) {
        s.bind(1, profile);
        s.bindNoCopy(2, name);
        bind_json_value(s, 3, 4, v.value);
        s.bindNoCopy(5, v.source);
        s.bindNoCopy(6, v.observed_at);
        bind_optional(s, 7, v.record);
    });
    touch(profile);
}

void SqliteProfileWriter::add_event(ProfileId profile, RecordKey record, std::string_view source,
                                    std::string_view event, std::string_view occurred_at,
                                    const nlohmann::json& properties) {
    run(st_->add_event, [&](SQLite::Statement& s) {
        s.bind(1, profile);
        s.bind(2, record);
        s.bind(3, std::string(source));
        s.bind(4, std::string(event));
        s.bind(5, std::string(occurred_at));
        s.bind(6, properties.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
    touch(profile);
}

void SqliteProfileWriter::upsert_order(ProfileId profile, RecordKey record, std::string_view source,
                                       const OrderWrite& o, std::string_view occurred_at) {
    // The profile that held the order before may lose it (a later record resolved elsewhere).
    std::optional<ProfileId> previous;
    {
        auto& q = st_->order_profile;
        q.bind(1, std::string(source));
        q.bind(2, o.order_id);
        if (q.executeStep()) previous = q.getColumn(0).getInt64();
        q.reset();
        q.clearBindings();
    }
    run(st_->upsert_order, [&](SQLite::Statement& s) {
        s.bind(1, profile);
        s.bind(2, std::string(source));
        s.bindNoCopy(3, o.order_id);
        s.bind(4, record);
        s.bind(5, std::string(occurred_at));
        s.bindNoCopy(6, o.currency);
        s.bind(7, o.total_minor);
        bind_optional(s, 8, o.tax_minor);
        bind_optional(s, 9, o.discount_minor);
        bind_optional(s, 10, o.status);
        s.bind(11, o.lines.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
    if (previous && *previous != profile) touch(*previous);
    touch(profile);
}

std::map<std::string, ConsentDecision> SqliteProfileWriter::consents_of(ProfileId profile) {
    auto& q = st_->consents_of;
    q.bind(1, profile);
    std::map<std::string, ConsentDecision> out;
    while (q.executeStep()) {
        ConsentDecision d;
        d.granted = q.getColumn(1).getInt() != 0;
        d.source = q.getColumn(2).getString();
        if (!q.getColumn(3).isNull()) d.collected_via = q.getColumn(3).getString();
        d.occurred_at = q.getColumn(4).getString();
        d.record = optional_int(q.getColumn(5));
        out.emplace(q.getColumn(0).getString(), std::move(d));
    }
    q.reset();
    return out;
}

void SqliteProfileWriter::set_consent(ProfileId profile, const std::string& purpose,
                                      const ConsentDecision& d) {
    run(st_->set_consent, [&](SQLite::Statement& s) {
        s.bind(1, profile);
        s.bindNoCopy(2, purpose);
        s.bind(3, d.granted ? 1 : 0);
        s.bindNoCopy(4, d.source);
        bind_optional(s, 5, d.collected_via);
        s.bindNoCopy(6, d.occurred_at);
        bind_optional(s, 7, d.record);
    });
    touch(profile);
}

void SqliteProfileWriter::assign_record(RecordKey record, std::optional<ProfileId> profile,
                                        const nlohmann::json& resolution, bool first) {
    const std::string text = resolution.dump();
    auto& s = first ? st_->assign_first : st_->assign;
    run(s, [&](SQLite::Statement& q) {
        int i = 1;
        bind_optional(q, i++, profile);
        if (first) bind_optional(q, i++, profile);
        q.bindNoCopy(i++, text);
        q.bind(i++, record);
    });
    if (profile) touch(*profile);
}

std::optional<MergeEntry> SqliteProfileWriter::merge_entry(std::int64_t merge_id) {
    SQLite::Statement q(
        db_,
        "SELECT id, merged_at, survivor_id, absorbed_id, survivor_identifier_type, "
        "survivor_identifier_value, absorbed_identifier_type, "
        "absorbed_identifier_value, record_id, undone_by FROM merge_log WHERE id = ?");
    q.bind(1, merge_id);
    if (!q.executeStep()) return std::nullopt;
    MergeEntry e;
    e.id = q.getColumn(0).getInt64();
    e.merged_at = q.getColumn(1).getString();
    e.survivor = q.getColumn(2).getInt64();
    e.absorbed = q.getColumn(3).getInt64();
    e.survivor_link = {q.getColumn(4).getString(), q.getColumn(5).getString()};
    e.absorbed_link = {q.getColumn(6).getString(), q.getColumn(7).getString()};
    e.record = optional_int(q.getColumn(8));
    e.undone_by = optional_int(q.getColumn(9));
    return e;
}

std::optional<ProfileId> SqliteProfileWriter::live_profile(ProfileId profile) {
    auto& q = st_->merged_into;
    ProfileId current = profile;
    // A chain longer than the number of profiles would be a cycle: guard against a damaged file.
    for (int hops = 0; hops < 1'000'000; ++hops) {
        q.bind(1, current);
        if (!q.executeStep()) {
            q.reset();
            return std::nullopt;
        }
        auto next = optional_int(q.getColumn(0));
        q.reset();
        if (!next) return current;
        current = *next;
    }
    return std::nullopt;
}

std::vector<ProfileId> SqliteProfileWriter::absorbed_into(ProfileId profile) {
    SQLite::Statement q(db_,
                        "WITH RECURSIVE t(id) AS (SELECT id FROM profiles WHERE merged_into = ?1 "
                        "UNION SELECT p.id FROM profiles p JOIN t ON p.merged_into = t.id) "
                        "SELECT id FROM t ORDER BY id");
    q.bind(1, profile);
    std::vector<ProfileId> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
}

std::vector<RecordForReplay> SqliteProfileWriter::records_of(ProfileId profile) {
    SQLite::Statement q(db_,
                        "SELECT id, source, resolved_profile_id, body, received_at FROM records "
                        "WHERE profile_id = ? ORDER BY id");
    q.bind(1, profile);
    std::vector<RecordForReplay> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                       optional_int(q.getColumn(2)), q.getColumn(3).getString(),
                       q.getColumn(4).getString()});
    return out;
}

void SqliteProfileWriter::clear_profile(ProfileId profile) {
    for (const char* sql :
         {"DELETE FROM profile_identifiers WHERE profile_id = ?",
          "DELETE FROM profile_traits WHERE profile_id = ?",
          "DELETE FROM events WHERE profile_id = ?", "DELETE FROM orders WHERE profile_id = ?",
          "DELETE FROM consents WHERE profile_id = ?",
          "DELETE FROM computed_traits WHERE profile_id = ?",
          "UPDATE records SET profile_id = NULL WHERE profile_id = ?"}) {
        SQLite::Statement s(db_, sql);
        s.bind(1, profile);
        s.exec();
    }
    end_memberships(profile);
    touch(profile);
}

void SqliteProfileWriter::revive_profile(ProfileId profile) {
    SQLite::Statement s(db_,
                        "UPDATE profiles SET merged_into = NULL, merged_at = NULL, updated_at = ? "
                        "WHERE id = ?");
    s.bind(1, now_);
    s.bind(2, profile);
    s.exec();
    changed_.insert(profile);
    touched_.insert(profile);
}

void SqliteProfileWriter::retire_profile(ProfileId profile, ProfileId successor) {
    SQLite::Statement s(db_,
                        "UPDATE profiles SET merged_into = ?, merged_at = ?, updated_at = ? "
                        "WHERE id = ?");
    s.bind(1, successor);
    s.bind(2, now_);
    s.bind(3, now_);
    s.bind(4, profile);
    s.exec();
    changed_.insert(profile);
}

std::int64_t SqliteProfileWriter::record_unmerge(std::int64_t merge_id, const std::string& reason,
                                                 const IdentifierValue& a, const IdentifierValue& b,
                                                 std::span<const std::int64_t> undone_merges) {
    SQLite::Statement u(db_,
                        "INSERT INTO unmerges (unmerged_at, merge_id, reason, profiles) "
                        "VALUES (?, ?, ?, '[]')");
    u.bind(1, now_);
    u.bind(2, merge_id);
    if (reason.empty())
        u.bind(3);
    else
        u.bind(3, reason);
    u.exec();
    const std::int64_t id = db_.getLastInsertRowid();
    // Stored in a canonical order so that (a, b) and (b, a) are one row.
    const auto& [first, second] = a < b ? std::tie(a, b) : std::tie(b, a);
    SQLite::Statement sep(db_,
                          "INSERT INTO identity_separations (type_a, value_a, type_b, value_b, "
                          "unmerge_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO "
                          "NOTHING");
    sep.bind(1, first.type);
    sep.bind(2, first.value);
    sep.bind(3, second.type);
    sep.bind(4, second.value);
    sep.bind(5, id);
    sep.bind(6, now_);
    sep.exec();
    SQLite::Statement undo(db_, "UPDATE merge_log SET undone_by = ? WHERE id = ?");
    for (auto m : undone_merges) {
        undo.bind(1, id);
        undo.bind(2, m);
        undo.exec();
        undo.reset();
    }
    return id;
}

void SqliteProfileWriter::set_unmerge_result(std::int64_t unmerge_id,
                                             std::span<const ProfileId> profiles) {
    nlohmann::json ids = nlohmann::json::array();
    for (auto p : profiles) ids.push_back(p);
    SQLite::Statement s(db_, "UPDATE unmerges SET profiles = ? WHERE id = ?");
    s.bind(1, ids.dump());
    s.bind(2, unmerge_id);
    s.exec();
}

std::vector<std::int64_t> SqliteProfileWriter::merges_into(std::span<const ProfileId> profiles) {
    SQLite::Statement q(db_,
                        "SELECT id FROM merge_log WHERE survivor_id = ? AND undone_by IS NULL "
                        "ORDER BY id");
    std::vector<std::int64_t> out;
    for (auto p : profiles) {
        q.bind(1, p);
        while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
        q.reset();
    }
    return out;
}

}  // namespace cdphub::store

#include "store/sqlite_profile_reads.hpp"

#include <SQLiteCpp/Statement.h>

#include "store/sqlite_profile_writer.hpp"

namespace cdphub::store {

namespace {

std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}

std::optional<std::string> optional_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

std::optional<ProfileId> follow_to_live(SQLite::Database& db, ProfileId id) {
    SQLite::Statement q(db, "SELECT merged_into FROM profiles WHERE id = ?");
    for (int hops = 0; hops < 1'000'000; ++hops) {
        q.bind(1, id);
        if (!q.executeStep()) return std::nullopt;
        auto next = optional_int(q.getColumn(0));
        q.reset();
        if (!next) return id;
        id = *next;
    }
    return std::nullopt;
}

std::int64_t count(SQLite::Database& db, const char* sql, ProfileId id) {
    SQLite::Statement q(db, sql);
    q.bind(1, id);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

}  // namespace

std::optional<ProfileId> read_find_profile(SQLite::Database& db, std::string_view type,
                                           std::string_view value) {
    SQLite::Statement q(db,
                        "SELECT profile_id FROM profile_identifiers WHERE type = ? AND value = ?");
    q.bind(1, std::string(type));
    q.bind(2, std::string(value));
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

std::optional<ProfileDetails> read_profile_details(SQLite::Database& db, ProfileId requested) {
    auto live = follow_to_live(db, requested);
    if (!live) return std::nullopt;
    ProfileDetails d;
    d.id = *live;
    if (*live != requested) d.requested = requested;
    {
        SQLite::Statement q(db, "SELECT created_at, updated_at FROM profiles WHERE id = ?");
        q.bind(1, d.id);
        q.executeStep();
        d.created_at = q.getColumn(0).getString();
        d.updated_at = q.getColumn(1).getString();
    }
    {
        SQLite::Statement q(db,
                            "SELECT i.type, i.value, i.hashed, i.first_seen_at, i.source, "
                            "i.record_id, r.record_id FROM profile_identifiers i LEFT JOIN "
                            "records r ON r.id = i.record_id WHERE i.profile_id = ? "
                            "ORDER BY i.type, i.first_seen_at, i.value");
        q.bind(1, d.id);
        while (q.executeStep())
            d.identifiers.push_back({{q.getColumn(0).getString(), q.getColumn(1).getString()},
                                     q.getColumn(2).getInt() != 0,
                                     q.getColumn(3).getString(),
                                     q.getColumn(4).getString(),
                                     optional_int(q.getColumn(5)),
                                     optional_text(q.getColumn(6))});
    }
    {
        SQLite::Statement q(db,
                            "SELECT t.name, t.kind, t.value, t.source, t.observed_at, t.record_id, "
                            "r.record_id FROM profile_traits t LEFT JOIN records r ON r.id = "
                            "t.record_id WHERE t.profile_id = ? ORDER BY t.name");
        q.bind(1, d.id);
        while (q.executeStep())
            d.traits.push_back(
                {q.getColumn(0).getString(),
                 {read_json_value(q.getColumn(1), q.getColumn(2)), q.getColumn(3).getString(),
                  q.getColumn(4).getString(), optional_int(q.getColumn(5))},
                 optional_text(q.getColumn(6))});
    }
    {
        SQLite::Statement q(db,
                            "SELECT name, kind, value, computed_at FROM computed_traits WHERE "
                            "profile_id = ? ORDER BY name");
        q.bind(1, d.id);
        while (q.executeStep())
            d.computed[q.getColumn(0).getString()] = {
                read_json_value(q.getColumn(1), q.getColumn(2)), q.getColumn(3).getString()};
    }
    {
        SQLite::Statement q(db,
                            "SELECT purpose, granted, source, collected_via, occurred_at, "
                            "record_id FROM consents WHERE profile_id = ? ORDER BY purpose");
        q.bind(1, d.id);
        while (q.executeStep())
            d.consents[q.getColumn(0).getString()] = {
                q.getColumn(1).getInt() != 0, q.getColumn(2).getString(),
                optional_text(q.getColumn(3)), q.getColumn(4).getString(),
                optional_int(q.getColumn(5))};
    }
    d.events = count(db, "SELECT count(*) FROM events WHERE profile_id = ?", d.id);
    d.orders = count(db, "SELECT count(*) FROM orders WHERE profile_id = ?", d.id);
    {
        SQLite::Statement q(db,
                            "SELECT source, count(*) FROM records WHERE profile_id = ? "
                            "GROUP BY source ORDER BY source");
        q.bind(1, d.id);
        while (q.executeStep())
            d.records_by_source[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    }
    {
        // Merges into this profile or into any profile it absorbed, and those of profiles that
        // were split off it again (undone merges stay visible, marked).
        SQLite::Statement q(
            db,
            "WITH RECURSIVE family(id) AS (SELECT ?1 UNION SELECT p.id FROM profiles p JOIN "
            "family f ON p.merged_into = f.id) "
            "SELECT id, merged_at, survivor_id, absorbed_id, survivor_identifier_type, "
            "survivor_identifier_value, absorbed_identifier_type, absorbed_identifier_value, "
            "record_id, undone_by FROM merge_log WHERE survivor_id IN (SELECT id FROM family) "
            "OR absorbed_id IN (SELECT id FROM family) ORDER BY id");
        q.bind(1, d.id);
        while (q.executeStep()) {
            MergeEntry e;
            e.id = q.getColumn(0).getInt64();
            e.merged_at = q.getColumn(1).getString();
            e.survivor = q.getColumn(2).getInt64();
            e.absorbed = q.getColumn(3).getInt64();
            e.survivor_link = {q.getColumn(4).getString(), q.getColumn(5).getString()};
            e.absorbed_link = {q.getColumn(6).getString(), q.getColumn(7).getString()};
            e.record = optional_int(q.getColumn(8));
            e.undone_by = optional_int(q.getColumn(9));
            d.merges.push_back(std::move(e));
        }
    }
    {
        // The most recent notes, shown oldest first.
        SQLite::Statement q(db,
                            "SELECT id, source, record_id, resolution FROM (SELECT id, source, "
                            "record_id, resolution FROM records WHERE profile_id = ? AND "
                            "resolution IS NOT NULL AND (json_array_length(resolution, "
                            "'$.blocked') > 0 OR json_array_length(resolution, '$.dropped') > 0) "
                            "ORDER BY id DESC LIMIT 100) ORDER BY id");
        q.bind(1, d.id);
        while (q.executeStep())
            d.notes.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                               q.getColumn(2).getString(),
                               nlohmann::json::parse(q.getColumn(3).getString())});
    }
    {
        SQLite::Statement q(db,
                            "SELECT s.type_a, s.value_a, s.type_b, s.value_b FROM "
                            "identity_separations s WHERE EXISTS (SELECT 1 FROM "
                            "profile_identifiers i WHERE i.profile_id = ?1 AND ((i.type = "
                            "s.type_a AND i.value = s.value_a) OR (i.type = s.type_b AND i.value "
                            "= s.value_b))) ORDER BY s.id");
        q.bind(1, d.id);
        while (q.executeStep())
            d.separations.push_back({{q.getColumn(0).getString(), q.getColumn(1).getString()},
                                     {q.getColumn(2).getString(), q.getColumn(3).getString()}});
    }
    {
        SQLite::Statement q(db,
                            "SELECT s.name, m.entered_at FROM segment_memberships m JOIN segments "
                            "s ON s.id = m.segment_id WHERE m.profile_id = ? AND m.exited_at IS "
                            "NULL ORDER BY s.name");
        q.bind(1, d.id);
        while (q.executeStep())
            d.segments.push_back({q.getColumn(0).getString(), q.getColumn(1).getString()});
    }
    return d;
}

ProfileCounts read_profile_counts(SQLite::Database& db) {
    ProfileCounts c;
    auto one = [&](const char* sql) { return db.execAndGet(sql).getInt64(); };
    c.live = one("SELECT count(*) FROM profiles WHERE merged_into IS NULL");
    c.merged = one("SELECT count(*) FROM profiles WHERE merged_into IS NOT NULL");
    c.identifiers = one("SELECT count(*) FROM profile_identifiers");
    c.merges = one("SELECT count(*) FROM merge_log WHERE undone_by IS NULL");
    c.unmerges = one("SELECT count(*) FROM unmerges");
    c.unresolved_records =
        one("SELECT count(*) FROM records WHERE profile_id IS NULL AND resolution IS NOT NULL");
    return c;
}

}  // namespace cdphub::store

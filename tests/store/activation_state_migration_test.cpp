// Schema version 7 narrows activation_state to a payload fingerprint and the outbox row that holds
// the payload. A store written before it must keep telling each destination the right thing:
// exits repeat the payload the destination was last sent, unchanged payloads send nothing.
#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>

#include "common/sha256.hpp"
#include "store/database.hpp"
#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

constexpr const char* kThen = "2024-05-01T10:00:00.000Z";
constexpr const char* kLater = "2024-05-02T10:00:00.000Z";

// A version-6 store (the schema before the change) with one binding and three members whose
// state was planned at kThen:
//   p1 entered as A and was updated to B (its state holds B);
//   p2's state holds C, but its outbox rows were deleted by hand (an orphan);
//   p3 entered as {"email":"p3@x.io"}, which is what its mapped fields still give.
void write_version_6_store(const std::filesystem::path& path) {
    auto v6 = store::store_migrations().first(6);
    auto db = store::open_database(path, {}, v6);
    db.exec(
        std::string("INSERT INTO ingest_batches (id, source, received_at) VALUES (1, 'crm', '") +
        kThen + "')");
    for (int p = 1; p <= 3; ++p) {
        const auto id = std::to_string(p);
        db.exec(
            "INSERT INTO records (id, source, record_id, type, received_at, batch_id, body) "
            "VALUES (" +
            id + ", 'crm', 'r" + id + "', 'identify', '" + kThen + "', 1, '{}')");
        db.exec("INSERT INTO profiles (id, created_at, updated_at) VALUES (" + id + ", '" + kThen +
                "', '" + kThen + "')");
        db.exec(
            "INSERT INTO profile_identifiers (type, value, profile_id, first_seen_at, source, "
            "record_id) VALUES ('email', 'p" +
            id + "@x.io', " + id + ", '" + kThen + "', 'crm', " + id + ")");
    }
    db.exec(std::string("INSERT INTO segments (id, name, expression, ast, created_at, updated_at) "
                        "VALUES (1, 'all', 'true', '{}', '") +
            kThen + "', '" + kThen + "')");
    for (int p = 1; p <= 3; ++p)
        db.exec("INSERT INTO segment_memberships (segment_id, profile_id, entered_at) VALUES (1, " +
                std::to_string(p) + ", '" + kThen + "')");
    db.exec(std::string("INSERT INTO activation_bindings (id, name, segment_id, destination, "
                        "mapping, created_at, updated_at, planned_at) VALUES (1, 'all-to-esp', 1, "
                        "'esp', '[{\"field\":\"email\",\"operand\":\"identifiers.email\"}]', '") +
            kThen + "', '" + kThen + "', '" + kThen + "')");
    db.exec(std::string("INSERT INTO activation_diffs (id, binding_id, created_at, backfill, "
                        "entered, exited, changed) VALUES (1, 1, '") +
            kThen + "', 1, 3, 0, 0)");
    db.exec(R"sql(
INSERT INTO activation_changes (diff_id, binding_id, profile_id, op, payload, status) VALUES
    (1, 1, 1, 'enter', '{"email":"A"}', 'delivered'),
    (1, 1, 3, 'enter', '{"email":"p3@x.io"}', 'delivered'),
    (1, 1, 1, 'update', '{"email":"B"}', 'delivered');
)sql");
    db.exec(std::string("INSERT INTO activation_state (binding_id, profile_id, payload, "
                        "planned_at) VALUES (1, 1, '{\"email\":\"B\"}', '") +
            kThen + "'), (1, 2, '{\"email\":\"C\"}', '" + kThen +
            "'), (1, 3, '{\"email\":\"p3@x.io\"}', '" + kThen + "')");
}

std::string payload_of_state(SQLite::Database& db, int profile) {
    SQLite::Statement q(db,
                        "SELECT c.payload FROM activation_state s JOIN activation_changes c ON "
                        "c.id = s.change_id WHERE s.binding_id = 1 AND s.profile_id = ?");
    q.bind(1, profile);
    return q.executeStep() ? q.getColumn(0).getString() : "(none)";
}

TEST(ActivationStateMigration, EveryStateRowPointsAtTheOutboxRowWithItsPayload) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    write_version_6_store(path);
    auto db = store::open_database(path, {});
    ASSERT_GE(store::schema_version(db), 7);

    EXPECT_EQ(payload_of_state(db, 1), R"({"email":"B"})");  // the update, not the enter
    EXPECT_EQ(payload_of_state(db, 2), R"({"email":"C"})");  // restored for the orphan
    EXPECT_EQ(payload_of_state(db, 3), R"({"email":"p3@x.io"})");
    EXPECT_EQ(query_int(db, "SELECT payload_hash FROM activation_state WHERE profile_id = 1"),
              sha256_prefix64(R"({"email":"B"})"));
    // The orphan's restored row is history, not something to deliver again.
    EXPECT_EQ(db.execAndGet("SELECT status || ':' || op FROM activation_changes WHERE "
                            "profile_id = 2")
                  .getString(),
              "delivered:update");
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM activation_changes WHERE status = 'pending'"), 0);
    // The migration's own index is gone again.
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM sqlite_schema WHERE name = "
                        "'activation_changes_v7'"),
              0);
}

TEST(ActivationStateMigration, AfterTheUpgradeExitsRepeatTheLastPayloadAndEqualOnesStayQuiet) {
    TempDir dir;
    auto path = dir.path() / "hub.db";
    write_version_6_store(path);
    {
        // p1 and p2 leave; p3's profile is touched, but its mapped fields give the same payload.
        auto db = store::open_database(path, {});
        db.exec(std::string("UPDATE segment_memberships SET exited_at = '") + kLater +
                "' WHERE profile_id IN (1, 2)");
        db.exec(std::string("UPDATE profiles SET updated_at = '") + kLater + "' WHERE id = 3");
    }
    auto store = store::open_sqlite_store(path);
    auto d = store->plan_diff("all-to-esp");
    EXPECT_EQ(d.exited, 2);
    EXPECT_EQ(d.changed, 0);
    EXPECT_EQ(d.entered, 0);
    auto changes = store->pending_changes("all-to-esp", 10);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].op, "exit");
    EXPECT_EQ(changes[0].payload, nlohmann::json({{"email", "B"}}));
    EXPECT_EQ(changes[1].payload, nlohmann::json({{"email", "C"}}));
    EXPECT_EQ(store->binding_status().at(0).members_planned, 1);
}

TEST(Sha256Prefix, IsTheDigestsFirstEightBytesBigEndian) {
    // SHA-256("abc") = ba7816bf8f01cfea 414140de...
    EXPECT_EQ(static_cast<std::uint64_t>(sha256_prefix64("abc")), 0xba7816bf8f01cfeaULL);
    EXPECT_NE(sha256_prefix64(R"({"email":"a"})"), sha256_prefix64(R"({"email":"b"})"));
}

}  // namespace
}  // namespace cdphub::test

// The liveramp-files destination, driven by the hub's delivery workers from a real store: the
// day's CSV per segment holds exactly the consenting members as SHA-256 hashes of LiveRamp-
// normalised identifiers, removals flip the membership column, a new day starts a new file, the
// files are replaced atomically (no temp file left, none half-written), and a missing drop folder
// stops the destination.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audience_world.hpp"

namespace cdphub::test {
namespace {

namespace fs = std::filesystem;

bool consents(int i) {
    return i % 10 != 3;
}

constexpr std::int64_t kMay1Noon = 1777636800000;  // 2026-05-01T12:00:00Z

class LiveRampFilesTest : public ::testing::Test {
  protected:
    void SetUp() override { fs::create_directories(drop_); }

    json config(json extra = json::object()) {
        json c = {{"drop_folder", drop_.string()}};
        c.update(extra);
        return c;
    }

    void populate(int n, const std::function<bool(int)>& c = consents) {
        a_.populate(n, c, "vip_to_liveramp", "liveramp-vip",
                    {{"email", "identifiers.email"}, {"phone", "identifiers.phone"}});
    }

    delivery::WorkerReport deliver(const json& cfg) {
        return a_.deliver("liveramp-files", "liveramp-vip", cfg, "", 6, [this] { return now_ms_; });
    }

    std::vector<std::string> lines(const std::string& name) {
        std::ifstream in(drop_ / name);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) out.push_back(l);
        return out;
    }

    std::set<std::string> files() {
        std::set<std::string> out;
        for (const auto& e : fs::directory_iterator(drop_)) out.insert(e.path().filename());
        return out;
    }

    static std::string row(int i, const char* member) {
        return sha256(AudienceWorld::email(i)) + "," + sha256(AudienceWorld::phone_digits(i)) +
               "," + member;
    }

    AudienceWorld a_;
    TempDir dir_;
    fs::path drop_ = dir_.path() / "drop";
    std::int64_t now_ms_ = kMay1Noon;
};

TEST_F(LiveRampFilesTest, TheDaysFileHoldsExactlyTheConsentingMembersAndTheirRemovals) {
    constexpr int n = 1200;
    populate(n);
    auto r = deliver(config());
    EXPECT_EQ(r.pending, 0) << r.last_error;
    ASSERT_EQ(files(), std::set<std::string>{"vip_2026-05-01.csv"});  // no temp file left
    auto l = lines("vip_2026-05-01.csv");
    ASSERT_FALSE(l.empty());
    EXPECT_EQ(l[0], "EMAIL_SHA256,PHONE_SHA256,SEGMENT_MEMBER");
    std::set<std::string> got(l.begin() + 1, l.end()), want;
    for (int i = 0; i < n; ++i)
        if (consents(i)) want.insert(row(i, "1"));
    EXPECT_EQ(got, want);
    EXPECT_EQ(l.size() - 1, want.size());  // one row per person, batches merged
    // Known digests: p0@acme.io, and +49 151 23450000 as digits with its country code.
    EXPECT_EQ(l[1].substr(0, 64),
              "12a36b62183ce6b3c607084933d837f923687bafb41ec511b3beb8f9a988247e");
    EXPECT_EQ(sha256("4915123456789"),
              "c0f8f0bebbbac96451ee8d8def84a02ae9e34c877775437cb9d458328315afa7");

    // Later the same day: 40 leave, one withdraws consent; their rows flip to 0 in place.
    std::vector<store::ProfileId> leaving(a_.ids.begin(), a_.ids.begin() + 40);
    a_.w.members("vip", leaving, false);
    a_.withdraw_consent(100);
    a_.w.store().plan_diff("vip_to_liveramp");
    now_ms_ += 3600 * 1000;
    EXPECT_EQ(deliver(config()).pending, 0);
    l = lines("vip_2026-05-01.csv");
    got = {l.begin() + 1, l.end()};
    want.clear();
    for (int i = 0; i < n; ++i)
        if (consents(i)) want.insert(row(i, (i < 40 || i == 100) ? "0" : "1"));
    EXPECT_EQ(got, want);

    // The next day's changes go to the next day's file, alone.
    a_.w.members("vip", {a_.ids[500]}, false);
    a_.w.store().plan_diff("vip_to_liveramp");
    now_ms_ += 24 * 3600 * 1000;
    EXPECT_EQ(deliver(config()).pending, 0);
    EXPECT_EQ(files(), (std::set<std::string>{"vip_2026-05-01.csv", "vip_2026-05-02.csv"}));
    EXPECT_EQ(
        lines("vip_2026-05-02.csv"),
        (std::vector<std::string>{"EMAIL_SHA256,PHONE_SHA256,SEGMENT_MEMBER", row(500, "0")}));
}

TEST_F(LiveRampFilesTest, UsPhonesAreHashedAsTenDigits) {
    a_.w.ingest(
        json::array({{{"type", "identify"},
                      {"record_id", "jo"},
                      {"occurred_at", "2024-05-01T10:00:00Z"},
                      {"identifiers", {{"email", "Jo@ACME.io"}, {"phone", "+1 (650) 253-0000"}}},
                      {"traits", {{"tier", "gold"}}}},
                     {{"type", "consent"},
                      {"record_id", "jo-c"},
                      {"occurred_at", "2024-05-01T10:00:00Z"},
                      {"identifiers", {{"email", "jo@acme.io"}}},
                      {"consent", {{"purpose", "advertising"}, {"granted", true}}}}}));
    const auto jo = *a_.w.store().find_profile("email", "jo@acme.io");
    a_.w.segment("vip");
    a_.w.members("vip", {jo});
    a_.w.store().define_binding({"vip_to_liveramp",
                                 "vip",
                                 "liveramp-vip",
                                 {{"email", "identifiers.email"}, {"phone", "identifiers.phone"}},
                                 "advertising"});
    a_.w.store().plan_diff("vip_to_liveramp");
    ASSERT_EQ(deliver(config()).pending, 0);
    // jo@acme.io, and 6502530000: the NANP number without its country code 1.
    EXPECT_EQ(lines("vip_2026-05-01.csv"),
              (std::vector<std::string>{
                  "EMAIL_SHA256,PHONE_SHA256,SEGMENT_MEMBER",
                  "469b8fbd9211f4b14a5dd5f2c4895ebde982697fdc18754b0887894ce9371c41,"
                  "b79ef7398d27625ea9f22d7af75dbe86a075508987c7487edbd912d44f3fd4f2,1"}));
}

TEST_F(LiveRampFilesTest, FilesAreReplacedAtomically) {
    // A temp file a crashed run left behind, and a file an uploader is reading while we write.
    std::ofstream(drop_ / ".vip_2026-05-01.csv.tmp") << "half a fi";
    populate(300);
    auto r = deliver(config({{"segment_name", "VIP_Customers"}}));
    ASSERT_EQ(r.pending, 0) << r.last_error;
    std::ifstream reader(drop_ / "VIP_Customers_2026-05-01.csv");  // opened before the rewrite
    ASSERT_TRUE(reader.good());
    a_.w.members("vip", {a_.ids[0]}, false);
    a_.w.store().plan_diff("vip_to_liveramp");
    ASSERT_EQ(deliver(config({{"segment_name", "VIP_Customers"}})).pending, 0);
    // The reader still sees the complete old file (rename replaced the name, not the content).
    std::stringstream old;
    old << reader.rdbuf();
    EXPECT_NE(old.str().find(row(0, "1")), std::string::npos);
    EXPECT_EQ(old.str().back(), '\n');
    auto l = lines("VIP_Customers_2026-05-01.csv");
    EXPECT_NE(std::find(l.begin(), l.end(), row(0, "0")), l.end());
    // The stale temp file has nothing to do with our own and no temp file of ours remains.
    for (const auto& f : files())
        EXPECT_TRUE(f.ends_with(".csv") || f == ".vip_2026-05-01.csv.tmp") << f;
    EXPECT_EQ(files().count(".VIP_Customers_2026-05-01.csv.tmp"), 0u);
}

TEST_F(LiveRampFilesTest, AFullFileStartsTheNextPart) {
    populate(400);
    auto r = deliver(config({{"max_file_bytes", 20000}}));
    ASSERT_EQ(r.pending, 0) << r.last_error;
    std::set<std::string> got;
    int parts = 0;
    for (const auto& f : files()) {
        ++parts;
        auto l = lines(f);
        EXPECT_EQ(l[0], "EMAIL_SHA256,PHONE_SHA256,SEGMENT_MEMBER") << f;
        got.insert(l.begin() + 1, l.end());
    }
    EXPECT_GT(parts, 1);
    std::set<std::string> want;
    for (int i = 0; i < 400; ++i)
        if (consents(i)) want.insert(row(i, "1"));
    EXPECT_EQ(got, want);
}

TEST_F(LiveRampFilesTest, AMissingDropFolderStopsTheDestination) {
    populate(20);
    auto r = deliver(config({{"drop_folder", (dir_.path() / "nope").string()}}));
    EXPECT_EQ(r.state, delivery::DestinationState::config_failed);
    EXPECT_NE(r.last_error.find("drop_folder"), std::string::npos) << r.last_error;
    EXPECT_GT(a_.with_status("pending"), 0);
    EXPECT_TRUE(files().empty());
}

TEST_F(LiveRampFilesTest, NothingIsWrittenForPeopleWithoutConsent) {
    populate(50, [](int) { return false; });
    EXPECT_EQ(deliver(config()).pending, 0);
    EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace cdphub::test

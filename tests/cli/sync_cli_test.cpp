// Source connectors into the store as an admin runs them: `cdphub sync` by hand, and `cdphub run`
// on the manifest schedule, with the ndjson-file plugin reading a folder that keeps growing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "run_cdphub.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

std::string identify(int n, const std::string& email) {
    return R"({"type":"identify","record_id":"r)" + std::to_string(n) +
           R"(","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":")" + email +
           R"("},"traits":{"tier":"gold"}})" + "\n";
}

class SyncCli : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_.write("m/hub.json", R"j({"data_dir": "../var"})j");
        dir_.write("m/segments/gold.json",
                   R"j({"name": "gold", "expression": "traits.tier == \"gold\""})j");
        dir_.write("m/connectors/files.json", R"j({"id": "files", "plugin": "ndjson-file",
            "schedule": {"every": "1s"},
            "config": {"directory": "../in", "batch_size": 2}})j");
        dir_.write("in/a-1.ndjson", identify(1, "ann@shop.io") + identify(2, "bob@shop.io") +
                                        identify(3, "cy@shop.io"));
    }
    std::string m() const {
        return "-m " + (dir_.path() / "m").string() + " -P " + CDPHUB_PLUGIN_DIR + " ";
    }
    test::TempDir dir_;
};

TEST_F(SyncCli, SyncIsIncrementalAndResumesFromTheStoredCursor) {
    auto r = cdphub(m() + "sync files");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("files (ndjson-file"));
    EXPECT_THAT(r.out, HasSubstr("3 new records, 0 already stored, 0 rejected, in 2 batches"));
    EXPECT_THAT(r.out, HasSubstr("\"file\":\"a-1.ndjson\""));

    r = cdphub(m() + "sync files");
    EXPECT_EQ(r.code, 0);
    EXPECT_THAT(r.out, HasSubstr("0 new records"));
    EXPECT_THAT(r.out, HasSubstr("(unchanged)"));

    dir_.write("in/a-2.ndjson", identify(4, "dee@shop.io") + "not json\n");
    r = cdphub(m() + "sync files");
    EXPECT_EQ(r.code, 0);
    EXPECT_THAT(r.out, HasSubstr("1 new records, 0 already stored, 1 rejected"));
    EXPECT_THAT(r.out, HasSubstr("cdphub rejected --source files"));

    // The records are profiles, and the segment saw them in real time.
    r = cdphub(m() + "segment list");
    EXPECT_THAT(r.out, HasSubstr("gold  4 members"));
    r = cdphub(m() + "profile show email:dee@shop.io");
    EXPECT_EQ(r.code, 0) << r.out;

    // A line nested 200,000 levels deep is one rejected line, not a crashed plugin.
    dir_.write("in/a-3.ndjson", R"({"type":"identify","x":)" + std::string(200000, '[') +
                                    std::string(200000, ']') + "}\n" + identify(5, "eve@shop.io"));
    r = cdphub(m() + "sync files");
    EXPECT_EQ(r.code, 0) << r.out.substr(0, 2000);
    EXPECT_THAT(r.out, HasSubstr("1 new records, 0 already stored, 1 rejected"));
    r = cdphub(m() + "rejected --source files");
    EXPECT_THAT(r.out, HasSubstr("nested deeper than 512 levels"));

    EXPECT_EQ(cdphub(m() + "sync nope").code, 1);
}

// The daemon syncs on the schedule, picks up new files on the next run, and stops cleanly.
TEST_F(SyncCli, RunSyncsOnTheScheduleAndStopsCleanly) {
    const auto log = (dir_.path() / "run.log").string();
    std::string script =
        "wait_for() { for i in $(seq 600); do grep -q \"$1\" " + log +
        " && return 0; sleep 0.05; done; echo \"timeout waiting for $1\"; return 1; }\n" +
        CDPHUB_EXE + " run " + m() + " > " + log + " 2>&1 &\npid=$!\n" +
        "wait_for 'sync files: 3 new' || exit 90\n" + "printf '%s' '" + identify(5, "eve@shop.io") +
        "' > " + (dir_.path() / "in/a-3.ndjson").string() + "\n" +
        "wait_for 'sync files: 1 new' || exit 91\n" +
        "kill -TERM $pid\nwait $pid\necho \"exit=$?\"\ncat " + log + "\n";
    auto sh = dir_.write("run.sh", script);
    std::string out;
    FILE* p = ::popen(("sh " + sh.string() + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
    EXPECT_THAT(out, HasSubstr("exit=0"));
    EXPECT_THAT(out, Not(HasSubstr("timeout waiting")));
    EXPECT_THAT(out, HasSubstr("SIGTERM: stopping 1 connectors"));
    auto r = cdphub(m() + "segment list");
    EXPECT_THAT(r.out, HasSubstr("gold  4 members"));
}

}  // namespace
}  // namespace cdphub

// Runs the real cdphub binary and checks what a user sees: exit codes, output, and that secrets
// never reach the terminal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "run_cdphub.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

std::string good_plugins() {
    return std::string("-P ") + CDPHUB_TEST_PLUGINS + "/good";
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_.write("manifests/connectors/t.json", R"({
          "id": "t", "plugin": "test-connector",
          "config": {"check": "ok", "log_token": true},
          "secrets": {"token": {"env": "CDPHUB_CLI_TEST_TOKEN"}}
        })");
        dir_.write("manifests/connectors/off.json",
                   R"({"id": "off", "plugin": "test-connector", "enabled": false})");
    }
    std::string m() const {
        return "-m " + (dir_.path() / "manifests").string() + " " + good_plugins();
    }
    test::TempDir dir_;
};

TEST(Cli, VersionAndUsage) {
    auto v = cdphub("--version");
    EXPECT_EQ(v.code, 0);
    EXPECT_THAT(v.out, HasSubstr("plugin ABI 1."));
    EXPECT_EQ(cdphub("").code, 2);
    auto bad = cdphub("frobnicate");
    EXPECT_EQ(bad.code, 2);
    EXPECT_EQ(cdphub("check").code, 2);  // neither an instance nor --all
    EXPECT_EQ(cdphub("validate --help").code, 0);
}

TEST_F(CliTest, ValidateAndListOnAGoodFolder) {
    auto v = cdphub("validate " + m(), "CDPHUB_CLI_TEST_TOKEN=tok-a8f31c9e");
    EXPECT_EQ(v.code, 0) << v.out;
    EXPECT_THAT(v.out, HasSubstr("valid (2 connectors)"));
    auto c = cdphub("connectors " + m());
    EXPECT_EQ(c.code, 0);
    EXPECT_THAT(c.out, HasSubstr("2 connectors, 1 enabled"));
    auto p = cdphub("plugins --json " + m());
    EXPECT_EQ(p.code, 0);
    auto j = nlohmann::json::parse(p.out);
    ASSERT_FALSE(j["plugins"].empty());
    EXPECT_EQ(j["plugins"][0]["id"], "test-connector");
    EXPECT_EQ(j["plugins"][0]["sha256"].get<std::string>().size(), 64u);
}

TEST_F(CliTest, ValidateReportsEveryProblemAndExitsOne) {
    dir_.write("manifests/connectors/bad.json",
               "{\n  \"id\": \"bad\",\n  \"plugin\": \"test-conector\",\n  \"enabeld\": true\n}\n");
    dir_.write("manifests/connectors/worse.json", "{\"id\": \"worse\",");
    auto v = cdphub("validate " + m(), "CDPHUB_CLI_TEST_TOKEN=tok-a8f31c9e");
    EXPECT_EQ(v.code, 1);
    EXPECT_THAT(v.out, HasSubstr("bad.json:3:"));
    EXPECT_THAT(v.out, HasSubstr("did you mean 'test-connector'"));
    EXPECT_THAT(v.out, HasSubstr("unknown key 'enabeld'"));
    EXPECT_THAT(v.out, HasSubstr("worse.json:1:"));
    EXPECT_THAT(v.out, HasSubstr("invalid: 3 errors"));

    auto j = nlohmann::json::parse(
        cdphub("validate --json " + m(), "CDPHUB_CLI_TEST_TOKEN=tok-a8f31c9e").out);
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["errors"], 3);
}

TEST_F(CliTest, CheckKeepsTheSecretOutOfEveryOutput) {
    const std::string env = "CDPHUB_CLI_TEST_TOKEN=tok-a8f31c9e";
    auto text = cdphub("check t " + m(), env);
    EXPECT_EQ(text.code, 0) << text.out;
    EXPECT_THAT(text.out, HasSubstr("t: ok (test-connector 2.3.4)"));
    EXPECT_THAT(text.out, HasSubstr("connecting with token ***"));
    EXPECT_THAT(text.out, Not(HasSubstr("tok-a8f31c9e")));

    auto json_logs = cdphub("check --all --log-format json " + m(), env);
    EXPECT_EQ(json_logs.code, 0);
    EXPECT_THAT(json_logs.out, HasSubstr(R"("logger":"plugin.t")"));
    EXPECT_THAT(json_logs.out, HasSubstr("1 enabled connector checked, 0 failed"));
    EXPECT_THAT(json_logs.out, Not(HasSubstr("tok-a8f31c9e")));
}

TEST_F(CliTest, CheckFailuresExitOneWithTheReason) {
    dir_.write("manifests/connectors/t.json",
               R"({"id": "t", "plugin": "test-connector", "config": {"check": "auth"}})");
    auto r = cdphub("check t " + m());
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.out, HasSubstr("authentication error: the vendor refused the API token"));

    auto missing = cdphub("check nope " + m());
    EXPECT_EQ(missing.code, 1);
    EXPECT_THAT(missing.out, HasSubstr("no connector instance 'nope'"));

    // A secret that is not set is named, and the connector does not start.
    dir_.write("manifests/connectors/t.json", R"({"id": "t", "plugin": "test-connector",
        "secrets": {"token": {"env": "CDPHUB_CLI_UNSET_TOKEN"}}})");
    auto unset = cdphub("check t " + m(), "env -u CDPHUB_CLI_UNSET_TOKEN");
    EXPECT_EQ(unset.code, 1);
    EXPECT_THAT(unset.out, HasSubstr("CDPHUB_CLI_UNSET_TOKEN is not set"));
}

TEST_F(CliTest, ReadPrintsRecordsAsNdjsonAndResumesFromACursor) {
    dir_.write(
        "manifests/connectors/t.json",
        R"({"id": "t", "plugin": "test-connector", "config": {"records": 7, "batch_size": 3}})");
    auto r = cdphub("read t --log-level off " + m());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr(R"("record_id":"r6")"));
    EXPECT_THAT(r.out, HasSubstr(R"(7 records; cursor {"next":7})"));

    auto resumed = cdphub("read t --log-level off --cursor '{\"next\": 5}' " + m());
    EXPECT_THAT(resumed.out, HasSubstr("2 records"));
    EXPECT_THAT(resumed.out, Not(HasSubstr(R"("record_id":"r4")")));

    auto limited = cdphub("read t --log-level off --limit 4 " + m());
    EXPECT_EQ(limited.code, 0);
    EXPECT_THAT(limited.out, HasSubstr("4 records"));
    EXPECT_THAT(limited.out, Not(HasSubstr(R"("record_id":"r4")")));

    EXPECT_EQ(cdphub("read t --cursor 'not json' " + m()).code, 2);
}

// The daemon: starts the enabled connectors, refuses an invalid reload and keeps running, and
// stops cleanly on SIGTERM. The script waits for log lines (bounded), never for fixed times.
TEST_F(CliTest, RunReloadsOnSighupAndStopsOnSigterm) {
    const auto log = (dir_.path() / "run.log").string();
    const auto bad = (dir_.path() / "manifests/connectors/bad.json").string();
    std::string script =
        "wait_for() { for i in $(seq 600); do grep -q \"$1\" " + log +
        " && return 0; sleep 0.05; done; echo \"timeout waiting for $1\"; return 1; }\n" +
        "CDPHUB_CLI_TEST_TOKEN=tok-a8f31c9e " + CDPHUB_EXE + " run " + m() + " > " + log +
        " 2>&1 &\npid=$!\n"
        "wait_for 'hub running with 1 connectors' || exit 90\n"
        "echo '{\"id\": \"bad\"' > " +
        bad +
        "\n"
        "kill -HUP $pid\n"
        "wait_for 'keeping the running configuration' || exit 91\n"
        "kill -0 $pid || exit 92\n"
        "kill -TERM $pid\nwait $pid\necho \"exit=$?\"\ncat " +
        log + "\n";
    auto sh = dir_.write("run.sh", script);
    std::string out;
    FILE* p = ::popen(("sh " + sh.string() + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    ::pclose(p);
    EXPECT_THAT(out, HasSubstr("exit=0"));
    EXPECT_THAT(out, HasSubstr("connector t (test-connector 2.3.4) started"));
    EXPECT_THAT(out, HasSubstr("SIGTERM: stopping 1 connectors"));
    EXPECT_THAT(out, Not(HasSubstr("tok-a8f31c9e")));
}

TEST(CliPlugins, BrokenPluginFilesAreListedWithReasonsAndExitOne) {
    auto r = cdphub(std::string("plugins -m /nonexistent ") + good_plugins() + " -P " +
                    CDPHUB_TEST_PLUGINS + "/no_entry -P " + CDPHUB_TEST_PLUGINS + "/abi_major");
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.out, HasSubstr("test-connector"));
    EXPECT_THAT(r.out, HasSubstr("no entry symbol"));
    EXPECT_THAT(r.out, HasSubstr("built for plugin ABI 2.0"));
}

}  // namespace
}  // namespace cdphub

// The admin API as an operator meets it: `cdphub run` with hub.json's "admin_api", a source on a
// manual schedule that only runs when the API asks, its sync run recorded, /metrics scraped,
// rejected records replayed from the command line, and the daemon stopping cleanly.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_process.hpp"
#include "http/client.hpp"
#include "run_cdphub.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "adm-test-token-0123456789";

class AdminCli : public ::testing::Test {
  protected:
    void SetUp() override {
        port_ = test::free_loopback_port();
        dir_.write("m/hub.json", R"j({"data_dir": "../var",
            "ingest_api": {"listen": "127.0.0.1:)j" +
                                     std::to_string(port_) + R"j("},
            "admin_api": {"token": {"env": "CDPHUB_TEST_ADMIN_TOKEN"}}})j");
        dir_.write("m/connectors/files.json", R"j({"id": "files", "plugin": "ndjson-file",
            "config": {"directory": "../in"}})j");
        dir_.write(
            "in/a-1.ndjson",
            R"({"type":"identify","record_id":"r1","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"ann@shop.io"}})"
            "\n"
            R"({"type":"identify","record_id":"r2","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"phone":"030 23125000"}})"
            "\n");
    }

    std::string m() const {
        return "-m " + (dir_.path() / "m").string() + " -P " + CDPHUB_PLUGIN_DIR + " ";
    }

    // Starts `cdphub run` in the background and waits until it answers.
    bool start(const std::string& env = "") {
        log_ = dir_.path() / "run.log";
        return daemon_.start(std::string("CDPHUB_TEST_ADMIN_TOKEN=") + kToken + " " + env + " " +
                                 CDPHUB_EXE + " " + m() + "run > " + log_.string() + " 2>&1",
                             [&] { return get("/admin/v1/status").ok(); });
    }
    // SIGTERM, then waits for the process to go; true if it did.
    bool stop() { return daemon_.stop(); }

    http::Result call(const std::string& method, const std::string& path,
                      const std::string& token = kToken) {
        http::Request r;
        r.method = method;
        r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
        if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
        r.rate_limited = false;
        return client_.perform(r);
    }
    http::Result get(const std::string& path) { return call("GET", path); }
    json get_json(const std::string& path) {
        auto r = get(path);
        if (!r.ok() || r.response().status != 200) return json();
        return json::parse(r.response().body, nullptr, false);
    }

    test::TempDir dir_;
    unsigned short port_ = 0;
    test::DaemonProcess daemon_;
    std::filesystem::path log_;
    http::Client client_{[] {
        http::ClientOptions o;
        o.max_attempts = 1;
        o.timeout = std::chrono::seconds(10);
        return o;
    }()};
};

TEST_F(AdminCli, ManualSourceSyncsWhenTheApiAsksAndTheRunIsRecorded) {
    ASSERT_TRUE(start()) << test::read_text(log_);
    // Manual: nothing ran by itself.
    auto before = get_json("/admin/v1/sync-runs");
    ASSERT_TRUE(before.contains("runs")) << test::read_text(log_);
    EXPECT_EQ(before["runs"].size(), 0u);
    auto connectors = get_json("/admin/v1/connectors");
    ASSERT_EQ(connectors["connectors"].size(), 1u);
    EXPECT_EQ(connectors["connectors"][0]["schedule"], "manual");

    auto queued = call("POST", "/admin/v1/connectors/files/sync");
    ASSERT_TRUE(queued.ok());
    EXPECT_EQ(queued.response().status, 202) << queued.response().body;

    json runs;
    for (int i = 0; i < 600; ++i) {
        runs = get_json("/admin/v1/sync-runs?source=files");
        if (runs.contains("runs") && !runs["runs"].empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(runs["runs"].size(), 1u) << test::read_text(log_);
    EXPECT_EQ(runs["runs"][0]["status"], "ok");
    EXPECT_EQ(runs["runs"][0]["trigger"], "daemon");
    EXPECT_EQ(runs["runs"][0]["inserted"], 1);
    EXPECT_EQ(runs["runs"][0]["rejected"], 1);

    auto metrics = call("GET", "/metrics", "");  // public by default
    ASSERT_TRUE(metrics.ok());
    EXPECT_EQ(metrics.response().status, 200);
    EXPECT_THAT(metrics.response().body, HasSubstr("cdphub_sync_runs_total{source=\"files\""));
    EXPECT_THAT(metrics.response().body,
                HasSubstr("cdphub_ingest_request_duration_seconds_bucket{le=\"+Inf\"}"));
    EXPECT_THAT(metrics.response().body, HasSubstr("cdphub_admin_requests_total"));

    EXPECT_EQ(call("GET", "/admin/v1/status", "").response().status, 401);
    ASSERT_TRUE(stop()) << test::read_text(log_);
    auto log = test::read_text(log_);
    EXPECT_THAT(log, HasSubstr("stopped"));
    EXPECT_THAT(log, Not(HasSubstr(kToken)));

    // The phone had no country code; with the default region fixed, the CLI replays it.
    dir_.write("m/hub.json", R"j({"data_dir": "../var",
        "cleansing": {"default_phone_region": "DE"}})j");
    auto replay = cdphub(m() + "rejected replay --source files");
    EXPECT_EQ(replay.code, 0) << replay.out;
    EXPECT_THAT(replay.out, HasSubstr("1 stored now"));
    auto shown = cdphub(m() + "profile show phone:+493023125000");
    EXPECT_EQ(shown.code, 0) << shown.out;
}

TEST_F(AdminCli, AShortOrMissingTokenStopsTheDaemonFromStarting) {
    auto r = cdphub(m() + "run", "CDPHUB_TEST_ADMIN_TOKEN=x7Qz9");
    EXPECT_NE(r.code, 0);
    EXPECT_THAT(r.out, HasSubstr("shorter than 16 characters"));
    EXPECT_THAT(r.out, Not(HasSubstr("x7Qz9")));
    auto missing = cdphub(m() + "run", "");
    EXPECT_NE(missing.code, 0);
    EXPECT_THAT(missing.out, HasSubstr("admin token cannot be read"));
}

}  // namespace
}  // namespace cdphub

namespace cdphub {
namespace {

// A real-time activation: an event through the ingest API makes a profile enter a segment, and
// the activation plans it at once (its schedule is manual) and the delivery worker writes it to
// the destination, here the LiveRamp-style drop folder. The same binding without "realtime"
// stays unplanned.
TEST_F(AdminCli, RealtimeActivationQueuesAnEventsProfileAtOnce) {
    dir_.write("m/hub.json", R"j({"data_dir": "../var",
        "ingest_api": {"listen": "127.0.0.1:)j" +
                                 std::to_string(port_) + R"j(",
                       "sources": {"web": {"write_key": {"env": "CDPHUB_TEST_WRITE_KEY"}}}},
        "admin_api": {"token": {"env": "CDPHUB_TEST_ADMIN_TOKEN"}}})j");
    dir_.write("m/segments/gold.json",
               R"j({"name": "gold", "expression": "traits.tier == \"gold\""})j");
    dir_.write("m/connectors/lr.json", R"j({"id": "lr", "plugin": "liveramp-files",
        "config": {"drop_folder": "../drop"}})j");
    std::filesystem::create_directories(dir_.path() / "drop");
    dir_.write("m/activations/gold_lr.json", R"j({"name": "gold_lr", "segment": "gold",
        "destination": "lr", "realtime": true, "mapping": {"email": "identifiers.email"}})j");
    dir_.write("m/activations/gold_lr_later.json", R"j({"name": "gold_lr_later",
        "segment": "gold", "destination": "lr", "mapping": {"email": "identifiers.email"}})j");
    ASSERT_TRUE(start("CDPHUB_TEST_WRITE_KEY=wk-realtime-0123")) << test::read_text(log_);

    http::Request event;
    event.method = "POST";
    event.url = "http://127.0.0.1:" + std::to_string(port_) + "/v1/identify";
    event.headers.emplace_back("Authorization", "Basic d2stcmVhbHRpbWUtMDEyMzo=");  // key + ':'
    event.headers.emplace_back("Content-Type", "application/json");
    event.body = R"({"userId": "u1", "traits": {"email": "Ann@Shop.io", "tier": "gold"}})";
    event.rate_limited = false;
    auto sent = client_.perform(event);
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent.response().status, 200) << sent.response().body;

    auto planned = [&](const json& list, const std::string& name) -> std::int64_t {
        if (!list.is_object()) return -1;
        for (const auto& b : list.value("activations", json::array()))
            if (b.value("name", "") == name) return b.value("members_planned", -1);
        return -1;
    };
    json list;
    for (int i = 0; i < 400 && planned(list, "gold_lr") != 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        list = get_json("/admin/v1/activations");
    }
    ASSERT_EQ(planned(list, "gold_lr"), 1) << list.dump() << test::read_text(log_);
    EXPECT_EQ(planned(list, "gold_lr_later"), 0) << list.dump();

    // Delivered by the worker: a CSV with the normalized email's SHA-256.
    std::string csv;
    for (int i = 0; i < 400 && csv.empty(); ++i) {
        for (const auto& f : std::filesystem::directory_iterator(dir_.path() / "drop"))
            if (f.path().extension() == ".csv") csv = test::read_text(f.path());
        if (csv.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_THAT(csv, HasSubstr("548f86ad64250ff1e2d15298f580e62fc10d7b7a9fe72dd90f8fa74cd2750e38"))
        << test::read_text(log_);
    ASSERT_TRUE(stop()) << test::read_text(log_);
}

}  // namespace
}  // namespace cdphub

namespace cdphub {
namespace {

// Rotating credentials: a SIGHUP with new write keys and a new admin token in their files
// applies both at once (the old ones stop working); a reload whose key file cannot be read is
// refused and the keys in force stay.
TEST_F(AdminCli, SighupRotatesWriteKeysAndTheAdminToken) {
    dir_.write("m/keys/web", "wk-first-0123");
    dir_.write("m/keys/admin", "adm-first-token-0123456789");
    auto hub = [&](const std::string& web_key_file) {
        dir_.write("m/hub.json", R"j({"data_dir": "../var",
            "ingest_api": {"listen": "127.0.0.1:)j" +
                                     std::to_string(port_) + R"j(",
                "sources": {"web": {"write_key": {"file": ")j" +
                                     web_key_file + R"j("}}}},
            "admin_api": {"token": {"file": "keys/admin"}}})j");
    };
    hub("keys/web");
    ASSERT_TRUE(start()) << test::read_text(log_);  // start() polls with kToken: not this one
    auto status_with = [&](const std::string& token) {
        auto r = call("GET", "/admin/v1/status", token);
        return r.ok() ? r.response().status : 0;
    };
    auto track_with = [&](const std::string& key) {
        http::Request event;
        event.method = "POST";
        event.url = "http://127.0.0.1:" + std::to_string(port_) + "/v1/track";
        event.headers.emplace_back("Authorization", "Bearer " + key);
        event.headers.emplace_back("Content-Type", "application/json");
        event.body = R"({"userId": "u1", "event": "Signed Up"})";
        event.rate_limited = false;
        auto r = client_.perform(event);
        return r.ok() ? r.response().status : 0;
    };
    auto wait_for = [](const std::function<bool()>& done) {
        for (int i = 0; i < 400; ++i) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };
    ASSERT_TRUE(wait_for([&] { return status_with("adm-first-token-0123456789") == 200; }))
        << test::read_text(log_);
    EXPECT_EQ(track_with("wk-first-0123"), 200);

    dir_.write("m/keys/web", "wk-second-4567");
    dir_.write("m/keys/admin", "adm-second-token-9876543210");
    daemon_.signal(SIGHUP);
    ASSERT_TRUE(wait_for([&] { return status_with("adm-second-token-9876543210") == 200; }))
        << test::read_text(log_);
    EXPECT_EQ(status_with("adm-first-token-0123456789"), 401);
    EXPECT_EQ(track_with("wk-second-4567"), 200);
    EXPECT_EQ(track_with("wk-first-0123"), 401);

    // A key file that cannot be read: the reload is refused, the keys in force keep working.
    hub("keys/missing");
    daemon_.signal(SIGHUP);
    ASSERT_TRUE(wait_for([&] {
        return test::read_text(log_).find("credentials are unusable") != std::string::npos;
    })) << test::read_text(log_);
    EXPECT_EQ(track_with("wk-second-4567"), 200);
    EXPECT_EQ(status_with("adm-second-token-9876543210"), 200);

    // Listener settings need a restart, and the log says so.
    dir_.write("m/hub.json", R"j({"data_dir": "../var",
        "ingest_api": {"listen": "127.0.0.1:)j" +
                                 std::to_string(port_) + R"j(", "threads": 3,
            "sources": {"web": {"write_key": {"file": "keys/web"}}}},
        "admin_api": {"token": {"file": "keys/admin"}}})j");
    daemon_.signal(SIGHUP);
    ASSERT_TRUE(wait_for([&] {
        return test::read_text(log_).find("take effect when the hub is restarted") !=
               std::string::npos;
    })) << test::read_text(log_);
    EXPECT_TRUE(stop());
    const auto log = test::read_text(log_);
    for (const char* secret :
         {"wk-first-0123", "wk-second-4567", "adm-first-token", "adm-second-token"})
        EXPECT_THAT(log, Not(HasSubstr(secret)));
}

}  // namespace
}  // namespace cdphub

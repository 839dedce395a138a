// Segment's official Node library (@segment/analytics-node, the version pinned in
// tests/clients/package-lock.json), used unchanged, against the real `cdphub run` over loopback
// HTTP. send_events.js makes a web shop's and a mobile app's identify, track, page, screen, group
// and alias calls for three people; this test then reads what the hub made of them: through the
// admin API while it runs (profiles, identity resolution) and through the store once it stopped
// (each record's fields). The ctest fixture segment_client_npm installs the library first.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_process.hpp"
#include "http/client.hpp"
#include "normalize/time.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kWriteKey = "wk-segclient-web-0123";
constexpr const char* kAdminToken = "adm-segclient-token-0123456789";

// Every call send_events.js makes, by its fixed messageId.
const std::vector<std::string> kMessageIds = {
    "segclient-ann-page",         "segclient-ann-viewed",         "segclient-ann-identify",
    "segclient-bob-identify-web", "segclient-bob-identify-phone", "segclient-bob-screen",
    "segclient-bob-group",        "segclient-bob-subscribed",     "segclient-cara-played",
    "segclient-cara-page",        "segclient-ann-alias",          "segclient-ann-order"};

std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

std::int64_t epoch_ms(const json& text) {
    auto parsed = normalize::parse_rfc3339(text.get<std::string>());
    const auto* t = std::get_if<normalize::Timestamp>(&parsed);
    return t == nullptr ? -1 : t->time_since_epoch().count();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class SegmentClient : public ::testing::Test {
  protected:
    void SetUp() override {
        // The fixture installs the library; without it there is nothing to test, which must
        // show as a failure, never as a pass.
        auto node = test::shell("command -v node");
        ASSERT_EQ(node.code, 0) << "node is not on PATH: the segment client tests need Node.js 18+"
                                   " and npm (scripts/install-deps.sh installs them)";
        ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(CDPHUB_CLIENTS_DIR) /
                                            "node_modules/@segment/analytics-node/package.json"))
            << "@segment/analytics-node is not installed in " << CDPHUB_CLIENTS_DIR
            << ": run these tests through ctest, whose fixture segment_client_npm runs npm ci";
        port_ = test::free_loopback_port();
        dir_.write("m/hub.json", R"j({"data_dir": "../var",
            "ingest_api": {"listen": "127.0.0.1:)j" +
                                     std::to_string(port_) + R"j(",
                "sources": {"web": {"write_key": {"env": "CDPHUB_TEST_WRITE_KEY"}}}},
            "admin_api": {"token": {"env": "CDPHUB_TEST_ADMIN_TOKEN"}}})j");
    }

    std::string host() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // Starts `cdphub run` in the background and waits until its admin API answers.
    bool start() {
        log_ = dir_.path() / "run.log";
        return daemon_.start(std::string("CDPHUB_TEST_WRITE_KEY=") + kWriteKey +
                                 " CDPHUB_TEST_ADMIN_TOKEN=" + kAdminToken + " " + CDPHUB_EXE +
                                 " -m " + (dir_.path() / "m").string() + " run > " + log_.string() +
                                 " 2>&1",
                             [&] { return get("/admin/v1/status").ok(); });
    }
    // SIGTERM (the processor drains the inbox first), then waits for the process to go.
    bool stop() { return daemon_.stop(); }

    // The library's process: send_events.js with this hub's address and a write key.
    test::ShellOutput send(const std::string& write_key = kWriteKey) {
        return test::shell("cd " + std::string(CDPHUB_CLIENTS_DIR) + " && node send_events.js " +
                           host() + " " + write_key);
    }

    http::Result get(const std::string& path) {
        http::Request r;
        r.url = host() + path;
        r.headers.emplace_back("Authorization", std::string("Bearer ") + kAdminToken);
        r.rate_limited = false;
        return client_.perform(r);
    }
    json get_json(const std::string& path) {
        auto r = get(path);
        if (!r.ok() || r.response().status != 200) return json();
        return json::parse(r.response().body, nullptr, false);
    }
    json profile(const std::string& type, const std::string& value) {
        return get_json("/admin/v1/profiles?identifier=" + url_encode(type + ":" + value));
    }
    std::string metrics() {
        auto r = get("/metrics");
        return r.ok() ? r.response().body : std::string();
    }
    // Everything the hub acknowledged is in its inbox; this waits until the processor has
    // resolved all of it into the store (a generous deadline for a loaded machine).
    bool wait_processed() {
        for (int i = 0; i < 1200; ++i) {
            if (metrics().find("\ncdphub_inbox_unprocessed_events 0\n") != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
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

// The identifiers of a profile as "type:value" strings.
std::set<std::string> identifiers_of(const json& profile) {
    std::set<std::string> out;
    for (const auto& i : profile.value("identifiers", json::array()))
        out.insert(i["type"].get<std::string>() + ":" + i["value"].get<std::string>());
    return out;
}

TEST_F(SegmentClient, EveryCallArrivesOnceWithItsFieldsAndResolvesIntoProfiles) {
    ASSERT_TRUE(start()) << test::read_text(log_);
    const auto before_ms = now_ms();

    auto first = send();
    ASSERT_EQ(first.code, 0) << first.text << test::read_text(log_);
    EXPECT_THAT(first.text, HasSubstr(std::string("analytics-node ") +
                                      CDPHUB_ANALYTICS_NODE_VERSION + ": delivered 12 of 12"));
    ASSERT_TRUE(wait_processed()) << metrics() << test::read_text(log_);

    // Identity resolution. Ann: the alias joined her anonymous browsing to her account.
    auto ann = profile("user_id", "user-ann");
    ASSERT_TRUE(ann.contains("id")) << ann.dump(2) << test::read_text(log_);
    EXPECT_EQ(profile("anonymous_id", "anon-ann-7f3a")["id"], ann["id"]);
    EXPECT_EQ(profile("email", "ann.lee@shop-mail.io")["id"], ann["id"]);
    EXPECT_EQ(identifiers_of(ann),
              (std::set<std::string>{"user_id:user-ann", "anonymous_id:anon-ann-7f3a",
                                     "email:ann.lee@shop-mail.io"}));
    EXPECT_EQ(ann["traits"]["first_name"]["value"], "Ann");
    EXPECT_EQ(ann["traits"]["plan"]["value"], "plus");
    EXPECT_EQ(ann["traits"]["plan"]["source"], "web");
    EXPECT_EQ(ann["activity"]["events"], 3) << ann.dump(2);  // page, Product Viewed, Order
    EXPECT_EQ(ann["records_by_source"]["web"], 5);
    // The alias was sent after the anonymous calls and the identify were acknowledged, so it
    // is what merged two existing profiles, linked by the anonymous id and the user id. (Which
    // of the two survives, the older, depends on how the library batched the first calls.)
    ASSERT_EQ(ann["merges"].size(), 1u) << ann.dump(2);
    const json ann_merge = ann["merges"][0];
    EXPECT_EQ((std::set<json>{ann_merge["survivor_link"], ann_merge["absorbed_link"]}),
              (std::set<json>{{{"type", "anonymous_id"}, {"value", "anon-ann-7f3a"}},
                              {{"type", "user_id"}, {"value", "user-ann"}}}))
        << ann.dump(2);
    EXPECT_TRUE(ann_merge["undone_by"].is_null());

    // Bob: his web account, his phone (by email) and his laptop (by context.traits.email).
    auto bob = profile("user_id", "user-bob");
    ASSERT_TRUE(bob.contains("id")) << bob.dump(2);
    EXPECT_EQ(profile("anonymous_id", "anon-bob-phone")["id"], bob["id"]);
    EXPECT_EQ(profile("anonymous_id", "anon-bob-laptop")["id"], bob["id"]);
    EXPECT_EQ(identifiers_of(bob),
              (std::set<std::string>{"user_id:user-bob", "anonymous_id:anon-bob-phone",
                                     "anonymous_id:anon-bob-laptop",
                                     "email:bob.stone@northwind-mail.io"}));
    EXPECT_EQ(bob["traits"]["name"]["value"], "Bob Stone");  // not the group's company name
    EXPECT_EQ(bob["traits"]["plan"]["value"], "pro");        // the later identify, by its timestamp
    EXPECT_FALSE(bob["traits"].contains("industry")) << bob.dump(2);
    EXPECT_EQ(bob["activity"]["events"], 3);  // screen, group, Newsletter Subscribed
    EXPECT_EQ(bob["records_by_source"]["web"], 5);

    auto cara = profile("user_id", "user-cara");
    ASSERT_TRUE(cara.contains("id")) << cara.dump(2);
    EXPECT_NE(cara["id"], ann["id"]);
    EXPECT_NE(cara["id"], bob["id"]);
    EXPECT_EQ(cara["activity"]["events"], 2);
    EXPECT_EQ(cara["records_by_source"]["web"], 2);
    EXPECT_EQ(get_json("/admin/v1/status")["profiles"]["live"], 3);

    // The same calls again, same messageIds: the hub acknowledges them and stores nothing new.
    auto second = send();
    ASSERT_EQ(second.code, 0) << second.text << test::read_text(log_);
    EXPECT_THAT(second.text, HasSubstr("delivered 12 of 12"));
    ASSERT_TRUE(wait_processed()) << metrics() << test::read_text(log_);
    EXPECT_THAT(metrics(), HasSubstr("\ncdphub_ingest_events_accepted_total 24\n"));
    for (const auto& [user, records] :
         std::map<std::string, int>{{"user-ann", 5}, {"user-bob", 5}, {"user-cara", 2}}) {
        auto again = profile("user_id", user);
        EXPECT_EQ(again["records_by_source"]["web"], records) << again.dump(2);
        EXPECT_EQ(again["activity"]["events"], user == "user-cara" ? 2 : 3) << again.dump(2);
    }
    EXPECT_EQ(profile("user_id", "user-ann")["merges"].size(), 1u);
    EXPECT_EQ(get_json("/admin/v1/status")["profiles"]["live"], 3);
    const auto after_ms = now_ms();
    ASSERT_TRUE(stop()) << test::read_text(log_);

    // The records, as stored.
    auto store = store::open_sqlite_store(dir_.path() / "var" / "cdphub.db");
    auto counts = store->counts("web");
    EXPECT_EQ(counts.records, 12);
    EXPECT_EQ(counts.rejected_records, 0);
    std::map<std::string, json> r;
    for (const auto& id : kMessageIds) {
        auto stored = store->find_record("web", id);
        ASSERT_TRUE(stored) << id;
        r[id] = json::parse(stored->body);
        const json& seg = r[id]["properties"]["_segment"];
        SCOPED_TRACE(id + ": " + r[id].dump());
        EXPECT_EQ(seg["messageId"], id);
        // receivedAt is the hub's clock when the request arrived, stamped while this test ran.
        // The record's received_at is the newest arrival among the events processed in the same
        // store transaction (core/server/processor.cpp), so never earlier than the event's own;
        // the store's column is the commit time, later still.
        auto received = epoch_ms(seg["receivedAt"]);
        EXPECT_GE(received, before_ms);
        EXPECT_LE(received, after_ms);
        EXPECT_GE(epoch_ms(r[id]["received_at"]), received);
        EXPECT_LE(epoch_ms(r[id]["received_at"]), after_ms);
        EXPECT_GE(epoch_ms(json(stored->received_at)), epoch_ms(r[id]["received_at"]));
        // The device clock correction: occurred_at = receivedAt - (sentAt - timestamp).
        ASSERT_TRUE(seg.contains("sentAt"));
        ASSERT_TRUE(seg.contains("originalTimestamp"));
        EXPECT_EQ(epoch_ms(r[id]["occurred_at"]),
                  received - (epoch_ms(seg["sentAt"]) - epoch_ms(seg["originalTimestamp"])));
        // The library's own context is kept beside what the application gave.
        EXPECT_EQ(seg["context"]["library"]["name"], "@segment/analytics-node");
        EXPECT_EQ(seg["context"]["library"]["version"], CDPHUB_ANALYTICS_NODE_VERSION);
    }

    const json& page = r["segclient-ann-page"];
    EXPECT_EQ(page["type"], "track");
    EXPECT_EQ(page["event"], "Page Viewed");
    EXPECT_EQ(page["identifiers"], (json{{"anonymous_id", "anon-ann-7f3a"}}));
    EXPECT_EQ(page["properties"]["name"], "Pricing");
    EXPECT_EQ(page["properties"]["category"], "Docs");
    EXPECT_EQ(page["properties"]["path"], "/pricing");
    EXPECT_EQ(page["properties"]["_segment"]["type"], "page");
    EXPECT_EQ(page["properties"]["_segment"]["context"]["page"]["title"], "Pricing");
    EXPECT_EQ(page["properties"]["_segment"]["context"]["ip"], "203.0.113.7");

    const json& viewed = r["segclient-ann-viewed"];
    EXPECT_EQ(viewed["type"], "track");
    EXPECT_EQ(viewed["event"], "Product Viewed");
    EXPECT_EQ(viewed["properties"]["sku"], "TEA-01");
    EXPECT_EQ(viewed["properties"]["price"], 12.5);
    EXPECT_EQ(viewed["properties"]["tags"], (json{"green", "loose"}));
    const json& viewed_context = viewed["properties"]["_segment"]["context"];
    EXPECT_EQ(viewed_context["campaign"]["source"], "newsletter");
    EXPECT_EQ(viewed_context["locale"], "de-DE");
    EXPECT_EQ(viewed_context["userAgent"], "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");

    const json& identify = r["segclient-ann-identify"];
    EXPECT_EQ(identify["type"], "identify");
    EXPECT_EQ(identify["identifiers"]["user_id"], "user-ann");
    EXPECT_EQ(identify["traits"]["first_name"], "Ann");
    EXPECT_EQ(identify["traits"]["plan"], "plus");

    // The merge log names the alias record's row as the one that merged Ann's profiles.
    EXPECT_EQ(ann_merge["record"], store->find_record("web", "segclient-ann-alias")->id);
    const json& alias = r["segclient-ann-alias"];
    EXPECT_EQ(alias["type"], "alias");
    EXPECT_EQ(alias["identifiers"], (json{{"user_id", "user-ann"}}));
    EXPECT_EQ(alias["alias"],
              (json{{"previous_id", {{"type", "anonymous_id"}, {"value", "anon-ann-7f3a"}}}}));

    const json& order = r["segclient-ann-order"];
    EXPECT_EQ(order["event"], "Order Completed");
    EXPECT_EQ(order["properties"]["order_id"], "o-1001");
    EXPECT_EQ(order["properties"]["total"], 49.9);
    EXPECT_EQ(order["properties"]["products"][1]["sku"], "CUP-07");

    // Bob's phone identify: its timestamp an hour before the batch's sentAt, corrected by the
    // hub's clock (the bounds only say "an hour and the script's run time").
    const json& phone = r["segclient-bob-identify-phone"];
    const json& phone_seg = phone["properties"]["_segment"];
    auto skew = epoch_ms(phone_seg["sentAt"]) - epoch_ms(phone_seg["originalTimestamp"]);
    EXPECT_GE(skew, 3'600'000);
    EXPECT_LT(skew, 7'200'000);
    EXPECT_EQ(phone["identifiers"]["anonymous_id"], "anon-bob-phone");
    EXPECT_EQ(phone["traits"]["plan"], "pro");
    EXPECT_EQ(phone_seg["context"]["app"]["version"], "5.2.0");

    const json& screen = r["segclient-bob-screen"];
    EXPECT_EQ(screen["type"], "track");
    EXPECT_EQ(screen["event"], "Screen Viewed");
    EXPECT_EQ(screen["properties"]["name"], "Checkout");
    EXPECT_EQ(screen["properties"]["category"], "Shop");
    EXPECT_EQ(screen["properties"]["step"], 2);
    EXPECT_EQ(screen["properties"]["_segment"]["type"], "screen");
    EXPECT_EQ(screen["properties"]["_segment"]["context"]["device"]["model"], "iPhone15,2");

    const json& group = r["segclient-bob-group"];
    EXPECT_EQ(group["event"], "Group");
    EXPECT_EQ(group["identifiers"], (json{{"user_id", "user-bob"}}));
    EXPECT_EQ(group["properties"]["group_id"], "northwind");
    EXPECT_EQ(group["properties"]["group_traits"]["name"], "Northwind Traders");
    EXPECT_EQ(group["properties"]["group_traits"]["employees"], 120);
    EXPECT_FALSE(group.contains("traits"));

    const json& subscribed = r["segclient-bob-subscribed"];
    EXPECT_EQ(subscribed["event"], "Newsletter Subscribed");
    EXPECT_EQ(subscribed["identifiers"]["anonymous_id"], "anon-bob-laptop");
    EXPECT_EQ(subscribed["identifiers"]["email"], "bob.stone@northwind-mail.io");
    EXPECT_EQ(subscribed["properties"]["list"], "weekly");

    const json& played = r["segclient-cara-played"];
    EXPECT_EQ(played["event"], "Song Played");
    EXPECT_EQ(played["properties"]["title"], "Blue in Green");
    EXPECT_EQ(played["properties"]["seconds"], 337);
    EXPECT_EQ(played["properties"]["favourite"], true);
    EXPECT_EQ(played["properties"]["_segment"]["integrations"]["Mixpanel"], false);

    const json& library = r["segclient-cara-page"];
    EXPECT_EQ(library["event"], "Page Viewed");
    EXPECT_EQ(library["properties"]["name"], "Library");
    EXPECT_FALSE(library["properties"].contains("category"));
}

TEST_F(SegmentClient, AWrongWriteKeyIsAFailureTheLibraryReports) {
    // The other side of "exit 0": the script must see and report what the library reports, or
    // the test above would pass against a hub that refused everything.
    ASSERT_TRUE(start()) << test::read_text(log_);
    auto refused = send("wk-nobody-knows-this");
    EXPECT_NE(refused.code, 0) << refused.text;
    EXPECT_THAT(refused.text, HasSubstr("FAILED"));
    EXPECT_THAT(refused.text, HasSubstr("401"));
    EXPECT_THAT(metrics(), HasSubstr("\ncdphub_ingest_events_accepted_total 0\n"));
    ASSERT_TRUE(stop()) << test::read_text(log_);
    auto store = store::open_sqlite_store(dir_.path() / "var" / "cdphub.db");
    EXPECT_EQ(store->counts("web").records, 0);
}

}  // namespace
}  // namespace cdphub

// The tracking API over real HTTP on loopback: endpoints, auth, limits, semantics, and the
// connection behaviour (keep-alive, pipelining, slow clients, oversized headers, overload).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "server_fixture.hpp"

namespace cdphub::server::test {
namespace {

using nlohmann::json;

json track(const std::string& id, const std::string& user = "u1") {
    return {{"type", "track"},
            {"event", "Order Completed"},
            {"userId", user},
            {"messageId", id},
            {"properties", {{"total", 10}}},
            {"timestamp", "2026-05-01T10:00:00.123Z"}};
}

TEST_F(ServerTest, EveryEndpointStoresItsEvent) {
    const std::vector<std::pair<std::string, json>> calls = {
        {"identify", {{"userId", "u1"}, {"traits", {{"email", "ann@example.com"}}}}},
        {"track", {{"userId", "u1"}, {"event", "Song Played"}}},
        {"page", {{"anonymousId", "a1"}, {"name", "Home"}}},
        {"screen", {{"userId", "u1"}, {"name", "Cart"}}},
        {"group", {{"userId", "u1"}, {"groupId", "g1"}}},
        {"alias", {{"userId", "u1"}, {"previousId", "a1"}}},
    };
    for (auto [route, body] : calls) {
        body["messageId"] = "m-" + route;
        auto r = post("/v1/" + route, body);
        ASSERT_EQ(status_of(r), 200) << route;
        EXPECT_EQ(json::parse(r.response().body)["success"], true);
    }
    process();
    for (const auto& [route, body] : calls) {
        auto rec = stored("web", "m-" + route);
        ASSERT_TRUE(rec) << route;
        EXPECT_EQ((*rec)["properties"]["_segment"]["type"], route);
    }
    EXPECT_EQ((*stored("web", "m-page"))["event"], "Page Viewed");
    EXPECT_EQ((*stored("web", "m-identify"))["identifiers"]["email"], "ann@example.com");
    EXPECT_EQ(counters_.events_accepted.load(), 6u);
    // The route decides the type of a single-event call, whatever the body says.
    auto wrong = track("m-forced");
    wrong["type"] = "identify";
    ASSERT_EQ(status_of(post("/v1/track", wrong)), 200);
    process();
    EXPECT_EQ((*stored("web", "m-forced"))["type"], "track");
}

TEST_F(ServerTest, AuthenticatesByBasicBodyOrBearerAndRefusesOthersWith401) {
    EXPECT_EQ(status_of(post("/v1/track", track("b1"))), 200);
    auto body = track("b2");
    body["writeKey"] = kOtherKey;  // analytics-node <= 3.0: no header, key in the body
    EXPECT_EQ(status_of(post("/v1/track", body, "")), 200);
    body = track("b3");
    body["writeKey"] = kWriteKey;
    EXPECT_EQ(status_of(post("/v1/track", body, "Bearer some-oauth-token")), 200);
    EXPECT_EQ(status_of(post("/v1/track", track("x1"), basic("wrong"))), 401);
    EXPECT_EQ(status_of(post("/v1/track", track("x2"), "")), 401);
    EXPECT_EQ(status_of(post("/v1/batch", json{{"batch", {track("x3")}}}, "Bearer nope")), 401);
    EXPECT_EQ(counters_.unauthorized.load(), 3u);
    process();
    EXPECT_TRUE(stored("web", "b1"));
    EXPECT_TRUE(stored("mobile", "b2"));  // filed under the source of the body's key
    EXPECT_TRUE(stored("web", "b3"));
    for (auto id : {"x1", "x2", "x3"}) EXPECT_FALSE(stored("web", id)) << id;
}

// A write key sent in the body is a secret: the inbox keeps requests as received, but never
// with the key in them, and neither does the store.
TEST_F(ServerTest, AWriteKeyInTheBodyNeverReachesTheDatabaseFiles) {
    auto single = track("k1");
    single["writeKey"] = kOtherKey;
    EXPECT_EQ(status_of(post("/v1/track", single, "")), 200);
    auto inner = track("k3");
    inner["writeKey"] = kOtherKey;
    json batch = {{"writeKey", kOtherKey}, {"batch", {track("k2"), inner}}};
    EXPECT_EQ(status_of(post("/v1/batch", batch, "")), 200);
    auto files_hold_the_key = [&] {
        for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
            std::ifstream in(f.path(), std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(in)), {});
            if (bytes.find(kOtherKey) != std::string::npos) return f.path().filename().string();
        }
        return std::string();
    };
    EXPECT_EQ(files_hold_the_key(), "");  // committed to the inbox, not yet processed
    process();
    for (auto id : {"k1", "k2", "k3"}) EXPECT_TRUE(stored("mobile", id)) << id;
    EXPECT_EQ(files_hold_the_key(), "");
}

TEST_F(ServerTest, BatchMergesContextAndIntegrationsAndCorrectsTheClockSkew) {
    // The client's clock is 1 h behind; everything else about timing is real.
    auto now = std::chrono::system_clock::now();
    auto iso = [](std::chrono::system_clock::time_point t) {
        return normalize::format_rfc3339(
            std::chrono::time_point_cast<std::chrono::milliseconds>(t));
    };
    auto client_now = now - std::chrono::hours(1);
    json e1 = track("s1");
    e1["timestamp"] = iso(client_now - std::chrono::seconds(30));
    e1["context"] = {{"library", {{"name", "@segment/analytics-node"}}}};
    json e2 = track("s2");
    e2["timestamp"] = iso(client_now - std::chrono::seconds(10));
    e2["integrations"] = {{"Mixpanel", false}};
    json batch = {{"batch", {e1, e2}},
                  {"sentAt", iso(client_now)},
                  {"context", {{"device", {{"type", "phone"}}}}},
                  {"integrations", {{"All", true}}}};
    ASSERT_EQ(status_of(post("/v1/batch", batch)), 200);
    process();
    auto r1 = *stored("web", "s1");
    auto r2 = *stored("web", "s2");
    auto seg1 = r1["properties"]["_segment"];
    EXPECT_EQ(seg1["context"]["device"]["type"], "phone");
    EXPECT_EQ(seg1["context"]["library"]["name"], "@segment/analytics-node");
    EXPECT_EQ(seg1["integrations"]["All"], true);
    EXPECT_EQ(r2["properties"]["_segment"]["integrations"]["Mixpanel"], false);
    // occurred_at = receivedAt - 30 s (not 1 h 30 s ago), within the test's own latency.
    auto occurred = [](const json& r) {
        return std::get<normalize::Timestamp>(
            normalize::parse_rfc3339(r["occurred_at"].get<std::string>()));
    };
    auto received = std::get<normalize::Timestamp>(
        normalize::parse_rfc3339(seg1["receivedAt"].get<std::string>()));
    EXPECT_EQ((received - occurred(r1)).count(), 30'000);
    EXPECT_EQ((received - occurred(r2)).count(), 10'000);
    EXPECT_LT(std::chrono::abs(
                  received.time_since_epoch() -
                  std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch())),
              std::chrono::seconds(5));
    EXPECT_EQ(r1["received_at"], seg1["receivedAt"]);
}

TEST_F(ServerTest, MessageIdIsDeduplicatedAcrossRequests) {
    ASSERT_EQ(status_of(post("/v1/track", track("dup-1"))), 200);
    process();
    // A client retry (timeout, X-Retry-Count) resends the same batch: stored once.
    auto retry = json{{"batch", {track("dup-1"), track("dup-2")}}};
    ASSERT_EQ(status_of(post("/v1/batch", retry, basic(kWriteKey), {{"X-Retry-Count", "1"}})), 200);
    ASSERT_EQ(status_of(post("/v1/batch", retry)), 200);
    process();
    EXPECT_EQ(store_->counts("web").records, 2);
}

TEST_F(ServerTest, SizeLimitsAndInvalidJsonAnswer400) {
    EXPECT_EQ(status_of(post_raw("/v1/track", "{\"type\":")), 400);
    auto big = track("big");
    big["properties"]["blob"] = std::string(40 * 1024, 'x');
    EXPECT_EQ(status_of(post("/v1/track", big)), 400);
    json batch = {{"batch", json::array()}};
    auto e = track("e");
    e["properties"]["blob"] = std::string(20 * 1024, 'x');
    for (int i = 0; i < 30; ++i) batch["batch"].push_back(e);  // 600 KB
    auto r = post("/v1/batch", batch);
    EXPECT_EQ(status_of(r), 400);
    EXPECT_GE(counters_.bad_requests.load(), 3u);
    // The connection closed after the oversized body; the next request still works.
    EXPECT_EQ(status_of(post("/v1/track", track("after"))), 200);
    process();
    EXPECT_FALSE(stored("web", "big"));
    EXPECT_TRUE(stored("web", "after"));
}

TEST_F(ServerTest, SemanticProblemsAre200AndGoToTheRejectedStore) {
    json nobody = {{"type", "track"}, {"event", "E"}, {"messageId", "r1"}};
    json noevent = {{"type", "track"}, {"userId", "u1"}, {"messageId", "r2"}};
    json badtime = track("r3");
    badtime["timestamp"] = "yesterday";
    json batch = {{"batch", {nobody, noevent, badtime, track("ok1"), "not an object"}}};
    ASSERT_EQ(status_of(post("/v1/batch", batch)), 200);
    process();
    EXPECT_TRUE(stored("web", "ok1"));
    auto rejected = store_->list_rejected("web", 0, 100);
    ASSERT_EQ(rejected.size(), 4u);
    std::map<std::string, std::string> reasons;
    for (const auto& r : rejected) reasons[r.record_id.value_or("-")] = r.reason_code;
    EXPECT_EQ(reasons["r1"], "no_identifier");
    EXPECT_EQ(reasons["r2"], "invalid_field");
    EXPECT_EQ(reasons["r3"], "bad_timestamp");
    EXPECT_EQ(reasons["-"], "not_an_object");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
    // One socket, one request at a time, each answered before the next is sent.
    RawSocket s(server_->port());
    auto auth = "Authorization: " + basic(kWriteKey) + "\r\n";
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(s.send(post_text("/v1/track", track("k" + std::to_string(i)).dump(), auth)));
        auto got = s.read_until(
            [](const std::string& g) { return g.find("{\"success\":true}") != std::string::npos; },
            std::chrono::seconds(5));
        ASSERT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << i << ": " << got;
        EXPECT_EQ(got.find("Connection: close"), std::string::npos);
    }
    EXPECT_FALSE(s.closed_by_peer());
    EXPECT_EQ(counters_.connections.load(), 1u);
    EXPECT_EQ(counters_.requests.load(), 50u);
    process();
    EXPECT_EQ(store_->counts("web").records, 50);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.ok());
    auto auth = "Authorization: " + basic(kWriteKey) + "\r\n";
    // Three requests in one write: a good one, an invalid one, a good one.
    ASSERT_TRUE(s.send(post_text("/v1/track", track("p1").dump(), auth) +
                       post_text("/v1/track", "{oops", auth) +
                       post_text("/v1/track", track("p2").dump(), auth)));
    auto got = s.read_until([](const std::string& g) { return count_of(g, "HTTP/1.1 ") >= 3; },
                            std::chrono::seconds(5));
    auto first = got.find("HTTP/1.1 200"), second = got.find("HTTP/1.1 400"),
         third = got.find("HTTP/1.1 200", first + 1);
    ASSERT_NE(first, std::string::npos) << got;
    ASSERT_NE(second, std::string::npos) << got;
    ASSERT_NE(third, std::string::npos) << got;
    EXPECT_LT(first, second);
    EXPECT_LT(second, third);
    EXPECT_EQ(counters_.connections.load(), 1u);
    process();
    EXPECT_TRUE(stored("web", "p1"));
    EXPECT_TRUE(stored("web", "p2"));
}

TEST_F(ServerTest, HealthAndReadiness) {
    http::Request r;
    r.url = base_ + "/healthz";
    EXPECT_EQ(client_.perform(r).response().status, 200);
    r.url = base_ + "/readyz";
    EXPECT_EQ(client_.perform(r).response().status, 200);
    r.url = base_ + "/nope";
    EXPECT_EQ(client_.perform(r).response().status, 404);
    r.url = base_ + "/v1/track";  // GET on a POST route
    EXPECT_EQ(client_.perform(r).response().status, 405);
}

TEST_F(ServerTest, OversizedHeadersAre431AndClosed) {
    RawSocket s(server_->port());
    std::string req =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
    s.send(req);
    auto got = s.read_until([](const std::string&) { return false; }, std::chrono::seconds(5));
    EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 100);
    EXPECT_TRUE(s.closed_by_peer());
}

class SlowClientTest : public ServerTest {
    void configure(ServerOptions& o, InboxOptions&) override {
        o.read_timeout = std::chrono::milliseconds(600);
    }
};

TEST_F(SlowClientTest, TrickledHeadersAreCutOffAtTheReadTimeout) {
    RawSocket s(server_->port());
    const auto start = std::chrono::steady_clock::now();
    std::string req = "POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    bool closed = false;
    // One byte every 100 ms: each byte is "progress", but the deadline is for the whole request.
    for (int i = 0; i < 40 && !closed; ++i) {
        if (!s.send(std::string(1, req[i % req.size()]))) closed = true;
        s.read_until([](const std::string&) { return false; }, std::chrono::milliseconds(100));
        closed = closed || s.closed_by_peer();
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(closed);
    EXPECT_LT(took, std::chrono::milliseconds(2500));
    // Others are served meanwhile and after.
    EXPECT_EQ(status_of(post("/v1/track", track("fast"))), 200);
}

class OverloadTest : public ServerTest {
    void configure(ServerOptions& o, InboxOptions& io) override {
        o.retry_after_seconds = 2;
        io.max_backlog_events = 100;  // the processor is not running: the backlog fills up
    }
};

TEST_F(OverloadTest, AFullInboxAnswers429WithRetryAfterAndProcessingFreesIt) {
    json batch = {{"batch", json::array()}};
    for (int i = 0; i < 60; ++i) batch["batch"].push_back(track("o" + std::to_string(i)));
    EXPECT_EQ(status_of(post("/v1/batch", batch)), 200);
    EXPECT_EQ(status_of(post("/v1/batch", json{{"batch", {track("o100")}}})), 200);
    for (auto& e : batch["batch"]) e["messageId"] = "n" + e["messageId"].get<std::string>();
    auto r = post("/v1/batch", batch);  // 61 + 60 > 100
    ASSERT_EQ(status_of(r), 429);
    EXPECT_EQ(r.response().header("Retry-After"), "2");
    EXPECT_EQ(r.response().header("X-RateLimit-Reset"), "2");
    EXPECT_EQ(counters_.throttled.load(), 1u);
    process();  // the processor catches up; the retry is accepted
    EXPECT_EQ(status_of(post("/v1/batch", batch)), 200);
    process();
    EXPECT_EQ(store_->counts("web").records, 121);
}

}  // namespace
}  // namespace cdphub::server::test

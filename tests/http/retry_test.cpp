// Retries, backoff, Retry-After and the rate limit, over real loopback HTTP. Waits go through a
// FakeSleep, so the tests see exactly what the client asked to wait and spend no time waiting.
#include "http/client.hpp"
#include "http/fake_sleep.hpp"
#include "support/http_test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <set>

namespace cdphub::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using test::FakeSleep;
using test::HttpRequest;
using test::HttpResponse;
using test::HttpTestServer;

Request get(std::string url, bool retry_safe = true) {
    Request r;
    r.url = std::move(url);
    r.retry_safe = retry_safe;
    return r;
}

HttpResponse status(int code, std::string retry_after = {}) {
    HttpResponse r = HttpResponse::text(code, "status " + std::to_string(code));
    if (!retry_after.empty()) r.headers.emplace_back("Retry-After", std::move(retry_after));
    return r;
}

// Answers with `script` in order, then with the last entry for ever.
test::HttpHandler scripted(std::vector<HttpResponse> script) {
    auto calls = std::make_shared<std::atomic<size_t>>(0);
    return [script = std::move(script), calls](const HttpRequest&) {
        const size_t i = (*calls)++;
        return script[std::min(i, script.size() - 1)];
    };
}

HttpResponse hang_up() {
    HttpResponse r;
    r.close_without_answer = true;
    return r;
}

std::string imf_fixdate(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

ClientOptions fast_backoff() {
    ClientOptions o;
    o.backoff_base = 100ms;
    o.backoff_max = 10s;
    return o;
}

TEST(HttpRetry, SafeRequestRetries503HonouringRetryAfter) {
    HttpTestServer server(scripted({status(503, "2"), status(503, "3"), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/items")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 200);
    EXPECT_EQ(res.response().attempts, 3);
    EXPECT_FALSE(res.response().retry_after.has_value());  // the final answer had none
    EXPECT_EQ(sleep.waits(), (std::vector<milliseconds>{2000ms, 3000ms}));
    EXPECT_EQ(server.request_count(), 3u);
    const Counters& c = client.counters();
    EXPECT_EQ(c.requests, 3u);
    EXPECT_EQ(c.retries, 2u);
    EXPECT_EQ(c.status_5xx, 2u);
    EXPECT_EQ(c.status_2xx, 1u);
}

TEST(HttpRetry, SafeRequestRetries429WithAnHttpDate) {
    const std::string date = imf_fixdate(std::chrono::system_clock::now() + 30s);
    HttpTestServer server(scripted({status(429, date), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/items")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().attempts, 2);
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 1u);
    // Whole seconds on the wire, and some time passes before the client reads it.
    EXPECT_GT(waits[0], 20s);
    EXPECT_LE(waits[0], 30s);
    EXPECT_EQ(client.counters().status_429, 1u);
    EXPECT_EQ(client.counters().status_4xx, 1u);
}

TEST(HttpRetry, GatewayErrorsRetryWithJitteredExponentialBackoff) {
    HttpTestServer server(scripted({status(502), status(504), status(503), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().attempts, 4);
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 3u);
    // Retry n waits somewhere in [base, base * 2^n].
    for (size_t n = 0; n < waits.size(); ++n) {
        EXPECT_GE(waits[n], 100ms) << n;
        EXPECT_LE(waits[n], milliseconds(100 << (n + 1))) << n;
    }
}

TEST(HttpRetry, BackoffIsCappedAndVaries) {
    HttpTestServer server(scripted({status(503)}));
    ClientOptions options;
    options.backoff_base = 100ms;
    options.backoff_max = 400ms;
    options.max_attempts = 12;
    Client client(options);
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 503);  // out of attempts: the plugin sees the last answer
    EXPECT_EQ(res.response().attempts, 12);
    EXPECT_EQ(server.request_count(), 12u);
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 11u);
    for (auto w : waits) {
        EXPECT_GE(w, 100ms);
        EXPECT_LE(w, 400ms);
    }
    // Full jitter: eleven draws from [100, 400] ms are not all alike.
    EXPECT_GT(std::set<milliseconds>(waits.begin(), waits.end()).size(), 1u);
}

TEST(HttpRetry, UnsafeRequestIsSentExactlyOnce) {
    HttpTestServer server(scripted({status(503, "7"), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Request req = get(server.url("/orders"), /*retry_safe=*/false);
    req.method = "POST";
    req.body = R"({"order":1})";
    Result res = client.perform(req, sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 503);
    EXPECT_EQ(res.response().attempts, 1);
    EXPECT_EQ(res.response().retry_after, milliseconds(7000));  // for the plugin to act on
    EXPECT_TRUE(sleep.waits().empty());
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_EQ(client.counters().retries, 0u);
}

TEST(HttpRetry, UnsafeRequestIsNotRepeatedAfterANetworkError) {
    HttpTestServer server(scripted({hang_up(), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Request req = get(server.url("/orders"), /*retry_safe=*/false);
    req.method = "POST";
    req.body = "{}";
    Result res = client.perform(req, sleep.control());
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::network);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_TRUE(sleep.waits().empty());
}

TEST(HttpRetry, UnsafeRequestIsNotResentWhenAConnectionDiesUnderIt) {
    // libcurl re-sends a request by itself when a reused connection closes before any answer
    // (it takes that for an idle connection the server had just dropped); the server may
    // already have acted on it. An unsafe POST must therefore not ride on a reused connection.
    HttpTestServer server([](const HttpRequest& r) {
        HttpResponse h = status(200);
        h.close_without_answer = r.method == "POST";
        return h;
    });
    Client client(fast_backoff());
    ASSERT_TRUE(client.perform(get(server.url("/warm-up"), false)).ok());
    Request post = get(server.url("/orders"), /*retry_safe=*/false);
    post.method = "POST";
    post.body = "{}";
    Result res = client.perform(post);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::network);
    EXPECT_EQ(res.error().attempts, 1);
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 2u);  // the warm-up GET and the POST, once
    EXPECT_EQ(seen[1].method, "POST");
    EXPECT_NE(seen[1].connection, seen[0].connection);
}

TEST(HttpRetry, RetryAfterBeyondTheMaximumGoesBackToThePlugin) {
    HttpTestServer server(scripted({status(429, "600"), status(200)}));
    ClientOptions options = fast_backoff();
    options.max_retry_after = 300s;
    Client client(options);
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 429);
    EXPECT_EQ(res.response().attempts, 1);
    EXPECT_EQ(res.response().retry_after, milliseconds(600'000));
    EXPECT_TRUE(sleep.waits().empty());
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(HttpRetry, PerRequestMaxAttemptsWins) {
    HttpTestServer server(scripted({status(503)}));
    ClientOptions options = fast_backoff();
    options.max_attempts = 10;
    Client client(options);
    FakeSleep sleep;
    Request req = get(server.url("/"));
    req.max_attempts = 2;
    Result res = client.perform(req, sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().attempts, 2);
    EXPECT_EQ(server.request_count(), 2u);
    EXPECT_EQ(sleep.waits().size(), 1u);
}

TEST(HttpRetry, OtherStatusesAreNotRetried) {
    for (int code : {400, 401, 404, 500, 501}) {
        HttpTestServer server(scripted({status(code), status(200)}));
        Client client(fast_backoff());
        FakeSleep sleep;
        Result res = client.perform(get(server.url("/")), sleep.control());
        ASSERT_TRUE(res.ok()) << res.error().message;
        EXPECT_EQ(res.response().status, code);
        EXPECT_EQ(res.response().attempts, 1) << code;
        EXPECT_EQ(server.request_count(), 1u) << code;
        EXPECT_TRUE(sleep.waits().empty()) << code;
    }
}

TEST(HttpRetry, NetworkErrorsAreRetriedForSafeRequests) {
    HttpTestServer server(scripted({hang_up(), hang_up(), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 200);
    EXPECT_EQ(res.response().attempts, 3);
    EXPECT_EQ(server.request_count(), 3u);
    EXPECT_EQ(sleep.waits().size(), 2u);
    EXPECT_EQ(client.counters().network_errors, 2u);
    EXPECT_EQ(client.counters().retries, 2u);
}

TEST(HttpRetry, GivingUpReportsHowManyAttemptsWereMade) {
    HttpTestServer server(scripted({hang_up()}));
    ClientOptions options = fast_backoff();
    options.max_attempts = 3;
    Client client(options);
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/flaky?sig=QUERYSECRET")), sleep.control());
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::network);
    EXPECT_EQ(res.error().attempts, 3);
    EXPECT_EQ(server.request_count(), 3u);
    const std::string& m = res.error().message;
    EXPECT_NE(m.find("GET " + server.url("/flaky")), std::string::npos) << m;
    EXPECT_NE(m.find("after 3 attempts"), std::string::npos) << m;
    EXPECT_EQ(m.find("QUERYSECRET"), std::string::npos) << m;
}

TEST(HttpRetry, CancelledWhileWaitingToRetry) {
    HttpTestServer server(scripted({status(503, "1"), status(200)}));
    Client client(fast_backoff());
    FakeSleep sleep;
    sleep.set_result(false);
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_EQ(server.request_count(), 1u);
}

// ---- Rate limit ------------------------------------------------------------------------------

ClientOptions limited(int requests, milliseconds per) {
    ClientOptions o = fast_backoff();
    o.rate_limit = RateLimit{requests, per};
    return o;
}

TEST(HttpRateLimit, WaitsForSlotsThroughTheSleepHook) {
    HttpTestServer server;
    Client client(limited(2, 1000ms));
    FakeSleep sleep;
    for (int i = 0; i < 4; ++i) {
        Result res = client.perform(get(server.url("/"), false), sleep.control());
        ASSERT_TRUE(res.ok()) << res.error().message;
    }
    EXPECT_EQ(server.request_count(), 4u);
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 2u);
    // A burst of two, then one slot every 500 ms; the fake sleep spends no time, so the third
    // and fourth requests queue for roughly 500 and 1000 ms (less whatever time really passed).
    EXPECT_GT(waits[0], 300ms);
    EXPECT_LE(waits[0], 500ms);
    EXPECT_GT(waits[1], 800ms);
    EXPECT_LE(waits[1], 1000ms);
    EXPECT_EQ(client.counters().rate_limit_waits, 2u);
}

TEST(HttpRateLimit, UnlimitedRequestsBypassTheBucket) {
    HttpTestServer server;
    Client client(limited(1, 60s));
    FakeSleep sleep;
    ASSERT_TRUE(client.perform(get(server.url("/")), sleep.control()).ok());
    for (int i = 0; i < 3; ++i) {
        Request token = get(server.url("/oauth/token"), false);
        token.method = "POST";
        token.rate_limited = false;
        ASSERT_TRUE(client.perform(token, sleep.control()).ok());
    }
    EXPECT_TRUE(sleep.waits().empty());
    EXPECT_EQ(server.request_count(), 4u);
    EXPECT_EQ(client.counters().rate_limit_waits, 0u);
}

TEST(HttpRateLimit, CancelledWhileWaitingForASlotSendsNothing) {
    HttpTestServer server;
    Client client(limited(1, 1000ms));
    FakeSleep sleep;
    ASSERT_TRUE(client.perform(get(server.url("/")), sleep.control()).ok());
    sleep.set_result(false);
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 0);
    EXPECT_EQ(server.request_count(), 1u);
    // The abandoned slot went back: the next caller waits one interval, not two.
    sleep.set_result(true);
    ASSERT_TRUE(client.perform(get(server.url("/")), sleep.control()).ok());
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 2u);
    EXPECT_LE(waits[1], 1000ms);
}

TEST(HttpRateLimit, SlotBeyondTheTimeoutFailsAtOnce) {
    HttpTestServer server;
    Client client(limited(1, 60s));
    FakeSleep sleep;
    ASSERT_TRUE(client.perform(get(server.url("/")), sleep.control()).ok());
    Request req = get(server.url("/"));
    req.timeout = 1s;
    Result res = client.perform(req, sleep.control());
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::timeout);
    EXPECT_NE(res.error().message.find("rate-limit"), std::string::npos) << res.error().message;
    EXPECT_TRUE(sleep.waits().empty());
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(HttpRateLimit, RetriesCountAgainstTheLimit) {
    HttpTestServer server(scripted({status(503, "0"), status(200)}));
    Client client(limited(1, 1000ms));
    FakeSleep sleep;
    Result res = client.perform(get(server.url("/")), sleep.control());
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().attempts, 2);
    // Retry-After: 0 asks for no wait, but the second attempt needs a second slot.
    const auto waits = sleep.waits();
    ASSERT_EQ(waits.size(), 1u);
    EXPECT_GT(waits[0], 800ms);
    EXPECT_LE(waits[0], 1000ms);
}

}  // namespace
}  // namespace cdphub::http

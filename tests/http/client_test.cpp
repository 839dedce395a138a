// The HTTP client against a real loopback server: what goes over the wire, what comes back,
// connection reuse, limits, errors and cancellation.
#include "http/client.hpp"
#include "http/fake_sleep.hpp"
#include "support/http_test_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

namespace cdphub::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using test::HttpRequest;
using test::HttpResponse;
using test::HttpTestServer;

Request get(std::string url) {
    Request r;
    r.url = std::move(url);
    return r;
}

// A port nothing listens on: one a server had a moment ago.
uint16_t closed_port() {
    HttpTestServer gone;
    return gone.port();
}

// Polls until `done` holds; false after 10 s (the test then fails on its own assertions).
template <typename F>
bool eventually(F done) {
    const auto deadline = steady_clock::now() + 10s;
    while (!done()) {
        if (steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

size_t index_of(const Headers& headers, std::string_view name) {
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& h) { return h.first == name; });
    return static_cast<size_t>(it - headers.begin());
}

TEST(HttpClient, GetReturnsStatusHeadersAndBody) {
    HttpTestServer server([](const HttpRequest& req) {
        HttpResponse r = HttpResponse::text(201, "hello " + std::string(req.path()));
        r.headers.emplace_back("X-First", "1");
        r.headers.emplace_back("X-Second", "2");
        return r;
    });
    ClientOptions options;
    options.user_agent = "cdphub-test/1";
    Client client(options);
    Request req = get(server.url("/v1/things?page=2"));
    req.headers = {{"Authorization", "Bearer abc"}, {"X-Custom", "yes"}};

    Result res = client.perform(req);

    ASSERT_TRUE(res.ok()) << res.error().message;
    const Response& r = res.response();
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "hello /v1/things");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_FALSE(r.retry_after.has_value());
    EXPECT_EQ(r.header("x-first"), "1");
    EXPECT_EQ(r.header("CONTENT-TYPE"), "text/plain");
    EXPECT_LT(index_of(r.headers, "X-First"), index_of(r.headers, "X-Second"));
    EXPECT_LT(index_of(r.headers, "X-Second"), r.headers.size());

    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/v1/things?page=2");
    EXPECT_EQ(seen[0].header("Authorization"), "Bearer abc");
    EXPECT_EQ(seen[0].header("X-Custom"), "yes");
    EXPECT_EQ(seen[0].header("User-Agent"), "cdphub-test/1");
    EXPECT_EQ(seen[0].body, "");
    EXPECT_FALSE(seen[0].has_header("Content-Type"));

    EXPECT_EQ(client.counters().requests, 1u);
    EXPECT_EQ(client.counters().retries, 0u);
    EXPECT_EQ(client.counters().status_2xx, 1u);
    EXPECT_GT(client.counters().total_latency_us, 0u);
}

TEST(HttpClient, SendsEveryMethodWithItsBody) {
    HttpTestServer server([](const HttpRequest& req) {
        return HttpResponse::text(200, req.method + ":" + req.body);
    });
    Client client;
    for (const std::string method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "REPORT"}) {
        server.clear_requests();
        Request req = get(server.url("/items/1"));
        req.method = method;
        req.body = R"({"a":1})";
        req.headers = {{"Content-Type", "application/json"}};
        Result res = client.perform(req);
        ASSERT_TRUE(res.ok()) << method << ": " << res.error().message;
        EXPECT_EQ(res.response().body, method + R"(:{"a":1})");
        const auto seen = server.requests();
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].method, method);
        EXPECT_EQ(seen[0].body, R"({"a":1})");
        EXPECT_EQ(seen[0].header("Content-Length"), "7");
        EXPECT_EQ(seen[0].header("Content-Type"), "application/json");
    }

    server.clear_requests();
    Request del = get(server.url("/items/2"));
    del.method = "DELETE";
    ASSERT_TRUE(client.perform(del).ok());
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].method, "DELETE");
    EXPECT_EQ(server.requests()[0].body, "");

    Request head = get(server.url("/items/3"));
    head.method = "HEAD";
    Result res = client.perform(head);
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 200);
    EXPECT_EQ(res.response().body, "");  // the length is announced, the body never sent
    EXPECT_EQ(res.response().header("Content-Length"), "5");  // "HEAD:"
}

TEST(HttpClient, LargePostGoesOutWithoutWaitingFor100Continue) {
    HttpTestServer server([](const HttpRequest& req) {
        return HttpResponse::text(200, std::to_string(req.body.size()));
    });
    Client client;
    Request req = get(server.url("/bulk"));
    req.method = "POST";
    req.body.assign(3u << 20, 'x');
    req.body[12345] = 'y';
    req.headers = {{"Content-Type", "application/octet-stream"}};
    Result res = client.perform(req);
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().body, std::to_string(3u << 20));
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].body, req.body);
    EXPECT_FALSE(seen[0].has_header("Expect"));
}

TEST(HttpClient, InventsNoContentTypeAndKeepsFramingItsOwn) {
    HttpTestServer server;
    Client client;
    Request req = get(server.url("/raw"));
    req.method = "POST";
    req.body = "abc";
    // A wrong caller-supplied length would corrupt the framing; the client sets its own.
    req.headers = {{"Content-Length", "999"}, {"X-Empty", ""}};
    Result res = client.perform(req);
    ASSERT_TRUE(res.ok()) << res.error().message;
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].body, "abc");
    EXPECT_EQ(seen[0].header("Content-Length"), "3");
    EXPECT_FALSE(seen[0].has_header("Content-Type"));  // not libcurl's form-urlencoded default
    EXPECT_TRUE(seen[0].has_header("X-Empty"));
    EXPECT_EQ(seen[0].header("X-Empty"), "");
}

TEST(HttpClient, SequentialRequestsReuseOneConnection) {
    HttpTestServer server([](const HttpRequest&) { return HttpResponse::text(200, "ok"); });
    Client client;
    for (int i = 0; i < 6; ++i) {
        Request req = get(server.url("/page/" + std::to_string(i)));
        // Requests with bodies in between must not cost a new connection either.
        if (i == 2) {
            req.method = "PUT";
            req.body = "{}";
        } else if (i == 4) {
            req.method = "POST";
            req.body = "{}";
            req.retry_safe = true;
        }
        Result res = client.perform(req);
        ASSERT_TRUE(res.ok()) << res.error().message;
    }
    EXPECT_EQ(server.connection_count(), 1u);
    for (const auto& r : server.requests()) EXPECT_EQ(r.connection, 1u);
}

TEST(HttpClient, UnsafePostGetsAFreshConnectionThatLaterRequestsReuse) {
    HttpTestServer server;
    Client client;
    ASSERT_TRUE(client.perform(get(server.url("/before"))).ok());
    Request post = get(server.url("/orders"));
    post.method = "POST";  // neither idempotent nor marked retry-safe
    post.body = "{}";
    ASSERT_TRUE(client.perform(post).ok());
    ASSERT_TRUE(client.perform(get(server.url("/after"))).ok());
    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_NE(seen[1].connection, seen[0].connection);
    EXPECT_EQ(server.connection_count(), 2u);  // the GET after it found an open connection
}

TEST(HttpClient, ServerClosingKeepAliveIsHandledWithANewConnection) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r = HttpResponse::text(200, "bye");
        r.headers.emplace_back("Connection", "close");
        return r;
    });
    Client client;
    for (int i = 0; i < 3; ++i) {
        Result res = client.perform(get(server.url("/")));
        ASSERT_TRUE(res.ok()) << res.error().message;
        EXPECT_EQ(res.response().body, "bye");
    }
    EXPECT_EQ(server.connection_count(), 3u);
}

TEST(HttpClient, ConcurrentRequestsFromManyThreads) {
    HttpTestServer server(
        [](const HttpRequest& req) { return HttpResponse::text(200, req.target); },
        test::HttpTestServerOptions{.threads = 4});
    Client client;
    constexpr int kThreads = 8, kPerThread = 15;
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string target = "/t" + std::to_string(t) + "/" + std::to_string(i);
                Result res = client.perform(get(server.url(target)));
                if (res.ok() && res.response().body == target) ++good;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(good, kThreads * kPerThread);
    EXPECT_EQ(client.counters().requests, uint64_t{kThreads * kPerThread});
    EXPECT_EQ(client.counters().status_2xx, uint64_t{kThreads * kPerThread});
    // Pooled handles keep their connections: never more connections than concurrent requests.
    EXPECT_LE(server.connection_count(), size_t{kThreads});
}

TEST(HttpClient, InvalidRequestsAreNeverSent) {
    HttpTestServer server;
    Client client;
    const std::string base = server.base_url();
    const std::vector<std::string> bad_urls = {"",
                                               "/relative/path",
                                               "127.0.0.1/no-scheme",
                                               "ftp://127.0.0.1/file",
                                               "file:///etc/passwd",
                                               "http://",
                                               "https:///no-host",
                                               base + "/with space",
                                               base + "/tab\there",
                                               base + "/new\nline"};
    for (const std::string& url : bad_urls) {
        Result res = client.perform(get(url));
        ASSERT_FALSE(res.ok()) << url;
        EXPECT_EQ(res.error().kind, ErrorKind::bad_request) << url;
        EXPECT_EQ(res.error().attempts, 0) << url;
    }
    for (const std::string method : {"", "GE T", "GET\r\n", "CONNECT"}) {
        Request req = get(server.url("/"));
        req.method = method;
        Result res = client.perform(req);
        ASSERT_FALSE(res.ok()) << method;
        EXPECT_EQ(res.error().kind, ErrorKind::bad_request) << method;
    }
    Request bad_name = get(server.url("/"));
    bad_name.headers = {{"X Bad", "v"}};
    Result res = client.perform(bad_name);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::bad_request);

    EXPECT_EQ(server.request_count(), 0u);
    EXPECT_EQ(server.connection_count(), 0u);
    EXPECT_EQ(client.counters().requests, 0u);
}

TEST(HttpClient, HeaderInjectionIsRejectedWithoutEchoingTheValue) {
    HttpTestServer server;
    Client client;
    Request req = get(server.url("/"));
    req.headers = {{"Authorization", "Bearer TOPSECRET\r\nX-Injected: 1"}};
    Result res = client.perform(req);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::bad_request);
    EXPECT_NE(res.error().message.find("Authorization"), std::string::npos) << res.error().message;
    EXPECT_EQ(res.error().message.find("TOPSECRET"), std::string::npos) << res.error().message;
    EXPECT_EQ(server.request_count(), 0u);
}

TEST(HttpClient, ErrorMessagesNameTheUrlWithoutSecrets) {
    Client client;
    const std::string port = std::to_string(closed_port());
    Request req =
        get("http://user:pa55word@127.0.0.1:" + port + "/v1/things?api_key=QUERYSECRET#frag");
    req.headers = {{"Authorization", "Bearer HEADERSECRET"}};
    Result res = client.perform(req);
    ASSERT_FALSE(res.ok());
    const std::string& m = res.error().message;
    EXPECT_NE(m.find("GET http://127.0.0.1:" + port + "/v1/things"), std::string::npos) << m;
    for (const char* secret :
         {"QUERYSECRET", "api_key", "pa55word", "user:", "HEADERSECRET", "frag"}) {
        EXPECT_EQ(m.find(secret), std::string::npos) << secret << " in: " << m;
    }

    Result bad = client.perform(get("ftp://user:pa55word@host/x?api_key=QUERYSECRET"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message.find("QUERYSECRET"), std::string::npos) << bad.error().message;
    EXPECT_EQ(bad.error().message.find("pa55word"), std::string::npos) << bad.error().message;
}

TEST(HttpClient, ConnectionRefusedIsANetworkError) {
    Client client;
    Result res = client.perform(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/x"));
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::network);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_EQ(client.counters().requests, 1u);
    EXPECT_EQ(client.counters().network_errors, 1u);
}

TEST(HttpClient, SlowAnswerTimesOut) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r;
        r.delay = 30s;  // the server's destructor cuts this short
        return r;
    });
    Client client;
    Request req = get(server.url("/slow?token=QUERYSECRET"));
    req.timeout = 200ms;
    Result res = client.perform(req);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::timeout);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_NE(res.error().message.find("/slow"), std::string::npos) << res.error().message;
    EXPECT_EQ(res.error().message.find("QUERYSECRET"), std::string::npos) << res.error().message;
    EXPECT_EQ(client.counters().network_errors, 1u);
}

TEST(HttpClient, DefaultTimeoutComesFromOptions) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r;
        r.delay = 30s;
        return r;
    });
    ClientOptions options;
    options.timeout = 200ms;
    Client client(options);
    Result res = client.perform(get(server.url("/slow")));
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::timeout);
}

TEST(HttpClient, ResponseLargerThanTheLimitIsRefused) {
    HttpTestServer server([](const HttpRequest& req) {
        HttpResponse r = HttpResponse::text(200, std::string(100'000, 'x'));
        // Without a Content-Length the limit can only be enforced while the body streams in.
        r.chunked = req.path() == "/streamed";
        return r;
    });
    ClientOptions options;
    options.max_response_bytes = 10'000;
    Client client(options);
    for (const char* path : {"/announced", "/streamed"}) {
        Request req = get(server.url(path));
        req.retry_safe = true;  // an oversized answer is not worth repeating
        Result res = client.perform(req);
        ASSERT_FALSE(res.ok()) << path;
        EXPECT_EQ(res.error().kind, ErrorKind::too_large) << path;
        EXPECT_EQ(res.error().attempts, 1) << path;
        EXPECT_NE(res.error().message.find("larger than the limit of 10000 bytes"),
                  std::string::npos)
            << res.error().message;
    }
    // Within the limit, both framings arrive intact.
    options.max_response_bytes = 100'000;
    Client roomy(options);
    for (const char* path : {"/announced", "/streamed"}) {
        Result res = roomy.perform(get(server.url(path)));
        ASSERT_TRUE(res.ok()) << path << ": " << res.error().message;
        EXPECT_EQ(res.response().body.size(), 100'000u) << path;
    }
}

TEST(HttpClient, CancelledBeforeStartNeverSends) {
    HttpTestServer server;
    Client client;
    Control control;
    control.cancelled = [] { return true; };
    Result res = client.perform(get(server.url("/")), control);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 0);
    EXPECT_EQ(server.request_count(), 0u);
}

// Cancels `flag` once `server` has seen a request and a little more time has passed, so that
// the transfer is under way when it happens.
std::thread cancel_during_transfer(const HttpTestServer& server, std::atomic<bool>& flag) {
    return std::thread([&server, &flag] {
        eventually([&] { return server.request_count() > 0; });
        std::this_thread::sleep_for(200ms);
        flag = true;
    });
}

TEST(HttpClient, CancelAbortsASlowDownloadPromptly) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r;
        r.body.assign(1u << 20, 'x');
        r.chunk_bytes = 1024;
        r.chunk_interval = 100ms;  // the whole body would take over 100 s
        return r;
    });
    Client client;
    std::atomic<bool> cancel{false};
    Control control;
    control.cancelled = [&] { return cancel.load(); };
    std::thread canceller = cancel_during_transfer(server, cancel);
    const auto started = steady_clock::now();
    Result res = client.perform(get(server.url("/export")), control);
    const auto elapsed = steady_clock::now() - started;
    canceller.join();
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_LT(elapsed, 20s);
}

TEST(HttpClient, CancelAbortsTheWaitForALateAnswer) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r;
        r.delay = 60s;
        return r;
    });
    Client client;
    std::atomic<bool> cancel{false};
    Control control;
    control.cancelled = [&] { return cancel.load(); };
    std::thread canceller = cancel_during_transfer(server, cancel);
    const auto started = steady_clock::now();
    Request req = get(server.url("/late"));
    req.retry_safe = true;  // cancellation is final, never retried
    Result res = client.perform(req, control);
    const auto elapsed = steady_clock::now() - started;
    canceller.join();
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_LT(elapsed, 30s);
}

TEST(HttpClient, ExceptionFromAHookInsideATransferReachesTheCaller) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r;
        r.delay = 30s;
        return r;
    });
    Client client;
    std::atomic<int> calls{0};
    Control control;
    // The first check happens before the transfer; later ones run inside libcurl's callback.
    control.cancelled = [&]() -> bool {
        if (++calls > 1) throw std::runtime_error("hook failed");
        return false;
    };
    EXPECT_THROW(client.perform(get(server.url("/")), control), std::runtime_error);
    EXPECT_GT(calls, 1);
    // The pooled handle came back in working order.
    server.set_handler([](const HttpRequest&) { return HttpResponse::text(200, "fine"); });
    Result res = client.perform(get(server.url("/")));
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().body, "fine");
}

TEST(HttpClient, RealWaitBetweenRetriesIsCancellable) {
    HttpTestServer server([](const HttpRequest&) {
        HttpResponse r = HttpResponse::text(503, "busy");
        r.headers.emplace_back("Retry-After", "120");
        return r;
    });
    Client client;
    std::atomic<bool> cancel{false};
    Control control;  // no sleep hook: the client's own wait
    control.cancelled = [&] { return cancel.load(); };
    std::thread canceller = cancel_during_transfer(server, cancel);
    Request req = get(server.url("/busy"));
    req.retry_safe = true;
    const auto started = steady_clock::now();
    Result res = client.perform(req, control);
    const auto elapsed = steady_clock::now() - started;
    canceller.join();
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().kind, ErrorKind::cancelled);
    EXPECT_EQ(res.error().attempts, 1);
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_LT(elapsed, 60s);
}

}  // namespace
}  // namespace cdphub::http

// The loopback test server itself (tests/support), driven through the HTTP client.
#include "support/http_test_server.hpp"
#include "http/client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>

namespace cdphub::test {
namespace {

using namespace std::chrono_literals;

http::Request get(std::string url) {
    http::Request r;
    r.url = std::move(url);
    return r;
}

TEST(HttpTestServer, DefaultHandlerAnswersAnEmpty200) {
    HttpTestServer server;
    EXPECT_GT(server.port(), 0);
    EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()));
    http::Client client;
    http::Result res = client.perform(get(server.url("/anything")));
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 200);
    EXPECT_EQ(res.response().body, "");
}

TEST(HttpTestServer, RecordsRequestsAndSwapsHandlers) {
    HttpTestServer server([](const HttpRequest&) { return HttpResponse::text(200, "first"); });
    http::Client client;
    http::Request req = get(server.url("/v2/search?q=a%20b&page=3"));
    req.method = "PUT";
    req.body = "payload";
    req.headers = {{"X-Trace", "t-1"}};
    ASSERT_EQ(client.perform(req).response().body, "first");

    server.set_handler([](const HttpRequest&) { return HttpResponse::json(202, "{}"); });
    http::Result second = client.perform(get(server.url("/next")));
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second.response().status, 202);
    EXPECT_EQ(second.response().header("Content-Type"), "application/json");

    const auto seen = server.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].method, "PUT");
    EXPECT_EQ(seen[0].path(), "/v2/search");
    EXPECT_EQ(seen[0].query(), "q=a%20b&page=3");
    EXPECT_EQ(seen[0].body, "payload");
    EXPECT_EQ(seen[0].header("x-trace"), "t-1");
    EXPECT_EQ(seen[0].connection, 1u);
    EXPECT_EQ(seen[1].path(), "/next");
    EXPECT_EQ(seen[1].query(), "");
    EXPECT_EQ(server.request_count(), 2u);

    server.clear_requests();
    EXPECT_TRUE(server.requests().empty());
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(HttpTestServer, RecordingCanBeTurnedOff) {
    HttpTestServer server({}, HttpTestServerOptions{.record_requests = false});
    http::Client client;
    ASSERT_TRUE(client.perform(get(server.url("/"))).ok());
    EXPECT_TRUE(server.requests().empty());
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(HttpTestServer, HandlerExceptionBecomesA500) {
    HttpTestServer server(
        [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("simulated bug"); });
    http::Client client;
    http::Result res = client.perform(get(server.url("/")));
    ASSERT_TRUE(res.ok()) << res.error().message;
    EXPECT_EQ(res.response().status, 500);
    EXPECT_NE(res.response().body.find("simulated bug"), std::string::npos);
    // The server keeps serving.
    EXPECT_TRUE(client.perform(get(server.url("/"))).ok());
}

TEST(HttpTestServer, DestructorDropsConnectionsWaitingForALateAnswer) {
    auto server = std::make_unique<HttpTestServer>([](const HttpRequest&) {
        HttpResponse r;
        r.delay = 1h;
        return r;
    });
    const std::string url = server->url("/late");
    http::Client client;
    std::optional<http::Result> result;
    std::thread caller([&] { result.emplace(client.perform(get(url))); });
    while (server->request_count() == 0) std::this_thread::sleep_for(5ms);
    server.reset();  // must return although an answer is pending for an hour
    caller.join();
    ASSERT_TRUE(result.has_value());
    ASSERT_FALSE(result->ok());
    EXPECT_EQ(result->error().kind, http::ErrorKind::network);
}

}  // namespace
}  // namespace cdphub::test

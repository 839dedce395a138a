// A real ingest API on loopback (ephemeral port) over a temporary store and inbox, plus helpers
// to talk to it with libcurl (the hub's http::Client) or with raw sockets for hostile cases.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http/client.hpp"
#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/time.hpp"
#include "server/http_server.hpp"
#include "server/inbox.hpp"
#include "server/processor.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

namespace cdphub::server::test {

inline constexpr const char* kWriteKey = "wk_test_123";
inline constexpr const char* kOtherKey = "wk_mobile_456";

inline std::string basic(const std::string& key) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = key + ":", out;
    int val = 0, bits = -6;
    for (unsigned char c : in) {
        val = (val << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(t[(val >> bits) & 0x3F]);
            bits -= 6;
        }
    }
    if (bits > -6) out.push_back(t[((val << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return "Basic " + out;
}

// A connected loopback socket with blocking writes and reads bounded by a timeout.
class RawSocket {
  public:
    explicit RawSocket(unsigned short port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~RawSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;
    bool ok() const { return fd_ >= 0; }
    bool send(const std::string& data) {
        return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(data.size());
    }
    // Reads until `done(received)` or the peer closes or `timeout` passes.
    template <class Done>
    std::string read_until(Done done, std::chrono::milliseconds timeout) {
        std::string got;
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (!done(got)) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[65536];
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                closed_ = true;
                break;
            }
            got.append(buf, static_cast<size_t>(n));
        }
        return got;
    }
    bool closed_by_peer() const { return closed_; }

  private:
    int fd_ = -1;
    bool closed_ = false;
};

inline std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
        ++n;
    return n;
}

inline std::string post_text(const std::string& path, const std::string& body,
                             const std::string& extra_headers = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class ServerTest : public ::testing::Test {
  protected:
    void SetUp() override { start_server(); }
    void TearDown() override { stop_server(); }

    virtual void configure(ServerOptions&, InboxOptions&) {}

    void start_server(WebhookHandler webhooks = {}, AdminHandler admin = {}) {
        store_ = store::open_sqlite_store(dir_.path() / "cdphub.db");
        InboxOptions io;
        io.durability = store::Durability::normal;
        ServerOptions so;
        so.port = 0;
        so.write_keys = {{kWriteKey, "web"}, {kOtherKey, "mobile"}};
        so.read_timeout = std::chrono::seconds(5);
        configure(so, io);
        inbox_ = std::make_unique<Inbox>(dir_.path() / "inbox.db", io);
        processor_ = std::make_unique<Processor>(*inbox_, *store_, normalizer_, resolver_);
        server_ =
            std::make_unique<Server>(so, *inbox_, counters_, std::move(webhooks), std::move(admin));
        server_->start();
        base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    }

    void stop_server() {
        if (server_) server_->stop(std::chrono::seconds(2));
        server_.reset();
        processor_.reset();
        inbox_.reset();
        store_.reset();
    }

    http::Result post(const std::string& path, const nlohmann::json& body,
                      const std::string& auth = basic(kWriteKey), http::Headers extra = {}) {
        return post_raw(path, body.dump(), auth, std::move(extra));
    }
    http::Result post_raw(const std::string& path, const std::string& body,
                          const std::string& auth = basic(kWriteKey), http::Headers extra = {}) {
        http::Request r;
        r.method = "POST";
        r.url = base_ + path;
        r.body = body;
        r.headers = {{"Content-Type", "application/json"}};
        if (!auth.empty()) r.headers.emplace_back("Authorization", auth);
        for (auto& h : extra) r.headers.push_back(std::move(h));
        r.rate_limited = false;
        return client_.perform(r);
    }
    long status_of(const http::Result& r) { return r.ok() ? r.response().status : -1; }

    // Runs the processor until the inbox is empty.
    void process() { processor_->process_available(); }

    std::optional<nlohmann::json> stored(const std::string& source, const std::string& id) {
        auto r = store_->find_record(source, id);
        if (!r) return std::nullopt;
        return nlohmann::json::parse(r->body);
    }

    cdphub::test::TempDir dir_;
    normalize::Normalizer normalizer_;
    identity::Resolver resolver_{manifest::IdentityRules::defaults()};
    std::unique_ptr<store::SqliteProfileStore> store_;
    std::unique_ptr<Inbox> inbox_;
    std::unique_ptr<Processor> processor_;
    Counters counters_;
    std::unique_ptr<Server> server_;
    std::string base_;
    http::Client client_{[] {
        http::ClientOptions o;
        o.max_attempts = 1;
        o.timeout = std::chrono::seconds(10);
        return o;
    }()};
};

}  // namespace cdphub::server::test

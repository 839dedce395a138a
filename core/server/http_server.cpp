#include "server/http_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/thread_name.hpp"
#include "logging/logging.hpp"
#include "server/tracking_api.hpp"

namespace cdphub::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Server::Impl {
    Impl(ServerOptions o, Inbox& i, Counters& c, WebhookHandler w, AdminHandler a)
        : options(std::move(o)),
          inbox(i),
          counters(c),
          webhooks(std::move(w)),
          admin(std::move(a)),
          write_keys(std::make_shared<const WriteKeys>(options.write_keys)),
          ioc(std::max(1, options.threads)),
          acceptor(net::make_strand(ioc)) {}

    void accept();

    ServerOptions options;
    Inbox& inbox;
    Counters& counters;
    WebhookHandler webhooks;
    AdminHandler admin;
    // Swapped as a whole by set_write_keys (a reload); each request reads one consistent set.
    std::atomic<std::shared_ptr<const WriteKeys>> write_keys;
    net::io_context ioc;
    tcp::acceptor acceptor;
    // Plugin calls and store reads block; keep them off the I/O threads.
    net::thread_pool blocking_pool{2};
    std::vector<std::thread> threads;
    std::atomic<bool> ready{false}, stopping{false}, stopped{false};
    std::atomic<int> in_flight{0};  // requests read and not yet answered
};

namespace {

// What a route accepts as body, decided from the request line before the body is read.
std::size_t body_limit(const ServerOptions& o, std::string_view path) {
    if (path == "/v1/batch" || path == "/v1/import") return o.max_batch_bytes;
    if (path.starts_with("/webhooks/") || path.starts_with("/admin/")) return o.max_webhook_bytes;
    if (path.starts_with("/v1/")) return o.max_event_bytes;
    return 0;
}

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, Server::Impl& server)
        : stream_(std::move(socket)), server_(server) {}

    void run() {
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::read_header, shared_from_this()));
    }

  private:
    using Response = http::response<http::string_body>;

    void read_header() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
        // The largest any route accepts: the parser refuses a larger Content-Length while
        // reading the header already. The route's own limit is applied once it is known.
        parser_->body_limit(
            std::max({server_.options.max_batch_bytes, server_.options.max_event_bytes,
                      server_.options.max_webhook_bytes}));
        // One deadline for the whole request, from now: trickling bytes does not extend it.
        stream_.expires_after(server_.options.read_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    }

    void on_header(beast::error_code ec, std::size_t) {
        if (ec == http::error::header_limit) {
            ++server_.counters.bad_requests;
            return reply(http::status::request_header_fields_too_large, "text/plain",
                         "request headers too large\n", true);
        }
        if (ec == http::error::body_limit) {
            ++server_.counters.bad_requests;
            return reply(http::status::bad_request, "application/json",
                         R"({"success":false,"error":"request body too large"})", true);
        }
        if (ec) return close();  // end of stream, timeout, reset, or bad HTTP: nothing to answer
        auto& req = parser_->get();
        std::string_view target(req.target().data(), req.target().size());
        path_ = std::string(target.substr(0, target.find('?')));
        const auto limit = body_limit(server_.options, path_);
        if (req.has_content_length() && parser_->content_length().value_or(0) > limit) {
            ++server_.counters.bad_requests;
            // Segment answers 400 to oversized events and batches; the body is not read.
            return reply(http::status::bad_request, "application/json",
                         R"({"success":false,"error":"request body larger than )" +
                             std::to_string(limit / 1024) + R"( KB"})",
                         true);
        }
        parser_->body_limit(limit);
        if (beast::iequals(req[http::field::expect], "100-continue")) {
            // curl and others wait (up to a second) for this before sending a large body.
            static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
            net::async_write(stream_, net::buffer(cont),
                             [self = shared_from_this()](beast::error_code e, std::size_t) {
                                 if (e) return self->close();
                                 self->read_body();
                             });
            return;
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_body, shared_from_this()));
    }

    void on_body(beast::error_code ec, std::size_t) {
        if (ec == http::error::body_limit) {
            ++server_.counters.bad_requests;
            return reply(http::status::bad_request, "application/json",
                         R"({"success":false,"error":"request body too large"})", true);
        }
        if (ec) return close();
        ++server_.counters.requests;
        ++server_.in_flight;
        answered_ = false;
        read_at_ = std::chrono::steady_clock::now();
        handle(parser_->release());
    }

    void handle(http::request<http::string_body> req) {
        keep_alive_ = req.keep_alive();
        version_ = req.version();
        const auto method = req.method();
        if (path_ == "/healthz" || path_ == "/readyz") {
            if (method != http::verb::get && method != http::verb::head)
                return finish(http::status::method_not_allowed, "text/plain", "use GET\n");
            if (path_ == "/healthz") return finish(http::status::ok, "text/plain", "ok\n");
            const bool ready = server_.ready && !server_.stopping;
            return finish(ready ? http::status::ok : http::status::service_unavailable,
                          "text/plain", ready ? "ready\n" : "not ready\n");
        }
        if (path_.starts_with("/webhooks/")) return webhook(std::move(req));
        if (path_.starts_with("/admin/") || path_ == "/metrics") return admin(std::move(req));
        if (path_.starts_with("/v1/")) {
            std::string route = path_.substr(4);
            if (!route.empty() && route.back() == '/') route.pop_back();
            if (route == "import") route = "batch";  // Segment's older name for /v1/batch
            if (route != "batch" && !is_segment_type_route(route))
                return finish(http::status::not_found, "application/json",
                              R"({"success":false,"error":"no such endpoint"})");
            if (method != http::verb::post)
                return finish(http::status::method_not_allowed, "application/json",
                              R"({"success":false,"error":"use POST"})");
            return track(route, req);
        }
        finish(http::status::not_found, "text/plain", "not found\n");
    }

    static bool is_segment_type_route(std::string_view r) {
        return r == "identify" || r == "track" || r == "page" || r == "screen" || r == "group" ||
               r == "alias";
    }

    void track(const std::string& route, const http::request<http::string_body>& req) {
        auto auth = req[http::field::authorization];
        const auto keys = server_.write_keys.load();
        auto outcome =
            handle_tracking(route, req.body(), std::string_view(auth.data(), auth.size()),
                            server_.options, *keys, std::chrono::system_clock::now());
        if (auto* r = std::get_if<ImmediateReply>(&outcome)) {
            if (r->status == 401)
                ++server_.counters.unauthorized;
            else
                ++server_.counters.bad_requests;
            return finish(static_cast<http::status>(r->status), "application/json", r->body);
        }
        auto& entries = std::get<AcceptedEvents>(outcome).entries;
        std::size_t n = 0;
        for (const auto& e : entries) n += e.events;
        auto self = shared_from_this();
        auto admitted = server_.inbox.submit(std::move(entries), [self, n](bool committed) {
            // On the inbox's writer thread: hand the answer back to this connection's strand.
            net::post(self->stream_.get_executor(), [self, n, committed] {
                if (committed) {
                    self->server_.counters.events_accepted += n;
                    self->server_.counters.observe_latency(
                        std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - self->read_at_));
                    self->finish_accepted();
                } else {
                    ++self->server_.counters.server_errors;
                    self->finish(http::status::service_unavailable, "application/json",
                                 R"({"success":false,"error":"could not store the events"})");
                }
            });
        });
        if (admitted == Inbox::Admit::queued) return;
        if (admitted == Inbox::Admit::full) {
            ++server_.counters.throttled;
            const auto secs = std::to_string(server_.options.retry_after_seconds);
            extra_ = {{"Retry-After", secs}, {"X-RateLimit-Reset", secs}};
            return finish(http::status::too_many_requests, "application/json",
                          R"({"success":false,"error":"too many events queued; retry later"})");
        }
        ++server_.counters.server_errors;
        finish(http::status::service_unavailable, "application/json",
               R"({"success":false,"error":"the hub is stopping"})");
    }

    plugin_host::WebhookRequest to_plain(http::request<http::string_body>& req, std::string path) {
        plugin_host::WebhookRequest wr;
        wr.method = std::string(req.method_string());
        std::string_view target(req.target().data(), req.target().size());
        wr.path = std::move(path);
        if (auto q = target.find('?'); q != std::string_view::npos)
            wr.query = std::string(target.substr(q + 1));
        wr.body = std::move(req.body());
        beast::error_code ec;
        auto remote = stream_.socket().remote_endpoint(ec);
        if (!ec) wr.remote_address = remote.address().to_string();
        for (const auto& f : req)
            wr.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        return wr;
    }

    // Runs `work` on the blocking pool and answers with the reply it returns.
    template <class Work>
    void answer_from_pool(Work work) {
        auto self = shared_from_this();
        net::post(server_.blocking_pool, [self, work = std::move(work)]() mutable {
            WebhookReply reply;
            try {
                reply = work();
            } catch (...) {
                reply = WebhookReply{500, "text/plain", "internal error\n"};
            }
            net::post(self->stream_.get_executor(), [self, reply = std::move(reply)] {
                if (reply.status >= 500) ++self->server_.counters.server_errors;
                self->extra_ = reply.headers;
                self->finish(static_cast<http::status>(reply.status), reply.content_type,
                             reply.body);
            });
        });
    }

    void webhook(http::request<http::string_body> req) {
        ++server_.counters.webhook_requests;
        // /webhooks/<instance>/<rest>
        std::string_view rest = std::string_view(path_).substr(10);
        std::string instance(rest.substr(0, rest.find('/')));
        if (instance.empty() || !server_.webhooks)
            return finish(http::status::not_found, "text/plain", "no such webhook\n");
        // As the plugin ABI promises: the part after the instance's prefix ("/<rest>" or "").
        auto wr = to_plain(req, std::string(rest.substr(instance.size())));
        answer_from_pool([self = shared_from_this(), instance, wr = std::move(wr)] {
            auto reply = self->server_.webhooks(instance, wr);
            return reply ? std::move(*reply) : WebhookReply{404, "text/plain", "no such webhook\n"};
        });
    }

    void admin(http::request<http::string_body> req) {
        ++server_.counters.admin_requests;
        if (!server_.admin)
            return finish(
                http::status::not_found, "application/json",
                R"j({"error":{"code":"not_enabled","message":"the admin API is not enabled (hub.json admin_api)"}})j");
        auto r = to_plain(req, path_);
        answer_from_pool(
            [self = shared_from_this(), r = std::move(r)] { return self->server_.admin(r); });
    }

    // The answer to a request that was read (counted in in_flight).
    void finish(http::status status, const std::string& type, std::string body) {
        if (answered_) return;
        answered_ = true;
        respond(status, type, std::move(body), !keep_alive_ || server_.stopping, true);
    }

    // 200 {"success":true}, the answer to nearly every tracking request. Serialized once: in the
    // profile of single-event requests, building and serializing a beast response cost more than
    // anything else the I/O threads do but the JSON. The same bytes beast writes for HTTP/1.1
    // keep-alive; other cases take the general path.
    void finish_accepted() {
        if (version_ != 11 || !keep_alive_ || server_.stopping || !extra_.empty())
            return finish(http::status::ok, "application/json", R"({"success":true})");
        if (answered_) return;
        answered_ = true;
        static const std::string accepted =
            "HTTP/1.1 200 OK\r\nServer: cdphub\r\nContent-Type: application/json\r\n"
            "Content-Length: 16\r\n\r\n{\"success\":true}";
        stream_.expires_after(server_.options.write_timeout);
        net::async_write(stream_, net::buffer(accepted),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->written(ec, false, true);
                         });
    }

    // The answer to a request that could not be read completely: always closes.
    void reply(http::status status, const std::string& type, std::string body, bool close_after) {
        version_ = 11;
        respond(status, type, std::move(body), close_after, false);
    }

    void respond(http::status status, const std::string& type, std::string body, bool close_after,
                 bool counted) {
        auto res = std::make_shared<Response>(status, version_);
        res->set(http::field::server, "cdphub");
        res->set(http::field::content_type, type);
        for (const auto& [k, v] : extra_) res->set(k, v);
        extra_.clear();
        res->keep_alive(!close_after);
        res->body() = std::move(body);
        res->prepare_payload();
        stream_.expires_after(server_.options.write_timeout);
        http::async_write(
            stream_, *res,
            [self = shared_from_this(), res, close_after, counted](
                beast::error_code ec, std::size_t) { self->written(ec, close_after, counted); });
    }

    void written(beast::error_code ec, bool close_after, bool counted) {
        if (counted) --server_.in_flight;
        if (ec) return close();
        if (close_after) return linger_close();
        read_header();
    }

    // Closing a socket with unread data makes the kernel send a reset, which can destroy the
    // response before the client reads it: stop sending, read and drop what is left for a
    // moment, then close.
    void linger_close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(std::chrono::seconds(2));
        drain_ = std::make_shared<std::array<char, 8192>>();
        drain();
    }
    void drain() {
        stream_.async_read_some(net::buffer(*drain_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (ec) return self->close();
                                    self->drain();
                                });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    Server::Impl& server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::string path_;
    bool keep_alive_ = true;
    bool answered_ = true;
    unsigned version_ = 11;
    std::chrono::steady_clock::time_point read_at_;
    std::vector<std::pair<std::string, std::string>> extra_;
    std::shared_ptr<std::array<char, 8192>> drain_;
};

}  // namespace

void Server::Impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        if (!ec) {
            ++counters.connections;
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Session>(std::move(socket), *this)->run();
        }
        accept();
    });
}

Server::Server(ServerOptions options, Inbox& inbox, Counters& counters, WebhookHandler webhooks,
               AdminHandler admin)
    : impl_(std::make_shared<Impl>(std::move(options), inbox, counters, std::move(webhooks),
                                   std::move(admin))) {}

Server::~Server() {
    stop(std::chrono::milliseconds(0));
}

void Server::start() {
    auto& i = *impl_;
    beast::error_code ec;
    auto address = net::ip::make_address(i.options.address, ec);
    if (ec)
        throw std::runtime_error("ingest API: '" + i.options.address + "' is not an IP address");
    tcp::endpoint ep(address, i.options.port);
    i.acceptor.open(ep.protocol(), ec);
    if (!ec) i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) i.acceptor.bind(ep, ec);
    if (!ec) i.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("ingest API: cannot listen on " + i.options.address + ":" +
                                 std::to_string(i.options.port) + ": " + ec.message());
    i.accept();
    for (int t = 0; t < std::max(1, i.options.threads); ++t)
        i.threads.emplace_back([&i] {
            name_this_thread("cdphub-io");
            i.ioc.run();
        });
    i.ready = true;
}

unsigned short Server::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Server::set_write_keys(WriteKeys keys) {
    impl_->write_keys.store(std::make_shared<const WriteKeys>(std::move(keys)));
}

void Server::stop(std::chrono::milliseconds grace) {
    auto& i = *impl_;
    if (i.stopped.exchange(true)) return;
    i.stopping = true;
    i.ready = false;
    net::post(i.acceptor.get_executor(), [&i] {
        beast::error_code ec;
        i.acceptor.close(ec);
    });
    const auto until = std::chrono::steady_clock::now() + grace;
    while (i.in_flight.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    i.blocking_pool.join();
    i.ioc.stop();
    for (auto& t : i.threads)
        if (t.joinable()) t.join();
    // Runs the completions of anything still queued (they post into the stopped io_context,
    // whose destruction then releases the connections), so nothing outlives the server.
    i.inbox.close();
}

}  // namespace cdphub::server

#include "support/http_test_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace cdphub::test {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::string_view to_std(beast::string_view s) {
    return {s.data(), s.size()};
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequals(n, name)) return v;
    }
    return {};
}

bool HttpRequest::has_header(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return iequals(h.first, name); });
}

std::string_view HttpRequest::path() const {
    return std::string_view(target).substr(0, target.find('?'));
}

std::string_view HttpRequest::query() const {
    const size_t q = target.find('?');
    return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", std::move(content_type));
    r.body = std::move(body);
    return r;
}

HttpResponse HttpResponse::json(int status, std::string body) {
    return text(status, std::move(body), "application/json");
}

namespace {

// What the connections share: the handler and the record. Kept apart from the io machinery so
// that sessions can reach it without seeing the server's private parts.
class Core {
  public:
    Core(HttpHandler h, HttpTestServerOptions o)
        : options(o), handler_(std::make_shared<const HttpHandler>(std::move(h))) {}

    HttpResponse handle(const HttpRequest& request) {
        ++handled_;
        std::shared_ptr<const HttpHandler> h;
        {
            std::lock_guard lock(mutex_);
            if (options.record_requests) recorded_.push_back(request);
            h = handler_;
        }
        if (!*h) return HttpResponse{};
        // A failing assertion helper or a bug in a simulator should show up as a clear 500 in
        // the test, not as a dead server thread.
        try {
            return (*h)(request);
        } catch (const std::exception& e) {
            return HttpResponse::text(500, std::string("test handler threw: ") + e.what());
        } catch (...) {
            return HttpResponse::text(500, "test handler threw");
        }
    }

    void set_handler(HttpHandler handler) {
        auto h = std::make_shared<const HttpHandler>(std::move(handler));
        std::lock_guard lock(mutex_);
        handler_ = std::move(h);
    }

    std::vector<HttpRequest> requests() const {
        std::lock_guard lock(mutex_);
        return recorded_;
    }

    void clear_requests() {
        std::lock_guard lock(mutex_);
        recorded_.clear();
    }

    size_t handled() const { return handled_; }

    const HttpTestServerOptions options;
    std::atomic<uint64_t> connections{0};

  private:
    mutable std::mutex mutex_;
    // Swapped whole, so a call already running keeps the handler it started with.
    std::shared_ptr<const HttpHandler> handler_;
    std::vector<HttpRequest> recorded_;
    std::atomic<size_t> handled_{0};
};

// One TCP connection: read a request, answer it (perhaps late, slowly, or not at all), repeat
// while keep-alive holds. Owned by the completion handlers it has pending, so it lives exactly as
// long as it has work; it never touches the server after the io_context stops.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, Core* server, uint64_t id)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server), id_(id) {}

    void read() {
        parser_.emplace();
        parser_->header_limit(64 * 1024);
        parser_->body_limit(server_->options.max_body_bytes);
        http::async_read_header(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
    }

  private:
    void on_header(error_code ec) {
        if (ec) return close();
        // Clients that ask to send their body only once the server agrees would otherwise stall.
        if (iequals(to_std(parser_->get()[http::field::expect]), "100-continue")) {
            auto self = shared_from_this();
            auto interim = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
            net::async_write(socket_, net::buffer(*interim),
                             [self, interim](error_code ec2, size_t) {
                                 if (ec2) return self->close();
                                 self->read_body();
                             });
            return;
        }
        read_body();
    }

    void read_body() {
        http::async_read(socket_, buffer_, *parser_,
                         [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        if (ec) return close();
        http::request<http::string_body> msg = parser_->release();
        HttpRequest request;
        request.method = std::string(msg.method_string());
        request.target = std::string(msg.target());
        for (const auto& field : msg) {
            request.headers.emplace_back(std::string(field.name_string()),
                                         std::string(field.value()));
        }
        request.body = std::move(msg.body());
        request.connection = id_;
        keep_alive_ = msg.keep_alive();
        head_ = msg.method() == http::verb::head;

        response_ = server_->handle(request);
        if (response_.delay.count() > 0) {
            timer_.expires_after(response_.delay);
            timer_.async_wait([self = shared_from_this()](error_code ec2) {
                if (!ec2) self->respond();
            });
        } else {
            respond();
        }
    }

    void respond() {
        if (response_.close_without_answer) return close();
        http::response<http::string_body> msg;
        msg.version(11);
        msg.result(static_cast<unsigned>(response_.status));
        for (const auto& [name, value] : response_.headers) msg.insert(name, value);
        if (!keep_alive_) msg.keep_alive(false);
        close_after_ = !msg.keep_alive();
        if (response_.chunked) {
            msg.chunked(true);
        } else {
            // A HEAD answer announces the length of the body it does not carry.
            msg.content_length(response_.body.size());
        }

        if (response_.chunk_bytes == 0 && !head_) {
            msg.body() = std::move(response_.body);
            message_ = std::move(msg);
            http::async_write(
                socket_, *message_,
                [self = shared_from_this()](error_code ec, size_t) { self->after_write(ec); });
            return;
        }
        // Headers alone first; the body follows in pieces (or not at all for HEAD).
        head_text_.clear();
        head_text_ += "HTTP/1.1 " + std::to_string(response_.status) + " " +
                      std::string(msg.reason()) + "\r\n";
        for (const auto& field : msg) {
            head_text_ +=
                std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
        }
        head_text_ += "\r\n";
        net::async_write(socket_, net::buffer(head_text_),
                         [self = shared_from_this()](error_code ec, size_t) {
                             if (ec) return self->close();
                             if (self->head_) return self->after_write({});
                             self->write_piece(0);
                         });
    }

    // Writes the body from `offset` on, one piece at a time, then (if chunked) the last chunk.
    void write_piece(size_t offset) {
        const std::string& body = response_.body;
        const bool done = offset >= body.size();
        if (done && !response_.chunked) return after_write({});
        size_t next = body.size();
        if (done) {
            piece_ = "0\r\n\r\n";
        } else {
            const size_t n =
                std::min(std::max<size_t>(response_.chunk_bytes, 1), body.size() - offset);
            next = offset + n;
            piece_.assign(body, offset, n);
            if (response_.chunked) {
                std::ostringstream size;
                size << std::hex << n;
                piece_ = size.str() + "\r\n" + piece_ + "\r\n";
            }
        }
        net::async_write(socket_, net::buffer(piece_),
                         [self = shared_from_this(), done, next](error_code ec, size_t) {
                             if (ec) return self->close();
                             if (done) return self->after_write({});
                             if (next >= self->response_.body.size())
                                 return self->write_piece(next);
                             self->timer_.expires_after(self->response_.chunk_interval);
                             self->timer_.async_wait([self, next](error_code ec2) {
                                 if (!ec2) self->write_piece(next);
                             });
                         });
    }

    void after_write(error_code ec) {
        message_.reset();
        if (ec || close_after_) return close();
        read();
    }

    void close() {
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    tcp::socket socket_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::string_body>> message_;
    std::string head_text_;
    std::string piece_;
    HttpResponse response_;
    Core* server_;
    uint64_t id_;
    bool keep_alive_ = true;
    bool head_ = false;
    bool close_after_ = false;
};

}  // namespace

struct HttpTestServer::Impl {
    Impl(HttpHandler h, HttpTestServerOptions o) : core(std::move(h), o) {}

    void accept() {
        // Each connection gets its own strand, so with several threads a session's handlers
        // never run concurrently.
        acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted) return;
            if (!ec) {
                const uint64_t id = ++core.connections;
                std::make_shared<Session>(std::move(socket), &core, id)->read();
            }
            accept();
        });
    }

    Core core;
    // Destroyed in reverse: the threads are joined first (in ~HttpTestServer), then the acceptor
    // goes, then the io_context, which destroys the sessions still waiting in it.
    net::io_context io;
    tcp::acceptor acceptor{io};
    std::vector<std::thread> threads;
    uint16_t port = 0;
};

HttpTestServer::HttpTestServer(HttpHandler handler, HttpTestServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), options)) {
    const tcp::endpoint endpoint(net::ip::address_v4::loopback(), 0);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen(net::socket_base::max_listen_connections);
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
    const size_t n = std::max<size_t>(1, options.threads);
    for (size_t i = 0; i < n; ++i) impl_->threads.emplace_back([io = &impl_->io] { io->run(); });
}

HttpTestServer::~HttpTestServer() {
    impl_->io.stop();
    for (auto& t : impl_->threads) t.join();
}

uint16_t HttpTestServer::port() const {
    return impl_->port;
}

std::string HttpTestServer::base_url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::string HttpTestServer::url(std::string_view target) const {
    return base_url() + std::string(target);
}

void HttpTestServer::set_handler(HttpHandler handler) {
    impl_->core.set_handler(std::move(handler));
}

std::vector<HttpRequest> HttpTestServer::requests() const {
    return impl_->core.requests();
}

void HttpTestServer::clear_requests() {
    impl_->core.clear_requests();
}

size_t HttpTestServer::request_count() const {
    return impl_->core.handled();
}

size_t HttpTestServer::connection_count() const {
    return impl_->core.connections;
}

}  // namespace cdphub::test

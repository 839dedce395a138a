// cdphub C++ SDK: a header-only layer over plugin.h for connector authors.
//
// It is compiled into the plugin, never into the hub, so the plugin's compiler and standard
// library never meet the hub's: only the C ABI of plugin.h crosses the boundary. Requires C++17
// and nlohmann/json (header-only).
//
// A connector is a class deriving from cdphub::Source and/or cdphub::Destination, with
//   - a constructor  MyConnector(cdphub::Host& host, const nlohmann::json& config)
//   - a static       cdphub::PluginInfo info()
// and one line in one .cpp file:  CDPHUB_PLUGIN(MyConnector)
//
// Throw cdphub::AuthError, RetryableError, RateLimitedError, ConfigError or FatalError to report
// a failure; any other exception becomes a fatal status with its message. Nothing ever escapes
// into the hub.
#ifndef CDPHUB_SDK_HPP
#define CDPHUB_SDK_HPP

#include <cdphub/plugin.h>
#include <cdphub/json_depth.hpp>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub {

using json = nlohmann::json;

// Parses JSON text from outside the hub (a vendor's answer, a webhook body, a file's content).
// Text that is not JSON, and JSON nested deeper than json_text::kMaxDepth (which would overflow
// the stack of whatever copies or dumps it), both come back discarded (is_discarded()).
inline json parse_untrusted_json(std::string_view text) {
    if (json_text::exceeds_depth(text)) return json(json::value_t::discarded);
    return json::parse(text.begin(), text.end(), nullptr, false);
}

enum class Status : int32_t {
    ok = CDPHUB_OK,
    retryable = CDPHUB_RETRYABLE,
    rate_limited = CDPHUB_RATE_LIMITED,
    auth_error = CDPHUB_AUTH_ERROR,
    config_error = CDPHUB_CONFIG_ERROR,
    invalid_record = CDPHUB_INVALID_RECORD,
    fatal = CDPHUB_FATAL,
    cancelled = CDPHUB_CANCELLED,
    unsupported = CDPHUB_UNSUPPORTED,
};

enum class LogLevel : int32_t {
    trace = CDPHUB_LOG_TRACE,
    debug = CDPHUB_LOG_DEBUG,
    info = CDPHUB_LOG_INFO,
    warn = CDPHUB_LOG_WARN,
    error = CDPHUB_LOG_ERROR,
};

// ---- Errors: throw these; the export layer turns them into statuses. --------------------------

class Error : public std::runtime_error {
  public:
    Error(Status status, const std::string& message, int64_t retry_after_ms = -1)
        : std::runtime_error(message), status_(status), retry_after_ms_(retry_after_ms) {}
    Status status() const noexcept { return status_; }
    int64_t retry_after_ms() const noexcept { return retry_after_ms_; }

  private:
    Status status_;
    int64_t retry_after_ms_;
};

struct RetryableError : Error {
    explicit RetryableError(const std::string& m, int64_t retry_after_ms = -1)
        : Error(Status::retryable, m, retry_after_ms) {}
};
struct RateLimitedError : Error {
    explicit RateLimitedError(const std::string& m, int64_t retry_after_ms = -1)
        : Error(Status::rate_limited, m, retry_after_ms) {}
};
struct AuthError : Error {
    explicit AuthError(const std::string& m) : Error(Status::auth_error, m) {}
};
struct ConfigError : Error {
    explicit ConfigError(const std::string& m) : Error(Status::config_error, m) {}
};
struct InvalidRecordError : Error {
    explicit InvalidRecordError(const std::string& m) : Error(Status::invalid_record, m) {}
};
struct FatalError : Error {
    explicit FatalError(const std::string& m) : Error(Status::fatal, m) {}
};
struct CancelledError : Error {
    CancelledError() : Error(Status::cancelled, "cancelled by the hub") {}
};
struct UnsupportedError : Error {
    explicit UnsupportedError(const std::string& m) : Error(Status::unsupported, m) {}
};
// A failure the hub itself reported (from emit or http): the hub already holds the details, so
// the export layer passes the status on without overwriting the hub's message.
struct ReportedError : Error {
    explicit ReportedError(Status s) : Error(s, "reported by the hub") {}
};

namespace detail {
inline cdphub_string str(std::string_view s) noexcept {
    return cdphub_string{s.data(), s.size()};
}
inline std::string_view view(cdphub_string s) noexcept {
    return s.data == nullptr ? std::string_view{} : std::string_view{s.data, s.size};
}
inline char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}
// Maps a status from the hub to a known one (unknown values are fatal, as plugin.h promises).
inline Status known_status(cdphub_status s) noexcept {
    return (s >= CDPHUB_OK && s <= CDPHUB_UNSUPPORTED) ? static_cast<Status>(s) : Status::fatal;
}
}  // namespace detail

// ---- HTTP -------------------------------------------------------------------------------------

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    uint32_t timeout_ms = 0;    // 0: the hub's default
    uint32_t max_attempts = 0;  // 0: the hub's default (only with retry_safe)
    bool retry_safe = false;    // the hub may repeat it on 429/503/connection errors
    bool rate_limited = true;   // counts against the connector's rate limit

    HttpRequest& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

// An HTTP answer owned by the hub; freed when this object goes.
class HttpResponse {
  public:
    HttpResponse(const cdphub_host_api* api, cdphub_http_response* r) noexcept : api_(api), r_(r) {}
    HttpResponse(HttpResponse&& o) noexcept : api_(o.api_), r_(std::exchange(o.r_, nullptr)) {}
    HttpResponse& operator=(HttpResponse&& o) noexcept {
        if (this != &o) {
            reset();
            api_ = o.api_;
            r_ = std::exchange(o.r_, nullptr);
        }
        return *this;
    }
    HttpResponse(const HttpResponse&) = delete;
    HttpResponse& operator=(const HttpResponse&) = delete;
    ~HttpResponse() { reset(); }

    int status() const { return api_->http_status(r_); }
    std::string_view body() const { return detail::view(api_->http_body(r_)); }
    std::string_view header(std::string_view name) const {
        return detail::view(api_->http_header(r_, detail::str(name)));
    }
    int64_t retry_after_ms() const { return api_->http_retry_after_ms(r_); }
    bool ok() const { return status() >= 200 && status() < 300; }
    // Parses the body; a body that is not JSON becomes a RetryableError that quotes its start,
    // since vendors answer HTML error pages during outages.
    // An answer nested deeper than json_text::kMaxDepth is refused the same way, unparsed.
    json json_body() const {
        auto b = body();
        if (json_text::exceeds_depth(b))
            throw RetryableError("the answer (HTTP " + std::to_string(status()) +
                                 ") nests JSON deeper than " +
                                 std::to_string(json_text::kMaxDepth) + " levels");
        json j = json::parse(b.begin(), b.end(), nullptr, false);
        if (j.is_discarded())
            throw RetryableError("expected a JSON answer (HTTP " + std::to_string(status()) +
                                 "), got: " + std::string(b.substr(0, 200)));
        return j;
    }

  private:
    void reset() noexcept {
        if (r_ != nullptr) api_->http_response_free(r_);
        r_ = nullptr;
    }
    const cdphub_host_api* api_;
    cdphub_http_response* r_;
};

// ---- Host services ----------------------------------------------------------------------------

// The hub's services for one connector instance, valid for the instance's lifetime.
class Host {
  public:
    Host(const cdphub_host_api* api, cdphub_context* ctx) noexcept : api_(api), ctx_(ctx) {}

    void log(LogLevel level, std::string_view message) const {
        api_->log(ctx_, static_cast<int32_t>(level), detail::str(message));
    }
    void debug(std::string_view m) const { log(LogLevel::debug, m); }
    void info(std::string_view m) const { log(LogLevel::info, m); }
    void warn(std::string_view m) const { log(LogLevel::warn, m); }
    void error(std::string_view m) const { log(LogLevel::error, m); }

    int64_t now_ms() const { return api_->now_ms(ctx_); }

    const cdphub_host_api* api() const noexcept { return api_; }
    cdphub_context* context() const noexcept { return ctx_; }

    // Minor version of the hub's ABI. Before calling a service added after 1.0, check it with
    // CDPHUB_HAS_FIELD(api(), cdphub_host_api, name).
    uint32_t abi_minor() const noexcept { return api_->abi_minor; }

  private:
    const cdphub_host_api* api_;
    cdphub_context* ctx_;
};

// One call from the hub (check, read, write, receive): its services and its results.
class Call {
  public:
    Call(const Host& host, cdphub_call* call) noexcept : host_(host), call_(call) {}

    const Host& host() const noexcept { return host_; }
    cdphub_call* raw() const noexcept { return call_; }

    bool cancelled() const { return api()->cancelled(call_) != 0; }
    void throw_if_cancelled() const {
        if (cancelled()) throw CancelledError();
    }
    // Sleeps; throws CancelledError if the hub cancels the call meanwhile.
    void sleep_ms(int64_t ms) const {
        if (api()->sleep_ms(call_, ms) != 0) throw CancelledError();
    }

    // Sources: the last committed cursor ("" if none), and the way to hand records over.
    std::string cursor() const { return std::string(detail::view(api()->cursor(call_))); }
    // The cursor parsed; null if there is none. A cursor that is not JSON is never treated as
    // "start over" silently: that would re-read everything unnoticed.
    json cursor_json() const {
        auto c = cursor();
        if (c.empty()) return json();
        json j = json_text::exceeds_depth(c) ? json(json::value_t::discarded)
                                             : json::parse(c, nullptr, false);
        if (j.is_discarded())
            throw FatalError("the stored cursor is not valid JSON: " + c.substr(0, 200) +
                             "; reset this connector's cursor");
        return j;
    }
    // Stores `records` (a JSON array of canonical records) and, with them, `cursor` (JSON, or
    // null to keep the current one). Returns once both are durable; throws if the hub says stop.
    void emit(const json& records, const json& cursor = json()) const {
        emit_raw(records.dump(), cursor.is_null() ? std::string() : cursor.dump());
    }
    void emit_raw(std::string_view records_json, std::string_view cursor_json) const {
        auto s = api()->emit(call_, detail::str(records_json), detail::str(cursor_json));
        if (s != CDPHUB_OK) throw ReportedError(detail::known_status(s));
    }

    std::string secret(std::string_view name) const {
        cdphub_string v{nullptr, 0};
        auto s = api()->secret(call_, detail::str(name), &v);
        if (s != CDPHUB_OK)
            throw ConfigError("secret '" + std::string(name) +
                              "' is not available to this instance");
        return std::string(detail::view(v));
    }

    // Performs an HTTP request through the hub. Any HTTP status comes back as a response; a
    // network failure throws RetryableError, a cancellation CancelledError.
    HttpResponse http(const HttpRequest& req) const {
        std::vector<cdphub_http_header> headers;
        headers.reserve(req.headers.size());
        for (const auto& [n, v] : req.headers) headers.push_back({detail::str(n), detail::str(v)});
        cdphub_http_request r{};
        r.struct_size = sizeof(r);
        r.flags = 0;
        if (req.retry_safe) r.flags |= static_cast<uint32_t>(CDPHUB_HTTP_RETRY_SAFE);
        if (!req.rate_limited) r.flags |= static_cast<uint32_t>(CDPHUB_HTTP_NO_RATE_LIMIT);
        r.method = detail::str(req.method);
        r.url = detail::str(req.url);
        r.headers = headers.data();
        r.header_count = headers.size();
        r.body = detail::str(req.body);
        r.timeout_ms = req.timeout_ms;
        r.max_attempts = req.max_attempts;
        cdphub_http_response* out = nullptr;
        auto s = api()->http(call_, &r, &out);
        if (s == CDPHUB_OK && out != nullptr) return HttpResponse(api(), out);
        if (out != nullptr) api()->http_response_free(out);
        if (s == CDPHUB_OK) throw FatalError("the hub returned no HTTP response");
        // The hub has already explained the failure (set_status); keep its message.
        throw ReportedError(detail::known_status(s));
    }

    // Destinations: outcome of one record of the batch.
    void report_record(size_t index, Status status, std::string_view message = {},
                       int64_t retry_after_ms = -1) const {
        api()->report_record(call_, index, static_cast<cdphub_status>(status), retry_after_ms,
                             detail::str(message));
    }

    // Webhooks: the answer to the vendor.
    void respond(int http_status, std::string_view content_type, std::string_view body) const {
        api()->respond(call_, http_status, detail::str(content_type), detail::str(body));
    }

  private:
    const cdphub_host_api* api() const noexcept { return host_.api(); }
    const Host& host_;
    cdphub_call* call_;
};

struct WebhookRequest {
    std::string_view method, path, query, body, remote_address;
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    // Case-insensitive (ASCII) lookup of the first header with this name; empty if absent.
    std::string_view header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (detail::iequals(n, name)) return v;
        return {};
    }
};

// ---- Connector base classes ------------------------------------------------------------------

enum class Kind : uint32_t {
    source = CDPHUB_KIND_SOURCE,
    destination = CDPHUB_KIND_DESTINATION,
    both = CDPHUB_KIND_SOURCE | CDPHUB_KIND_DESTINATION,
};
enum class Category : uint32_t {
    other = CDPHUB_CATEGORY_OTHER,
    crm = CDPHUB_CATEGORY_CRM,
    esp = CDPHUB_CATEGORY_ESP,
    dmp = CDPHUB_CATEGORY_DMP,
    pos = CDPHUB_CATEGORY_POS,
    sfmc = CDPHUB_CATEGORY_SFMC,
};

// What the plugin tells the hub about itself (copied into the descriptor once, at load).
struct PluginInfo {
    std::string id;
    std::string version;
    std::string name;
    Kind kind = Kind::source;
    Category category = Category::other;
    json config_spec = json::object();   // JSON Schema of the config
    json capabilities = json::object();  // see cdphub_plugin_descriptor.capabilities
};

class Connector {
  public:
    explicit Connector(Host& host) : host_(host) {}
    virtual ~Connector() = default;
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;

    // Test the connection and credentials; throw an Error describing what is wrong.
    virtual void check(Call& call) = 0;
    // Sources: read from call.cursor() on, handing batches to call.emit().
    virtual void read(Call&) { throw UnsupportedError("this plugin is not a source"); }
    // Destinations: deliver `batch` and report per record with call.report_record().
    virtual void write(Call&, const json&) {
        throw UnsupportedError("this plugin is not a destination");
    }
    // Push sources: handle a webhook.
    virtual void receive(Call&, const WebhookRequest&) {
        throw UnsupportedError("this plugin does not receive webhooks");
    }

  protected:
    Host& host() const noexcept { return host_; }

  private:
    Host& host_;
};

// Derive from Source to pull records, from Destination to push them, from SourceDestination for
// both; the compiler then asks for exactly the functions that kind needs.
class Source : public Connector {
  public:
    using Connector::Connector;
    void read(Call& call) override = 0;
};
class Destination : public Connector {
  public:
    using Connector::Connector;
    void write(Call& call, const json& batch) override = 0;
};
class SourceDestination : public Connector {
  public:
    using Connector::Connector;
    void read(Call& call) override = 0;
    void write(Call& call, const json& batch) override = 0;
};

namespace detail {

inline cdphub_status fail(const cdphub_host_api* api, cdphub_call* call, Status status,
                          int64_t retry_after_ms, std::string_view message) noexcept {
    if (api != nullptr && call != nullptr)
        api->set_status(call, static_cast<cdphub_status>(status), retry_after_ms, str(message));
    return static_cast<cdphub_status>(status);
}

// Runs `f`, turning every exception into a status: nothing unwinds into the hub.
template <class F>
cdphub_status guarded(const cdphub_host_api* api, cdphub_call* call, F&& f) noexcept {
    try {
        f();
        return CDPHUB_OK;
    } catch (const ReportedError& e) {
        return static_cast<cdphub_status>(e.status());
    } catch (const Error& e) {
        return fail(api, call, e.status(), e.retry_after_ms(), e.what());
    } catch (const json::exception& e) {
        return fail(api, call, Status::fatal, -1, std::string("JSON error in plugin: ") + e.what());
    } catch (const std::exception& e) {
        return fail(api, call, Status::fatal, -1, e.what());
    } catch (...) {
        return fail(api, call, Status::fatal, -1, "unknown exception in plugin");
    }
}

// One instance: the host handle the connector keeps a reference to, and the connector.
template <class T>
struct Instance {
    Host host;
    std::unique_ptr<T> connector;
};

template <class T>
struct Exporter {
    static Instance<T>* self(cdphub_instance* p) noexcept {
        return reinterpret_cast<Instance<T>*>(p);
    }

    static cdphub_status create(const cdphub_host_api* api, cdphub_context* ctx, cdphub_call* call,
                                cdphub_string config, cdphub_instance** out) noexcept {
        if (out == nullptr) return CDPHUB_FATAL;
        *out = nullptr;
        return guarded(api, call, [&] {
            auto text = view(config);
            json cfg = text.empty() ? json::object() : json::parse(text.begin(), text.end());
            auto inst = std::make_unique<Instance<T>>(Instance<T>{Host(api, ctx), nullptr});
            try {
                inst->connector = std::make_unique<T>(inst->host, cfg);
            } catch (const json::exception& e) {
                // A config the constructor cannot read (config.at("missing")) is the admin's
                // to fix, not a plugin crash.
                throw ConfigError(std::string("config: ") + e.what());
            }
            // Ownership passes to the hub until destroy() hands it back.
            *out = reinterpret_cast<cdphub_instance*>(inst.release());
        });
    }
    static void destroy(cdphub_instance* p) noexcept {
        // Reclaim ownership; a destructor that throws is swallowed (the hub must go on).
        try {
            std::unique_ptr<Instance<T>> owned(self(p));
        } catch (...) {
        }
    }
    static cdphub_status check(cdphub_instance* p, cdphub_call* c) noexcept {
        auto* s = self(p);
        return guarded(s->host.api(), c, [&] {
            Call call(s->host, c);
            s->connector->check(call);
        });
    }
    static cdphub_status read(cdphub_instance* p, cdphub_call* c) noexcept {
        auto* s = self(p);
        return guarded(s->host.api(), c, [&] {
            Call call(s->host, c);
            s->connector->read(call);
        });
    }
    static cdphub_status write(cdphub_instance* p, cdphub_call* c, cdphub_string batch) noexcept {
        auto* s = self(p);
        return guarded(s->host.api(), c, [&] {
            Call call(s->host, c);
            auto text = view(batch);
            s->connector->write(call, json::parse(text.begin(), text.end()));
        });
    }
    static cdphub_status receive(cdphub_instance* p, cdphub_call* c,
                                 const cdphub_webhook_request* r) noexcept {
        auto* s = self(p);
        return guarded(s->host.api(), c, [&] {
            Call call(s->host, c);
            WebhookRequest req;
            req.method = view(r->method);
            req.path = view(r->path);
            req.query = view(r->query);
            req.body = view(r->body);
            req.remote_address = view(r->remote_address);
            for (size_t i = 0; i < r->header_count; ++i)
                req.headers.emplace_back(view(r->headers[i].name), view(r->headers[i].value));
            s->connector->receive(call, req);
        });
    }

    // Built in place on first use; lives as long as the library is loaded. The descriptor points
    // into its own members, so the object is never copied.
    struct Storage {
        PluginInfo info;
        std::string spec, caps;
        cdphub_plugin_descriptor d{};

        Storage() : info(T::info()), spec(info.config_spec.dump()), caps(info.capabilities.dump()) {
            d.struct_size = sizeof(cdphub_plugin_descriptor);
            d.abi_major = CDPHUB_ABI_MAJOR;
            d.abi_minor = CDPHUB_ABI_MINOR;
            d.kind = static_cast<uint32_t>(info.kind);
            d.category = static_cast<uint32_t>(info.category);
            d.id = info.id.c_str();
            d.version = info.version.c_str();
            d.name = info.name.c_str();
            d.config_spec = spec.c_str();
            d.capabilities = caps.c_str();
            d.create = &create;
            d.destroy = &destroy;
            d.check = &check;
            const bool source = (d.kind & CDPHUB_KIND_SOURCE) != 0;
            d.read = source ? &read : nullptr;
            d.write = (d.kind & CDPHUB_KIND_DESTINATION) != 0 ? &write : nullptr;
            d.receive = info.capabilities.value("webhook", false) ? &receive : nullptr;
        }
        Storage(const Storage&) = delete;
        Storage& operator=(const Storage&) = delete;
    };
    static const cdphub_plugin_descriptor* descriptor(uint32_t host_major) noexcept {
        if (host_major != CDPHUB_ABI_MAJOR) return nullptr;
        try {
            static const Storage storage;
            return &storage.d;
        } catch (...) {
            return nullptr;
        }
    }
};

}  // namespace detail
}  // namespace cdphub

// Exports the entry symbol for connector class T. Use once per plugin, in one .cpp file.
#define CDPHUB_PLUGIN(T)                                                          \
    extern "C" CDPHUB_EXPORT const cdphub_plugin_descriptor* cdphub_plugin_entry( \
        uint32_t host_abi_major, uint32_t /*host_abi_minor*/) {                   \
        return ::cdphub::detail::Exporter<T>::descriptor(host_abi_major);         \
    }

#endif  // CDPHUB_SDK_HPP

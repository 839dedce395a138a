#include "http/client.hpp"

#include "http/rate_limiter.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <random>
#include <thread>

namespace cdphub::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// ---- RAII for libcurl's handles --------------------------------------------------------------

struct EasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct ShareDeleter {
    void operator()(CURLSH* s) const noexcept { curl_share_cleanup(s); }
};
using ShareHandle = std::unique_ptr<CURLSH, ShareDeleter>;

struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct UrlDeleter {
    void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlFree {
    void operator()(char* p) const noexcept { curl_free(p); }
};
using CurlString = std::unique_ptr<char, CurlFree>;

// Idle easy handles kept per client. Each keeps its own live connections, so this bounds the
// sockets an idle connector holds open; more concurrent requests than this still work, their
// surplus handles are simply closed afterwards.
constexpr size_t kMaxIdleHandles = 16;

// Retry-After values beyond this are treated as this (it is far beyond any max_retry_after and
// keeps the millisecond arithmetic away from overflow).
constexpr uint64_t kMaxRetryAfterSeconds = 100'000'000;

// ---- Small text helpers ----------------------------------------------------------------------

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 9110 token characters: what a method or a header name may consist of.
bool is_token(std::string_view s) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               extra.find(c) != std::string_view::npos;
    });
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int parse_int(std::string_view digits) {
    int v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    return v;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (size_t pos = s.find(what); pos != std::string::npos;
         pos = s.find(what, pos + with.size())) {
        s.replace(pos, what.size(), with);
    }
}

// Where a URL's userinfo ("user:password@") sits in `base` (the URL without query and
// fragment): its offset and length including the '@'; length 0 if there is none.
std::pair<size_t, size_t> userinfo_span(std::string_view base) {
    const size_t scheme_end = base.find("://");
    const size_t begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const std::string_view authority = base.substr(begin, base.find('/', begin) - begin);
    const size_t at = authority.rfind('@');
    return {begin, at == std::string_view::npos ? 0 : at + 1};
}

// The parts of a URL that may hold credentials: query, fragment and userinfo.
std::vector<std::string_view> secret_url_parts(std::string_view url) {
    std::vector<std::string_view> parts;
    const size_t query = url.find_first_of("?#");
    if (query != std::string_view::npos && query + 1 < url.size()) {
        parts.push_back(url.substr(query + 1));
    }
    const auto [begin, length] = userinfo_span(url.substr(0, query));
    if (length > 1) parts.push_back(url.substr(begin, length - 1));
    return parts;
}

// libcurl's own messages rarely quote the URL, but make sure nothing secret from it leaks through
// one that does.
std::string scrub(std::string message, std::string_view url) {
    for (std::string_view part : secret_url_parts(url)) replace_all(message, part, "[redacted]");
    return message;
}

// ---- Request validation ----------------------------------------------------------------------

// Why the URL cannot be sent, or empty if it can.
std::string check_url(const std::string& url) {
    if (url.empty()) return "empty URL";
    if (std::any_of(url.begin(), url.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        return "URL contains whitespace or control characters";
    }
    // libcurl forgives "http:///host" as "http://host"; a plugin that builds such a URL has lost
    // its host somewhere, so it is refused rather than guessed at.
    if (const size_t sep = url.find("://");
        sep != std::string::npos && url.size() > sep + 3 && url[sep + 3] == '/') {
        return "URL without host";
    }
    UrlHandle u(curl_url());
    if (!u) throw std::bad_alloc();
    // No CURLU_DEFAULT_SCHEME/GUESS_SCHEME: a relative or scheme-less URL is a plugin bug.
    if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return "not an absolute http(s) URL";
    }
    char* raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) return "URL without scheme";
    CurlString scheme(raw);
    if (!iequals(scheme.get(), "http") && !iequals(scheme.get(), "https")) {
        return "scheme is not http or https";
    }
    raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK) return "URL without host";
    CurlString host(raw);
    if (host == nullptr || *host == '\0') return "URL without host";
    return {};
}

std::string check_request(const Request& r) {
    if (!is_token(r.method)) return "invalid HTTP method";
    // CONNECT sets up a tunnel; it is not a request this client can carry out.
    if (r.method == "CONNECT") return "CONNECT is not supported";
    if (auto problem = check_url(r.url); !problem.empty()) return problem;
    for (const auto& [name, value] : r.headers) {
        if (!is_token(name)) return "invalid header name";
        // A CR or LF would let a value inject headers; never echo the value, it may be a secret.
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            return "header " + name + " has a value with CR, LF or NUL";
        }
    }
    return {};
}

bool has_header(const Headers& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return iequals(h.first, name); });
}

// Whether this request sends a body (and so needs POSTFIELDS rather than a plain GET).
bool sends_body(const Request& r) {
    return !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
}

// RFC 9110 section 9.2.2: methods whose repetition has the same effect as one request.
bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
           method == "PUT" || method == "DELETE";
}

Slist header_list(const Request& r) {
    Slist list;
    auto append = [&](const std::string& line) {
        curl_slist* next = curl_slist_append(list.get(), line.c_str());
        if (next == nullptr) throw std::bad_alloc();
        (void)list.release();  // `next` now owns the old list as its head
        list.reset(next);
    };
    for (const auto& [name, value] : r.headers) {
        // The client frames the body itself; a caller's framing header could contradict it.
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
        // libcurl reads "Name:" as "remove this header"; "Name;" is how to send it empty.
        append(value.empty() ? name + ";" : name + ": " + value);
    }
    // libcurl waits for "100 Continue" before large bodies; many APIs never send it, which would
    // cost a second per request.
    if (!has_header(r.headers, "Expect")) append("Expect:");
    // Without this libcurl labels every body application/x-www-form-urlencoded, which is wrong
    // for the JSON most APIs take; better no label than a wrong one.
    if (sends_body(r) && !has_header(r.headers, "Content-Type")) append("Content-Type:");
    return list;
}

// ---- Waiting ---------------------------------------------------------------------------------

bool is_cancelled(const Control& c) {
    return c.cancelled && c.cancelled();
}

// Waits d through the caller's hook, or really, polling cancellation; false if cancelled.
bool wait_for(const Control& c, milliseconds d) {
    if (c.sleep) return c.sleep(d);
    const auto deadline = steady_clock::now() + d;
    for (;;) {
        if (is_cancelled(c)) return false;
        const auto now = steady_clock::now();
        if (now >= deadline) return true;
        // Slices keep cancellation prompt without a condition variable the caller would have to
        // signal.
        std::this_thread::sleep_for(
            std::min<steady_clock::duration>(deadline - now, milliseconds(20)));
    }
}

// ---- One transfer ----------------------------------------------------------------------------

struct Transfer {
    const Control* control = nullptr;
    Response* response = nullptr;
    size_t max_bytes = 0;
    size_t header_bytes = 0;
    bool too_large = false;
    bool cancelled = false;
    // An exception must not unwind through libcurl's C frames: the callback stores it, aborts
    // the transfer, and it is rethrown once libcurl has returned.
    std::exception_ptr error;
};

// Runs a callback body, turning an exception into an abort (`failed`) with the exception kept.
template <typename R, typename F>
R guarded(Transfer* t, R failed, F&& body) {
    try {
        return body();
    } catch (...) {
        t->error = std::current_exception();
        return failed;
    }
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    return guarded(t, size_t{0}, [&] {
        const size_t n = size * count;
        if (t->response->body.size() + n > t->max_bytes) {
            t->too_large = true;
            return size_t{0};  // anything but n makes libcurl abort with CURLE_WRITE_ERROR
        }
        t->response->body.append(data, n);
        return n;
    });
}

void add_header_line(Headers& headers, std::string_view line) {
    if (line.starts_with("HTTP/")) {
        // A new status line: whatever came before belonged to an interim response (100 Continue,
        // a proxy's CONNECT answer). Only the final response's headers are reported.
        headers.clear();
    } else if (line.empty()) {
        // End of this response's header block.
    } else if (line.front() == ' ' || line.front() == '\t') {
        // Obsolete line folding: the continuation of the previous header's value.
        if (!headers.empty()) {
            headers.back().second += ' ';
            headers.back().second += trim(line);
        }
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
        headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
    }
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    return guarded(t, size_t{0}, [&] {
        const size_t n = size * count;
        // Headers count against the limit too, so a server cannot stream headers for ever.
        t->header_bytes += n;
        if (t->header_bytes > t->max_bytes) {
            t->too_large = true;
            return size_t{0};
        }
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        add_header_line(t->response->headers, line);
        return n;
    });
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return guarded(t, 1, [&] {
        if (!is_cancelled(*t->control)) return 0;
        t->cancelled = true;
        return 1;  // non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK
    });
}

enum class Failure { none, network, timeout, cancelled, too_large, bad_request };

struct Attempt {
    Failure failure = Failure::none;
    CURLcode code = CURLE_OK;
    std::string detail;  // libcurl's description of the failure
    Response response;
};

// Failures that another attempt cannot fix: certificates and local setup problems.
bool transient(CURLcode code) {
    switch (code) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_NOT_BUILT_IN:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_OUT_OF_MEMORY:
        case CURLE_FAILED_INIT:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_UNKNOWN_OPTION:
            return false;
        default:
            return true;
    }
}

ErrorKind kind_of(Failure f) {
    switch (f) {
        case Failure::timeout:
            return ErrorKind::timeout;
        case Failure::cancelled:
            return ErrorKind::cancelled;
        case Failure::bad_request:
            return ErrorKind::bad_request;
        case Failure::too_large:
            return ErrorKind::too_large;
        default:
            return ErrorKind::network;
    }
}

std::string attempts_suffix(int attempts) {
    return attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
}

}  // namespace

// ---- Public helpers --------------------------------------------------------------------------

std::string_view Response::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequals(n, name)) return v;
    }
    return {};
}

std::string redact_url(std::string_view url) {
    const std::string_view base = url.substr(0, url.find_first_of("?#"));
    const auto [begin, length] = userinfo_span(base);
    std::string out(base);
    out.erase(begin, length);
    return out;
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
    value = trim(value);
    if (is_digits(value)) {
        // delta-seconds
        uint64_t seconds = 0;
        for (char c : value) {
            seconds =
                std::min(seconds * 10 + static_cast<uint64_t>(c - '0'), kMaxRetryAfterSeconds);
        }
        return milliseconds(static_cast<int64_t>(seconds) * 1000);
    }
    // IMF-fixdate, the only HTTP-date form senders may generate: "Sun, 06 Nov 1994 08:49:37 GMT".
    static constexpr std::array<std::string_view, 7> days{"Mon", "Tue", "Wed", "Thu",
                                                          "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 12> months{
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (value.size() != 29) return std::nullopt;
    auto at = [&](size_t pos, size_t len) { return value.substr(pos, len); };
    if (std::find(days.begin(), days.end(), at(0, 3)) == days.end()) return std::nullopt;
    if (at(3, 2) != ", " || value[7] != ' ' || value[11] != ' ' || value[16] != ' ' ||
        value[19] != ':' || value[22] != ':' || at(25, 4) != " GMT") {
        return std::nullopt;
    }
    const auto month_it = std::find(months.begin(), months.end(), at(8, 3));
    if (month_it == months.end()) return std::nullopt;
    for (auto [pos, len] : {std::pair{5, 2}, {12, 4}, {17, 2}, {20, 2}, {23, 2}}) {
        if (!is_digits(at(pos, len))) return std::nullopt;
    }
    const std::chrono::year_month_day date{
        std::chrono::year(parse_int(at(12, 4))),
        std::chrono::month(static_cast<unsigned>(month_it - months.begin() + 1)),
        std::chrono::day(static_cast<unsigned>(parse_int(at(5, 2))))};
    const int hh = parse_int(at(17, 2)), mm = parse_int(at(20, 2)), ss = parse_int(at(23, 2));
    // 60 is a leap second, which the grammar allows.
    if (!date.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    const auto when = std::chrono::sys_days(date) + std::chrono::hours(hh) +
                      std::chrono::minutes(mm) + std::chrono::seconds(ss);
    if (when <= now) return milliseconds(0);
    return std::chrono::ceil<milliseconds>(when - now);
}

void global_init() {
    static std::once_flag once;
    // Never paired with curl_global_cleanup: clients may live until exit, and cleanup while any
    // handle exists is undefined.
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// ---- The client ------------------------------------------------------------------------------

struct Client::Impl {
    explicit Impl(ClientOptions o) : options(std::move(o)), limiter(options.rate_limit) {
        share.reset(curl_share_init());
        if (!share) throw std::bad_alloc();
        curl_share_setopt(share.get(), CURLSHOPT_LOCKFUNC, &Impl::lock);
        curl_share_setopt(share.get(), CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
        curl_share_setopt(share.get(), CURLSHOPT_USERDATA, this);
        // DNS answers and TLS sessions are shared between the pooled handles. Connections are
        // not: libcurl does not support sharing its connection cache between concurrent threads,
        // so each pooled handle keeps its own live connections instead.
        curl_share_setopt(share.get(), CURLSHOPT_SHARE, static_cast<long>(CURL_LOCK_DATA_DNS));
        curl_share_setopt(share.get(), CURLSHOPT_SHARE,
                          static_cast<long>(CURL_LOCK_DATA_SSL_SESSION));
    }

    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<Impl*>(user)->locks[static_cast<size_t>(data)].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* user) {
        static_cast<Impl*>(user)->locks[static_cast<size_t>(data)].unlock();
    }

    // Most recently used first, so sequential requests land on the handle whose connection is
    // still open.
    EasyHandle checkout() {
        {
            std::lock_guard lock(pool_mutex);
            if (!idle.empty()) {
                EasyHandle h = std::move(idle.back());
                idle.pop_back();
                return h;
            }
        }
        EasyHandle h(curl_easy_init());
        if (!h) throw std::bad_alloc();
        return h;
    }

    void checkin(EasyHandle h) {
        // Drops every option (and with them the pointers into this call's stack) but keeps the
        // live connections, which is the point of the pool.
        curl_easy_reset(h.get());
        std::lock_guard lock(pool_mutex);
        if (idle.size() < kMaxIdleHandles) idle.push_back(std::move(h));
    }

    milliseconds backoff(int attempts_so_far) {
        const milliseconds base = std::max(options.backoff_base, milliseconds(0));
        const milliseconds max = std::max(options.backoff_max, milliseconds(0));
        // Full jitter over [base, min(max, base * 2^n)]: the spread keeps many clients from
        // retrying in lockstep, the floor keeps a retry from going straight back out.
        milliseconds cap = base;
        for (int i = 0; i < attempts_so_far && cap < max; ++i) cap = cap > max / 2 ? max : cap * 2;
        cap = std::min(cap, max);
        if (base >= cap) return cap;
        thread_local std::mt19937_64 rng{std::random_device{}()};
        std::uniform_int_distribution<int64_t> dist(base.count(), cap.count());
        return milliseconds(dist(rng));
    }

    Attempt attempt(const Request& r, curl_slist* headers, milliseconds timeout,
                    const Control& control) {
        Attempt a;
        Transfer t;
        t.control = &control;
        t.response = &a.response;
        t.max_bytes = options.max_response_bytes;
        EasyHandle h = checkout();
        CURL* c = h.get();
        char errbuf[CURL_ERROR_SIZE] = {};
        const milliseconds connect_timeout = std::min(options.connect_timeout, timeout);

        CURLcode rc = CURLE_OK;
        // curl_easy_setopt is variadic: every value below has exactly the type libcurl expects
        // (long, curl_off_t, pointers).
        auto set = [&](CURLoption option, auto value) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
        };
        set(CURLOPT_SHARE, share.get());
        set(CURLOPT_URL, r.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
        set(CURLOPT_PROTOCOLS_STR, "http,https");
#else
        set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        // Redirects are the plugin's business: following them here could carry its credentials
        // to another host.
        set(CURLOPT_FOLLOWLOCATION, 0L);
        // Signals and threads do not mix; timeouts still work with the threaded resolver.
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
        set(CURLOPT_TCP_KEEPALIVE, 1L);
        // When a reused connection dies before the first byte of the answer, libcurl silently
        // sends the request again on a new one; it cannot tell whether the server acted on it.
        // A request that must not be repeated therefore never rides on a reused connection.
        if (!r.retry_safe && !idempotent(r.method)) set(CURLOPT_FRESH_CONNECT, 1L);
        set(CURLOPT_USERAGENT, options.user_agent.c_str());
        set(CURLOPT_ERRORBUFFER, errbuf);
        if (!has_header(r.headers, "Accept-Encoding")) set(CURLOPT_ACCEPT_ENCODING, "");
        set(CURLOPT_HTTPHEADER, headers);
        if (r.method == "HEAD") {
            set(CURLOPT_NOBODY, 1L);
        } else if (sends_body(r)) {
            set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
            set(CURLOPT_POSTFIELDS, r.body.data());
            if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
        } else {
            set(CURLOPT_HTTPGET, 1L);
            if (r.method != "GET") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
        }
        // Rejects an announced oversized body before any of it arrives; on_body catches the rest.
        set(CURLOPT_MAXFILESIZE_LARGE,
            static_cast<curl_off_t>(std::min<size_t>(options.max_response_bytes,
                                                     std::numeric_limits<curl_off_t>::max())));
        set(CURLOPT_WRITEFUNCTION, &on_body);
        set(CURLOPT_WRITEDATA, &t);
        set(CURLOPT_HEADERFUNCTION, &on_header);
        set(CURLOPT_HEADERDATA, &t);
        if (control.cancelled) {
            set(CURLOPT_XFERINFOFUNCTION, &on_progress);
            set(CURLOPT_XFERINFODATA, &t);
            set(CURLOPT_NOPROGRESS, 0L);
        }

        const auto started = steady_clock::now();
        if (rc == CURLE_OK) rc = curl_easy_perform(c);
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
        counters.total_latency_us += static_cast<uint64_t>(elapsed.count());

        a.code = rc;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.response.status);
        } else {
            a.detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
            if (t.cancelled || rc == CURLE_ABORTED_BY_CALLBACK) {
                a.failure = Failure::cancelled;
            } else if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
                a.failure = Failure::too_large;
            } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                a.failure = Failure::timeout;
            } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
                a.failure = Failure::bad_request;
            } else {
                a.failure = Failure::network;
            }
        }
        checkin(std::move(h));
        if (t.error) std::rethrow_exception(t.error);
        return a;
    }

    void count_status(long status) {
        if (status >= 200 && status < 300) ++counters.status_2xx;
        if (status >= 400 && status < 500) ++counters.status_4xx;
        if (status == 429) ++counters.status_429;
        if (status >= 500 && status < 600) ++counters.status_5xx;
    }

    Result perform(const Request& r, const Control& control) {
        // Everything said about this request names it by method and URL without query string,
        // userinfo or fragment, any of which can carry credentials.
        const std::string where = r.method + " " + redact_url(r.url);
        if (std::string problem = check_request(r); !problem.empty()) {
            return Error{ErrorKind::bad_request, where + ": " + problem + "; not sent", 0};
        }
        const milliseconds timeout = r.timeout.count() > 0 ? r.timeout : options.timeout;
        const int max_attempts =
            r.retry_safe ? std::max(1, r.max_attempts > 0 ? r.max_attempts : options.max_attempts)
                         : 1;
        const Slist headers = header_list(r);
        auto cancelled = [&](int attempts) {
            return Error{ErrorKind::cancelled, where + ": cancelled" + attempts_suffix(attempts),
                         attempts};
        };

        int attempts = 0;
        for (;;) {
            if (is_cancelled(control)) return cancelled(attempts);
            if (r.rate_limited && !limiter.unlimited()) {
                const auto wait = limiter.reserve(timeout);
                if (!wait) {
                    return Error{ErrorKind::timeout,
                                 where + ": no rate-limit slot within the timeout of " +
                                     std::to_string(timeout.count()) + " ms (limit " +
                                     std::to_string(options.rate_limit.requests) + " per " +
                                     std::to_string(options.rate_limit.per.count()) + " ms)" +
                                     attempts_suffix(attempts),
                                 attempts};
                }
                if (wait->count() > 0) {
                    ++counters.rate_limit_waits;
                    if (!wait_for(control, *wait) || is_cancelled(control)) {
                        limiter.release();
                        return cancelled(attempts);
                    }
                }
            }

            ++attempts;
            ++counters.requests;
            if (attempts > 1) ++counters.retries;
            Attempt a = attempt(r, headers.get(), timeout, control);

            if (a.failure != Failure::none) {
                const bool transport =
                    a.failure == Failure::network || a.failure == Failure::timeout;
                if (transport) ++counters.network_errors;
                if (!(transport && transient(a.code) && attempts < max_attempts)) {
                    std::string what = a.failure == Failure::cancelled ? "cancelled"
                                       : a.failure == Failure::too_large
                                           ? "response larger than the limit of " +
                                                 std::to_string(options.max_response_bytes) +
                                                 " bytes"
                                           : scrub(a.detail, r.url);
                    return Error{kind_of(a.failure),
                                 where + ": " + what + attempts_suffix(attempts), attempts};
                }
                if (!wait_for(control, backoff(attempts))) return cancelled(attempts);
                continue;
            }

            Response& response = a.response;
            response.attempts = attempts;
            count_status(response.status);
            const bool throttled = response.status == 429 || response.status == 503;
            if (throttled)
                response.retry_after =
                    parse_retry_after(response.header("Retry-After"), system_clock::now());
            const bool retryable = throttled || response.status == 502 || response.status == 504;
            if (!r.retry_safe || !retryable || attempts >= max_attempts) return std::move(response);
            milliseconds delay;
            if (response.retry_after) {
                // Too long to hold this call: the plugin sees the answer and its Retry-After, and
                // the hub reschedules the work instead.
                if (*response.retry_after > options.max_retry_after) return std::move(response);
                delay = *response.retry_after;
            } else {
                delay = backoff(attempts);
            }
            if (delay.count() > 0 && !wait_for(control, delay)) return cancelled(attempts);
        }
    }

    ClientOptions options;
    Counters counters;
    RateLimiter limiter;
    // Declared before `share` and `idle` so that it outlives both: libcurl may lock while they
    // are cleaned up.
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
    ShareHandle share;
    std::mutex pool_mutex;
    // Declared after `share`: every easy handle must be gone before the share is cleaned up.
    std::vector<EasyHandle> idle;
};

Client::Client(ClientOptions options) {
    global_init();
    impl_ = std::make_unique<Impl>(std::move(options));
}

Client::~Client() = default;

Result Client::perform(const Request& request, const Control& control) {
    return impl_->perform(request, control);
}

const Counters& Client::counters() const {
    return impl_->counters;
}

const ClientOptions& Client::options() const {
    return impl_->options;
}

}  // namespace cdphub::http

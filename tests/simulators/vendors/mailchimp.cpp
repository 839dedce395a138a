#include "simulators/vendors/mailchimp.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <ctime>
#include <optional>

namespace cdphub::sim {

namespace {

constexpr std::int64_t kSeedEpoch = 1709251200;  // 2024-03-01T00:00:00Z

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string md5_hex(const std::string& s) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), out, &len, EVP_md5(), nullptr);
    static constexpr char d[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += d[out[i] >> 4];
        hex += d[out[i] & 15];
    }
    return hex;
}

std::optional<std::string> base64_decode(const std::string& in) {
    if (in.empty() || in.size() % 4 != 0) return std::nullopt;
    std::string out(in.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    size_t pad = 0;
    if (in.back() == '=') ++pad;
    if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

// ISO 8601 as Mailchimp accepts it in filters: date-time with Z or +hh:mm (or none: UTC).
std::optional<std::int64_t> parse_time(const std::string& s) {
    std::tm tm{};
    int y, mo, d, h, mi, sec;
    if (s.size() < 19 ||
        std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
        return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    std::int64_t t = timegm(&tm);
    size_t i = 19;
    while (i < s.size() && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh = 0, om = 0;
        if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
        t -= (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else if (i < s.size() && s[i] != 'Z') {
        return std::nullopt;
    }
    return t;
}

HttpResponse problem(int status, const std::string& title, const std::string& detail) {
    json body = {{"type", "https://mailchimp.com/developer/marketing/docs/errors/"},
                 {"title", title},
                 {"status", status},
                 {"detail", detail},
                 {"instance", md5_hex(title + detail).substr(0, 8) + "-sim"}};
    auto r = HttpResponse::json(status, body.dump());
    for (auto& [n, v] : r.headers)
        if (lower(n) == "content-type") v = "application/problem+json; charset=utf-8";
    return r;
}

// Mailchimp's `fields`: comma-separated names, sub-fields with dots ("members.id",
// "stats.member_count"); a sub-field of an array applies to each element.
json select_fields(const json& doc, const std::string& fields) {
    if (fields.empty() || !doc.is_object()) return doc;
    std::map<std::string, std::string> subs;  // name -> its sub-fields, comma-separated
    std::set<std::string> whole;
    size_t start = 0;
    while (start <= fields.size()) {
        auto end = fields.find(',', start);
        if (end == std::string::npos) end = fields.size();
        const auto f = fields.substr(start, end - start);
        if (const auto dot = f.find('.'); dot != std::string::npos)
            subs[f.substr(0, dot)] +=
                (subs[f.substr(0, dot)].empty() ? "" : ",") + f.substr(dot + 1);
        else if (!f.empty())
            whole.insert(f);
        start = end + 1;
    }
    json out = json::object();
    for (const auto& [k, v] : doc.items()) {
        if (whole.count(k)) {
            out[k] = v;
        } else if (auto it = subs.find(k); it != subs.end()) {
            if (v.is_array()) {
                json items = json::array();
                for (const auto& e : v) items.push_back(select_fields(e, it->second));
                out[k] = std::move(items);
            } else {
                out[k] = select_fields(v, it->second);
            }
        }
    }
    return out;
}

// A ustar archive of `files`, gzip-compressed, as Mailchimp's batch results come.
std::string tar_gz(const std::vector<std::pair<std::string, std::string>>& files) {
    std::string tar;
    for (const auto& [name, content] : files) {
        std::string h(512, '\0');
        h.replace(0, std::min<std::size_t>(name.size(), 99), name.substr(0, 99));
        auto field = [&](std::size_t at, std::size_t width, std::uint64_t v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(width - 1),
                          static_cast<unsigned long long>(v));
            h.replace(at, width - 1, buf);
        };
        field(100, 8, 0644);
        field(108, 8, 0);
        field(116, 8, 0);
        field(124, 12, content.size());
        field(136, 12, static_cast<std::uint64_t>(kSeedEpoch));
        h[156] = '0';
        h.replace(257, 6, std::string("ustar\0", 6));
        h.replace(263, 2, "00");
        h.replace(148, 8, "        ");
        unsigned sum = 0;
        for (unsigned char c : h) sum += c;
        char chk[8];
        std::snprintf(chk, sizeof chk, "%06o", sum);
        h.replace(148, 7, std::string(chk, 6) + '\0');
        tar += h;
        tar += content;
        tar.append((512 - content.size() % 512) % 512, '\0');
    }
    tar.append(1024, '\0');
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, tar.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(tar.data());
    z.avail_in = static_cast<uInt>(tar.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

std::string MailchimpVendor::time_text(std::int64_t epoch_s) {
    const auto t = static_cast<std::time_t>(epoch_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return std::string(buf, n);
}

std::string MailchimpVendor::subscriber_hash(const std::string& email) {
    return md5_hex(lower(email));
}

std::string MailchimpMember::version() const {
    return id + "@" + MailchimpVendor::time_text(last_changed);
}

json MailchimpMember::to_json() const {
    json m = {
        {"id", id},
        {"email_address", email},
        {"unique_email_id", unique_email_id},
        {"contact_id", "c" + unique_email_id},
        {"full_name", merge_fields.value("FNAME", "") + " " + merge_fields.value("LNAME", "")},
        {"web_id", web_id},
        {"email_type", "html"},
        {"status", status},
        {"consents_to_one_to_one_messaging", true},
        {"merge_fields", merge_fields},
        {"interests", json::object()},
        {"stats", {{"avg_open_rate", 0.25}, {"avg_click_rate", 0.05}}},
        {"ip_signup", ""},
        {"timestamp_signup", ""},
        {"ip_opt", "198.51.100.7"},
        {"timestamp_opt", MailchimpVendor::time_text(timestamp_opt)},
        {"member_rating", 2},
        {"last_changed", MailchimpVendor::time_text(last_changed)},
        {"language", language},
        {"vip", vip},
        {"email_client", ""},
        {"location", {{"latitude", 0}, {"longitude", 0}, {"country_code", ""}}},
        {"source", "API - Generic"},
        {"tags_count", tags.size()},
        {"tags", tags},
        {"_links", json::array({{{"rel", "self"}, {"method", "GET"}}})}};
    if (status == "unsubscribed") m["unsubscribe_reason"] = unsubscribe_reason;
    return m;
}

MailchimpVendor::MailchimpVendor(const VendorOptions& options)
    : Vendor(options), rng_(options.seed * 0x9E3779B97F4A7C15ull + 11) {
    const auto& s = options.settings;
    api_key_ = s.value("api_key", std::string("0123456789abcdef0123456789abcdef-us21"));
    list_id_ = s.value("list_id", std::string("a1b2c3d4e5"));
    max_connections_ = s.value("max_connections", 10);
    bare_403_every_ = s.value("bare_403_every", 0);
    mutate_per_fault_ = s.value("mutate_per_fault", std::size_t{3});
    fake_domain_ = s.value("fake_domain", std::string("fake.test"));
    polls_per_state_ = std::max(1, s.value("polls_per_state", 1));
    max_batch_bytes_ = s.value("max_batch_bytes", std::size_t{10} << 20);
    results_per_file_ = std::max<std::size_t>(1, s.value("results_per_file", std::size_t{100}));
    failed_op_share_ = s.value("failed_op_share", 0.25);
    partial_every_ = s.value("partial_every", 0);
    const auto tie_block = s.value("tie_block", std::size_t{40});
    const auto n = options.records;
    std::uniform_int_distribution<int> pct(0, 99);
    for (std::size_t i = 0; i < n; ++i) {
        MailchimpMember m;
        // Some addresses in mixed case: the id is still the hash of the lower-cased address.
        m.email = (i % 7 == 0 ? "Member" : "member") + std::to_string(i) +
                  (i % 7 == 0 ? "@Example.COM" : "@example.com");
        m.id = subscriber_hash(m.email);
        m.unique_email_id = md5_hex("u" + m.email).substr(0, 10);
        m.web_id = 100000 + static_cast<std::int64_t>(i);
        const int p = pct(rng_);
        m.status = p < 70   ? "subscribed"
                   : p < 80 ? "unsubscribed"
                   : p < 85 ? "cleaned"
                   : p < 90 ? "pending"
                            : "transactional";
        if (m.status == "unsubscribed") m.unsubscribe_reason = "N/A (Unsubscribed by the member)";
        m.language = i % 5 == 0 ? "de" : "en";
        m.vip = i % 50 == 0;
        m.merge_fields = {
            {"FNAME", "First" + std::to_string(i)},
            {"LNAME", i % 9 == 0 ? "" : "Last" + std::to_string(i)},
            {"PHONE", i % 3 == 0 ? "+1 555 010 " + std::to_string(1000 + i % 9000) : std::string()},
            {"BIRTHDAY", i % 4 == 0 ? "05/17" : ""},
            {"ADDRESS", i % 6 == 0 ? json{{"addr1", std::to_string(i) + " Main St"},
                                          {"addr2", ""},
                                          {"city", "Springfield"},
                                          {"state", "IL"},
                                          {"zip", "62701"},
                                          {"country", "US"}}
                                   : json("")},
            {"COMPANY", i % 10 == 0 ? "Acme " + std::to_string(i % 13) : ""}};
        if (i % 11 == 0) m.tags = json::array({{{"id", 17}, {"name", "Customers"}}});
        // Two members per three seconds (ties), and one bulk import stamped all at once.
        const bool in_block = i >= n / 2 && i < n / 2 + tie_block;
        m.last_changed =
            kSeedEpoch + static_cast<std::int64_t>(in_block ? (n / 2) * 2 / 3 : i * 2 / 3);
        m.timestamp_opt = m.last_changed - 86400;
        versions_.insert(m.version());
        members_.push_back(std::move(m));
    }
}

std::vector<MailchimpMember> MailchimpVendor::members() const {
    std::lock_guard lock(mu_);
    return members_;
}

std::set<std::string> MailchimpVendor::versions() const {
    std::lock_guard lock(mu_);
    return versions_;
}

void MailchimpVendor::mutate(std::size_t n) {
    std::lock_guard lock(mu_);
    mutate_locked(n);
}

void MailchimpVendor::mutate_locked(std::size_t n) {
    if (members_.empty()) return;
    const std::int64_t now = std::time(nullptr);
    std::uniform_int_distribution<std::size_t> pick(0, members_.size() - 1);
    for (std::size_t done = 0, tries = 0; done < n && tries < 20 * n; ++tries) {
        auto& m = members_[pick(rng_)];
        // last_changed only moves forward and never into the future: a member already changed
        // this second waits for the next one.
        if (m.last_changed >= now) continue;
        ++mutation_count_;
        if (m.status == "subscribed") {
            m.status = "unsubscribed";
            m.unsubscribe_reason = "N/A (Unsubscribed by the member)";
        } else if (m.status != "cleaned") {
            m.status = "subscribed";
            m.unsubscribe_reason.clear();
        }
        m.merge_fields["FNAME"] = "Changed" + std::to_string(mutation_count_);
        m.last_changed = now;
        versions_.insert(m.version());
        ++done;
    }
}

json MailchimpVendor::state() const {
    std::lock_guard lock(mu_);
    json ms = json::array();
    for (const auto& m : members_) {
        json tags = json::array();
        for (const auto& t : m.tags) tags.push_back(t.value("name", ""));
        ms.push_back({{"id", m.id},
                      {"email_address", m.email},
                      {"status", m.status},
                      {"last_changed", time_text(m.last_changed)},
                      {"merge_fields", m.merge_fields},
                      {"tags", tags}});
    }
    return {{"list_id", list_id_},
            {"members", ms},
            {"versions", versions_.size()},
            {"batches", batches_.size()},
            {"batch_submissions", batch_submissions_},
            {"creates", creates_},
            {"member_exists", member_exists_},
            {"partial_batches", partial_batches_},
            {"too_large", too_large_}};
}

HttpResponse MailchimpVendor::handle(const HttpRequest& request) {
    // The batch results archive: a pre-signed storage URL, which refuses a second credential.
    constexpr std::string_view kResults = "/_sim/mailchimp/batch-results/";
    if (request.path().substr(0, kResults.size()) == kResults) {
        if (request.has_header("Authorization"))
            return HttpResponse::text(400,
                                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                                      "InvalidArgument</Code><Message>Only one auth mechanism "
                                      "allowed</Message></Error>",
                                      "application/xml");
        auto name = std::string(request.path().substr(kResults.size()));
        const auto dot = name.find('.');
        std::lock_guard lock(mu_);
        auto it = batches_.find(name.substr(0, dot));
        if (it == batches_.end() || it->second.archive.empty())
            return HttpResponse::text(404, "<Error><Code>NoSuchKey</Code></Error>",
                                      "application/xml");
        return HttpResponse{200, {{"Content-Type", "application/x-tar"}}, it->second.archive};
    }
    // Mailchimp counts open connections per key; the 11th concurrent request is refused.
    struct InFlight {
        MailchimpVendor& v;
        int now;
        explicit InFlight(MailchimpVendor& vendor) : v(vendor) {
            std::lock_guard lock(v.mu_);
            now = ++v.in_flight_;
        }
        ~InFlight() {
            std::lock_guard lock(v.mu_);
            --v.in_flight_;
        }
    } in_flight(*this);

    const auto auth = std::string(request.header("Authorization"));
    std::optional<std::string> credentials;
    if (auth.rfind("Basic ", 0) == 0) credentials = base64_decode(auth.substr(6));
    const auto colon = credentials ? credentials->find(':') : std::string::npos;
    if (colon == std::string::npos || credentials->substr(colon + 1) != api_key_)
        return problem(401, "API Key Invalid",
                       "Your API key may be invalid, or you've attempted to access the wrong "
                       "datacenter.");
    if (in_flight.now > max_connections_)
        return problem(429, "Too Many Requests",
                       "You have exceeded the limit of 10 simultaneous connections.");
    const auto path = std::string(request.path());
    const auto list_prefix = "/3.0/lists/" + list_id_;
    const bool writing = request.method != "GET";
    const bool members = !writing && path == list_prefix + "/members";
    std::vector<Fault> allowed = {Fault::throttle, Fault::throttle_silent, Fault::server_error,
                                  Fault::hang_up, Fault::slow};
    if (members) {
        allowed.push_back(Fault::short_page);
        allowed.push_back(Fault::mutate_rows);
    }
    if (writing && path == "/3.0/batches") allowed.push_back(Fault::partial_failure);
    const Fault fault =
        faults_paused_ ? Fault::none : faults().next(members ? "members" : "api", allowed);
    switch (fault) {
        case Fault::throttle:
        case Fault::throttle_silent: {
            std::lock_guard lock(mu_);
            if (bare_403_every_ > 0 && ++throttles_ % bare_403_every_ == 0)
                return HttpResponse::text(403, "");
            auto r = problem(429, "Too Many Requests",
                             "You have exceeded the limit of 10 simultaneous connections.");
            if (fault == Fault::throttle) r.headers.emplace_back("Retry-After", "0");
            return r;
        }
        case Fault::server_error: {
            std::lock_guard lock(mu_);
            if (++server_errors_ % 2 == 0)
                return HttpResponse::text(
                    503, "<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html");
            return problem(500, "Internal Server Error",
                           "An unexpected internal error has occurred. Please contact Support "
                           "for more information.");
        }
        case Fault::hang_up: {
            HttpResponse r;
            r.close_without_answer = true;
            return r;
        }
        default:
            break;
    }
    HttpResponse answer;
    if (writing && path == "/3.0/batches" && request.method == "POST") {
        answer = submit_batch(request, fault);
    } else if (!writing && path.rfind("/3.0/batches/", 0) == 0) {
        answer = batch_status(path.substr(13));
    } else if (writing && path.rfind("/3.0/lists/", 0) == 0) {
        std::lock_guard lock(mu_);
        auto [status, body] = apply(request.method, path.substr(4), request.body);
        answer = body.empty() ? HttpResponse::text(status, "") : HttpResponse::json(status, body);
        if (status >= 400)
            for (auto& [n, v] : answer.headers)
                if (lower(n) == "content-type") v = "application/problem+json; charset=utf-8";
    } else if (writing) {
        answer = problem(405, "Method Not Allowed",
                         "The requested method and resource are not compatible.");
    } else if (path == "/3.0/ping") {
        answer = HttpResponse::json(200, R"({"health_status":"Everything's Chimpy!"})");
    } else if (path == list_prefix) {
        std::lock_guard lock(mu_);
        const auto subscribed = std::count_if(members_.begin(), members_.end(), [](const auto& m) {
            return m.status == "subscribed";
        });
        json list = {{"id", list_id_},
                     {"web_id", 4711},
                     {"name", "Simulated audience"},
                     {"stats", {{"member_count", subscribed}}}};
        answer = HttpResponse::json(
            200, select_fields(list, form_value(request.query(), "fields")).dump());
    } else if (members) {
        answer = members_page(request, fault);
    } else if (path.rfind("/3.0/lists/", 0) == 0) {
        answer = problem(404, "Resource Not Found", "The requested resource could not be found.");
    } else {
        answer = problem(404, "Resource Not Found", "Invalid path");
    }
    if (fault == Fault::slow) answer.delay = std::chrono::milliseconds(options().faults.slow_ms);
    return answer;
}

HttpResponse MailchimpVendor::members_page(const HttpRequest& request, Fault fault) {
    const auto q = request.query();
    auto number = [&](const char* name, long fallback) -> std::optional<long> {
        const auto v = form_value(q, name);
        if (v.empty()) return fallback;
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        if (end == nullptr || *end != '\0' || n < 0) return std::nullopt;
        return n;
    };
    const auto count = number("count", 10);
    const auto offset = number("offset", 0);
    if (!count || !offset || *count < 1 || *count > 1000)
        return problem(400, "Invalid Resource",
                       "count must be 1 to 1000 and offset a non-negative integer");
    std::optional<std::int64_t> since, before;
    for (auto [name, target] :
         {std::pair{"since_last_changed", &since}, std::pair{"before_last_changed", &before}}) {
        const auto v = form_value(q, name);
        if (v.empty()) continue;
        *target = parse_time(v);
        if (!*target)
            return problem(400, "Invalid Resource",
                           std::string("The value of ") + name + " is not a valid date-time");
    }
    const auto sort_field = form_value(q, "sort_field");
    const auto sort_dir = form_value(q, "sort_dir");
    if (!sort_field.empty() && sort_field != "last_changed" && sort_field != "timestamp_opt" &&
        sort_field != "timestamp_signup")
        return problem(400, "Invalid Resource",
                       "sort_field must be one of timestamp_opt, "
                       "timestamp_signup, last_changed");
    if (!sort_dir.empty() && sort_dir != "ASC" && sort_dir != "DESC")
        return problem(400, "Invalid Resource", "sort_dir must be ASC or DESC");
    const auto status = form_value(q, "status");

    std::lock_guard lock(mu_);
    if (fault == Fault::mutate_rows) mutate_locked(mutate_per_fault_);
    std::vector<const MailchimpMember*> rows;
    for (const auto& m : members_) {
        // "changed after" and "changed before": both bounds exclusive.
        if (since && m.last_changed <= *since) continue;
        if (before && m.last_changed >= *before) continue;
        if (!status.empty() && m.status != status) continue;
        rows.push_back(&m);
    }
    if (!sort_field.empty()) {
        auto key = [&](const MailchimpMember* m) {
            return sort_field == "last_changed" ? m->last_changed : m->timestamp_opt;
        };
        const bool desc = sort_dir == "DESC";
        std::stable_sort(rows.begin(), rows.end(), [&](auto* a, auto* b) {
            if (key(a) != key(b)) return desc ? key(a) > key(b) : key(a) < key(b);
            return a->web_id < b->web_id;
        });
    }
    json page = {{"members", json::array()},
                 {"list_id", list_id_},
                 {"total_items", rows.size()},
                 {"_links", json::array({{{"rel", "self"}, {"method", "GET"}}})}};
    auto take = static_cast<std::size_t>(*count);
    if (fault == Fault::short_page) take = std::max<std::size_t>(1, take / 2);
    for (auto i = static_cast<std::size_t>(*offset); i < rows.size() && take > 0; ++i, --take)
        page["members"].push_back(rows[i]->to_json());
    return HttpResponse::json(200, select_fields(page, form_value(q, "fields")).dump());
}

namespace {

std::string problem_text(int status, const std::string& title, const std::string& detail,
                         json errors = nullptr) {
    json body = {{"type", "https://mailchimp.com/developer/marketing/docs/errors/"},
                 {"title", title},
                 {"status", status},
                 {"detail", detail},
                 {"instance", md5_hex(title + detail).substr(0, 8) + "-sim"}};
    if (!errors.is_null()) body["errors"] = std::move(errors);
    return body.dump();
}

}  // namespace

std::pair<int, std::string> MailchimpVendor::apply(const std::string& method,
                                                   const std::string& path,
                                                   const std::string& body) {
    // /lists/{list}/members[/{hash}[/tags]]
    std::vector<std::string> parts;
    for (std::size_t at = 1; at <= path.size();) {
        auto next = path.find('/', at);
        if (next == std::string::npos) next = path.size();
        parts.push_back(path.substr(at, next - at));
        at = next + 1;
    }
    auto not_found = [] {
        return std::pair{404, problem_text(404, "Resource Not Found",
                                           "The requested resource could not be found.")};
    };
    if (parts.size() < 3 || parts[0] != "lists" || parts[2] != "members") return not_found();
    if (parts[1] != list_id_) return not_found();
    auto find = [&](const std::string& hash) -> MailchimpMember* {
        for (auto& m : members_)
            if (m.id == hash) return &m;
        return nullptr;
    };
    const std::int64_t now = std::time(nullptr);
    json in;
    if (method == "PUT" || method == "POST") {
        in = json::parse(body, nullptr, false);
        if (!in.is_object())
            return {400, problem_text(400, "JSON Parse Exception",
                                      "We encountered an unspecified JSON parsing error.")};
    }
    auto check_email = [&](const std::string& email) -> std::optional<std::pair<int, std::string>> {
        const auto at = email.find('@');
        if (email.empty() || at == std::string::npos || at == 0 || at + 1 == email.size())
            return std::pair{400, problem_text(400, "Invalid Resource",
                                               "Please provide a valid email address.")};
        if (!fake_domain_.empty() && lower(email.substr(at + 1)) == fake_domain_)
            return std::pair{400, problem_text(400, "Invalid Resource",
                                               email + " looks fake or invalid, please enter a "
                                                       "real email address.")};
        return std::nullopt;
    };
    auto create = [&](const std::string& email, const std::string& status) -> MailchimpMember& {
        members_.emplace_back();
        auto& m = members_.back();
        m.email = email;
        m.id = subscriber_hash(email);
        m.unique_email_id = md5_hex("u" + email).substr(0, 10);
        m.web_id = 100000 + static_cast<std::int64_t>(members_.size());
        m.status = status;
        m.language = "";
        ++creates_[lower(email)];
        return m;
    };
    auto valid_status = [](const std::string& s) {
        return s == "subscribed" || s == "unsubscribed" || s == "cleaned" || s == "pending" ||
               s == "transactional";
    };
    auto touch = [&](MailchimpMember& m) {
        m.last_changed = std::max(now, m.last_changed);
        versions_.insert(m.version());
    };

    if (parts.size() == 3 && method == "POST") {  // add a member: not idempotent
        const auto email = in.value("email_address", std::string());
        if (auto bad = check_email(email)) return *bad;
        if (auto* m = find(subscriber_hash(email)); m && m->status != "archived") {
            ++member_exists_;
            return {400, problem_text(400, "Member Exists",
                                      email + " is already a list member. Use PUT to insert or "
                                              "update list members.")};
        }
        const auto status = in.value("status", std::string());
        if (!valid_status(status))
            return {400, problem_text(400, "Invalid Resource",
                                      "The resource submitted could not be validated.",
                                      json::array({{{"field", "status"},
                                                    {"message",
                                                     "Data presented is not one of "
                                                     "the accepted values"}}}))};
        auto& m = create(email, status);
        if (in.contains("merge_fields") && in["merge_fields"].is_object())
            m.merge_fields = in["merge_fields"];
        touch(m);
        return {200, m.to_json().dump()};
    }
    if (parts.size() < 4) return not_found();
    const auto& hash = parts[3];
    auto* m = find(hash);
    if (parts.size() == 4 && method == "PUT") {
        const auto email = in.value("email_address", std::string());
        if (auto bad = check_email(email)) return *bad;
        if (subscriber_hash(email) != hash)
            return {400, problem_text(400, "Invalid Resource",
                                      "The subscriber hash in the URL does not match the email "
                                      "address in the request body.")};
        const auto status = in.value("status", std::string());
        const auto status_if_new = in.value("status_if_new", std::string());
        if (!status.empty() && !valid_status(status))
            return {400, problem_text(400, "Invalid Resource",
                                      "The resource submitted could not be validated.",
                                      json::array({{{"field", "status"},
                                                    {"message",
                                                     "Data presented is not one of "
                                                     "the accepted values"}}}))};
        if (!m || m->status == "archived") {
            // New (or archived, which a PUT brings back): status_if_new, else status.
            const auto first = !status_if_new.empty() ? status_if_new : status;
            if (!valid_status(first))
                return {400, problem_text(400, "Invalid Resource",
                                          "The resource submitted could not be validated.",
                                          json::array({{{"field", "status_if_new"},
                                                        {"message",
                                                         "Data presented is not one "
                                                         "of the accepted values"}}}))};
            if (!m) {
                m = &create(email, first);
            } else {
                m->status = first;
                ++creates_[lower(email)];
            }
        } else if (!status.empty()) {
            m->status = status;
        }
        if (in.contains("merge_fields") && in["merge_fields"].is_object())
            for (const auto& [k, v] : in["merge_fields"].items()) m->merge_fields[k] = v;
        touch(*m);
        return {200, m->to_json().dump()};
    }
    if (!m || m->status == "archived") return not_found();
    if (parts.size() == 4 && method == "DELETE") {  // archive
        m->status = "archived";
        touch(*m);
        return {204, ""};
    }
    if (parts.size() == 5 && parts[4] == "tags" && method == "POST") {
        if (!in.contains("tags") || !in["tags"].is_array())
            return {400,
                    problem_text(400, "Invalid Resource",
                                 "The resource submitted could not be validated.",
                                 json::array({{{"field", "tags"},
                                               {"message", "This value should not be blank."}}}))};
        for (const auto& t : in["tags"]) {
            const auto name = t.value("name", std::string());
            const auto st = t.value("status", std::string());
            if (name.empty() || (st != "active" && st != "inactive"))
                return {400, problem_text(400, "Invalid Resource",
                                          "Each tag needs a name and a status of active or "
                                          "inactive.")};
            auto it = std::find_if(m->tags.begin(), m->tags.end(),
                                   [&](const json& x) { return x.value("name", "") == name; });
            if (st == "active" && it == m->tags.end()) {
                auto [id, fresh] = tag_ids_.emplace(name, 0);
                if (fresh) id->second = static_cast<int>(tag_ids_.size()) + 100;
                m->tags.push_back({{"id", id->second}, {"name", name}});
            } else if (st == "inactive" && it != m->tags.end()) {
                m->tags.erase(it);
            }
        }
        touch(*m);
        return {204, ""};
    }
    return {405, problem_text(405, "Method Not Allowed",
                              "The requested method and resource are not compatible.")};
}

json MailchimpVendor::batch_json(const Batch& b) const {
    static const char* kStates[] = {"pending", "preprocessing", "started", "finalizing",
                                    "finished"};
    const int state = std::min(4, b.polls / polls_per_state_);
    const bool done = state == 4;
    return {{"id", b.id},
            {"status", kStates[state]},
            {"total_operations", b.operations.size()},
            {"finished_operations", done ? b.operations.size() : 0},
            {"errored_operations", done ? b.errored : 0},
            {"submitted_at", time_text(b.submitted_at)},
            {"completed_at", done ? time_text(b.submitted_at + 1) : ""},
            {"response_body_url",
             done ? base_url() + "/_sim/mailchimp/batch-results/" + b.id + ".tar.gz" : ""},
            {"_links", json::array()}};
}

HttpResponse MailchimpVendor::submit_batch(const HttpRequest& request, Fault fault) {
    if (request.body.size() > max_batch_bytes_) {
        std::lock_guard lock(mu_);
        ++too_large_;
        return problem(413, "Request Entity Too Large",
                       "The request body is larger than the batch endpoint accepts.");
    }
    json in = json::parse(request.body, nullptr, false);
    if (!in.is_object() || !in.contains("operations") || !in["operations"].is_array())
        return problem(400, "Invalid Resource",
                       "The resource submitted could not be validated. operations is required.");
    for (const auto& op : in["operations"])
        if (!op.is_object() || !op.contains("method") || !op.contains("path") ||
            (op.contains("body") && !op["body"].is_string()))
            return problem(400, "Invalid Resource",
                           "Each operation needs method and path; body must be a JSON string.");
    std::lock_guard lock(mu_);
    Batch b;
    b.id = md5_hex("batch" + std::to_string(batches_.size())).substr(0, 10);
    b.operations = in["operations"];
    b.partial = fault == Fault::partial_failure ||
                (partial_every_ > 0 && (batches_.size() + 1) % partial_every_ == 0);
    if (b.partial) ++partial_batches_;
    b.submitted_at = std::time(nullptr);
    for (const auto& op : b.operations)
        ++batch_submissions_[op.value("method", "") + " " + op.value("operation_id", "")];
    auto answer = batch_json(b);
    batches_[b.id] = std::move(b);
    return HttpResponse::json(200, answer.dump());
}

HttpResponse MailchimpVendor::batch_status(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = batches_.find(id);
    if (it == batches_.end())
        return problem(404, "Resource Not Found", "The requested resource could not be found.");
    auto& b = it->second;
    ++b.polls;
    if (b.polls / polls_per_state_ >= 4 && b.archive.empty()) {
        // Runs now: every operation against the audience, in order, each with its own result.
        std::uniform_real_distribution<double> share(0.0, 1.0);
        std::vector<std::pair<std::string, std::string>> files;
        json file = json::array();
        for (const auto& op : b.operations) {
            std::pair<int, std::string> r;
            if (b.partial && share(rng_) < failed_op_share_)
                r = {500, problem_text(500, "Internal Server Error",
                                       "An unexpected internal error has occurred. Please "
                                       "contact Support for more information.")};
            else
                r = apply(op.value("method", ""), op.value("path", ""), op.value("body", ""));
            if (r.first >= 400) ++b.errored;
            file.push_back({{"status_code", r.first},
                            {"operation_id", op.value("operation_id", "")},
                            {"response", r.second}});
            if (file.size() >= results_per_file_) {
                files.emplace_back(b.id + "/" + std::to_string(files.size()) + ".json",
                                   file.dump());
                file = json::array();
            }
        }
        if (!file.empty())
            files.emplace_back(b.id + "/" + std::to_string(files.size()) + ".json", file.dump());
        b.archive = tar_gz(files);
    }
    return HttpResponse::json(200, batch_json(b).dump());
}

CDPHUB_SIM_VENDOR("mailchimp", MailchimpVendor);

}  // namespace cdphub::sim

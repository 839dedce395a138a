#include "simulators/vendors/salesforce.hpp"

#include <algorithm>
#include <chrono>
#include <variant>

#include "simulators/vendors/salesforce_soql.hpp"

namespace cdphub::sim {
namespace sf = salesforce;

namespace {

std::string setting(const json& s, const char* key, const char* def) {
    return s.contains(key) && s[key].is_string() ? s[key].get<std::string>() : def;
}
template <class T>
T setting_num(const json& s, const char* key, T def) {
    return s.contains(key) && s[key].is_number() ? s[key].get<T>() : def;
}

HttpResponse oauth_error(const std::string& error, const std::string& description) {
    return HttpResponse::json(400,
                              json{{"error", error}, {"error_description", description}}.dump());
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "Sforce-Query-Options: batchSize=500": Salesforce takes 200 to 2000 (default 2000).
std::size_t batch_size(const HttpRequest& r) {
    auto h = std::string(r.header("Sforce-Query-Options"));
    const auto at = h.find("batchSize=");
    if (at == std::string::npos) return 2000;
    try {
        return std::clamp<std::size_t>(std::stoul(h.substr(at + 10)), 200, 2000);
    } catch (...) {
        return 2000;
    }
}

}  // namespace

SalesforceVendor::SalesforceVendor(const VendorOptions& options)
    : Vendor(options), rng_(options.seed) {
    const auto& s = options.settings;
    const double deleted_share = setting_num(s, "deleted_share", 0.03);
    const std::size_t n = options.records;
    // Half contacts, three tenths leads, the rest accounts; stamps spread so that many share a
    // second (mass updates), which is what makes ">= watermark" paging interesting.
    const std::size_t accounts = n / 5, leads = n * 3 / 10, contacts = n - accounts - leads;
    const std::int64_t base = 1704067200;  // 2024-01-01T00:00:00Z
    const auto spread = std::max<std::int64_t>(1, static_cast<std::int64_t>(n / 3));
    rows_["Account"] =
        sf::seed_rows(*sf::object_def("Account"), accounts, rng_, base, spread, deleted_share, {});
    std::vector<std::string> account_ids;
    for (const auto& a : rows_["Account"]) account_ids.push_back(a["Id"].get<std::string>());
    rows_["Contact"] = sf::seed_rows(*sf::object_def("Contact"), contacts, rng_, base, spread,
                                     deleted_share, account_ids);
    rows_["Lead"] =
        sf::seed_rows(*sf::object_def("Lead"), leads, rng_, base, spread, deleted_share, {});
    for (const auto& [object, rows] : rows_)
        for (const auto& r : rows)
            versions_.insert(object + "/" + r["Id"].get<std::string>() + "@" +
                             r["SystemModstamp"].get<std::string>());
    clock_ = base + spread;
}

HttpResponse SalesforceVendor::handle(const HttpRequest& r) {
    const auto path = r.path();
    if (path == "/services/oauth2/token") return token(r);
    constexpr std::string_view data = "/services/data/";
    if (path.substr(0, data.size()) == data) {
        auto rest = path.substr(data.size());
        const auto slash = rest.find('/');
        const auto version = rest.substr(0, slash);
        if (version.size() < 4 || version[0] != 'v' || version.substr(version.size() - 2) != ".0")
            return with_limits(sf_error(404, "NOT_FOUND", "The requested resource does not exist"));
        return api(r, version, slash == std::string_view::npos ? "" : rest.substr(slash));
    }
    return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
}

HttpResponse SalesforceVendor::token(const HttpRequest& r) {
    const std::vector<Fault> allowed{Fault::server_error, Fault::hang_up, Fault::slow};
    std::lock_guard lock(mu_);
    const Fault f = faults_enabled_ ? faults().next("token", allowed) : Fault::none;
    if (f == Fault::hang_up || f == Fault::server_error) applied(f);
    if (f == Fault::hang_up) {
        HttpResponse h;
        h.close_without_answer = true;
        return h;
    }
    if (f == Fault::server_error)
        return HttpResponse::text(503, "<html><body>Service Unavailable</body></html>",
                                  "text/html");
    if (r.method != "POST") return oauth_error("invalid_request", "must use HTTP POST");
    if (r.header("Content-Type").find("application/x-www-form-urlencoded") ==
        std::string_view::npos)
        return oauth_error("invalid_request", "unsupported content type");
    const auto& s = options().settings;
    const auto grant = form_value(r.body, "grant_type");
    if (form_value(r.body, "client_id") != setting(s, "client_id", "cdphub-test-client"))
        return oauth_error("invalid_client_id", "client identifier invalid");
    if (form_value(r.body, "client_secret") != setting(s, "client_secret", "test-secret"))
        return oauth_error("invalid_client", "invalid client credentials");
    if (grant == "refresh_token") {
        if (form_value(r.body, "refresh_token") != setting(s, "refresh_token", "test-refresh"))
            return oauth_error("invalid_grant", "expired access/refresh token");
    } else if (grant != "client_credentials") {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    static constexpr char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string tok = "00DDn0000000001!AQ";
    for (int i = 0; i < 40; ++i) tok += chars[rng_() % (sizeof chars - 1)];
    tokens_.insert(tok);
    ++tokens_issued_;
    // No expires_in: a session lasts until it times out or is revoked.
    json body = {{"access_token", tok},
                 {"instance_url", setting(s, "instance_url", "") == std::string()
                                      ? base_url()
                                      : setting(s, "instance_url", "")},
                 {"id", "https://login.salesforce.com/id/00DDn0000000001AAA/005Dn0000000001AAA"},
                 {"token_type", "Bearer"},
                 {"issued_at", std::to_string(now_seconds() * 1000)},
                 {"signature", "c2ltdWxhdGVkLXNpZ25hdHVyZQ=="},
                 {"scope", "api"}};
    return HttpResponse::json(200, body.dump());
}

HttpResponse SalesforceVendor::api(const HttpRequest& r, std::string_view version,
                                   std::string_view rest) {
    const bool locator = rest.rfind("/query/", 0) == 0 || rest.rfind("/queryAll/", 0) == 0;
    std::vector<Fault> allowed{Fault::expire_token, Fault::throttle, Fault::throttle_silent,
                               Fault::server_error, Fault::hang_up,  Fault::slow};
    if (rest == "/query" || rest == "/queryAll" || locator) {
        allowed.push_back(Fault::short_page);
        allowed.push_back(Fault::mutate_rows);
    }
    if (locator) allowed.push_back(Fault::invalidate_cursor);
    std::lock_guard lock(mu_);
    const Fault f = faults_enabled_ ? faults().next("api", allowed) : Fault::none;
    ++api_requests_;
    if (f != Fault::none && f != Fault::short_page && f != Fault::invalidate_cursor &&
        f != Fault::slow)
        applied(f);
    switch (f) {
        case Fault::hang_up: {
            HttpResponse h;
            h.close_without_answer = true;
            return h;
        }
        case Fault::expire_token:
            tokens_.clear();
            return with_limits(sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"));
        case Fault::throttle:
            return with_limits(
                sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."));
        case Fault::throttle_silent:
            return with_limits(
                sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."));
        case Fault::server_error:
            if (++errors_ % 2 == 0)
                return HttpResponse::text(503, "<html><body>Service Unavailable</body></html>",
                                          "text/html");
            return with_limits(sf_error(500, "UNKNOWN_EXCEPTION",
                                        "An unexpected error occurred. Please include this "
                                        "ErrorId if you contact support: 1234567-8901 (-42)"));
        case Fault::mutate_rows:
            mutate_locked(setting_num<std::size_t>(options().settings, "mutate_count", 5));
            break;
        default:
            break;
    }
    const auto auth = std::string(r.header("Authorization"));
    if (auth.rfind("Bearer ", 0) != 0 || tokens_.count(auth.substr(7)) == 0)
        return with_limits(sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"));
    if (api_requests_ > setting_num<std::uint64_t>(options().settings, "daily_limit", 100000))
        return with_limits(
            sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."));
    if (r.method != "GET")
        return with_limits(sf_error(405, "METHOD_NOT_ALLOWED",
                                    "HTTP Method '" + r.method + "' not allowed. Allowed are GET"));
    HttpResponse out;
    if (rest == "/query" || rest == "/queryAll")
        out = run_query(r, version, rest == "/queryAll", f);
    else if (locator)
        out = next_page(version, rest.substr(rest.find('/', 1) + 1), rest[6] == 'A', f);
    else if (rest.rfind("/sobjects/", 0) == 0 && rest.size() > 19 &&
             rest.substr(rest.size() - 9) == "/describe")
        out = describe(rest.substr(10, rest.size() - 19));
    else
        out = sf_error(404, "NOT_FOUND", "The requested resource does not exist");
    if (f == Fault::slow) {
        applied(f);
        out.delay = std::chrono::milliseconds(faults().plan().slow_ms);
    }
    return with_limits(std::move(out));
}

HttpResponse SalesforceVendor::run_query(const HttpRequest& r, std::string_view version, bool all,
                                         Fault f) {
    const auto q = form_value(r.query(), "q");
    if (q.empty()) return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified");
    auto parsed = sf::parse_soql(q);
    if (auto* e = std::get_if<sf::SoqlError>(&parsed)) return sf_error(400, e->code, e->message);
    const auto& query = std::get<sf::SoqlQuery>(parsed);
    const auto* def = sf::object_def(query.object);
    if (def == nullptr)
        return sf_error(400, "INVALID_TYPE",
                        "sObject type '" + query.object +
                            "' is not supported. If you are attempting to use a custom object, be "
                            "sure to append the '__c' after the entity name.");
    auto no_column = [&](const std::string& name) {
        return sf_error(400, "INVALID_FIELD",
                        "No such column '" + name + "' on entity '" + def->name +
                            "'. If you are attempting to use a custom field, be sure to append "
                            "the '__c' after the custom field name.");
    };
    std::vector<std::string> fields;
    for (const auto& name : query.fields) {
        const auto* fd = def->field(name);
        if (fd == nullptr) return no_column(name);
        if (std::find(fields.begin(), fields.end(), fd->name) != fields.end())
            return sf_error(400, "MALFORMED_QUERY", "duplicate field selected: " + fd->name);
        fields.push_back(fd->name);
    }
    std::optional<std::int64_t> bound;
    std::string where_field, op;
    if (query.where) {
        const auto* fd = def->field(query.where->field);
        if (fd == nullptr) return no_column(query.where->field);
        if (fd->type != "datetime")
            return sf_error(400, "MALFORMED_QUERY", "the simulator filters datetime fields only");
        if (query.where->quoted)
            return sf_error(400, "INVALID_FIELD",
                            "value of filter criterion for field '" + fd->name +
                                "' must be of type dateTime and should not be enclosed in quotes");
        bound = sf::parse_soql_datetime(query.where->literal);
        if (!bound)
            return sf_error(
                400, "MALFORMED_QUERY",
                "line 1:0 no viable alternative at character '" + query.where->literal + "'");
        where_field = fd->name;
        op = query.where->op;
    }
    std::vector<std::string> order;
    for (const auto& name : query.order_by) {
        const auto* fd = def->field(name);
        if (fd == nullptr) return no_column(name);
        order.push_back(fd->name);
    }
    std::vector<const json*> hits;
    for (const auto& row : rows_[def->name]) {
        if (!all && row["IsDeleted"].get<bool>()) continue;
        if (bound) {
            const auto v = sf::datetime_seconds(row[where_field].get<std::string>()) * 1000;
            const bool ok = op == ">"    ? v > *bound
                            : op == ">=" ? v >= *bound
                            : op == "<"  ? v < *bound
                            : op == "<=" ? v <= *bound
                                         : v == *bound;
            if (!ok) continue;
        }
        hits.push_back(&row);
    }
    std::stable_sort(hits.begin(), hits.end(), [&](const json* a, const json* b) {
        for (const auto& k : order) {
            // Stamps share one spelling and Ids one length, so text order is their order.
            const auto x = (*a)[k].dump(), y = (*b)[k].dump();
            if (x != y) return x < y;
        }
        return false;
    });
    if (query.limit && hits.size() > *query.limit) hits.resize(*query.limit);
    Locator loc;
    loc.object = def->name;
    loc.all = all;
    for (const auto* row : hits) {
        json rec = {{"attributes",
                     {{"type", def->name},
                      {"url", "/services/data/" + std::string(version) + "/sobjects/" + def->name +
                                  "/" + (*row)["Id"].get<std::string>()}}}};
        for (const auto& name : fields) rec[name] = (*row)[name];
        loc.records.push_back(std::move(rec));
    }
    // A locator id in Salesforce's shape: key prefix 01g, 15 characters plus checksum.
    const auto id = sf::make_id("01g", ++locator_seq_);
    locators_[id] = std::move(loc);
    const auto size =
        std::min(batch_size(r), setting_num<std::size_t>(options().settings, "max_page", 2000));
    page_sizes_[id] = std::max<std::size_t>(1, size);
    return page(version, id, 0, page_sizes_[id], f);
}

HttpResponse SalesforceVendor::next_page(std::string_view version, std::string_view target,
                                         bool all, Fault f) {
    const auto dash = target.rfind('-');
    const std::string id(target.substr(0, dash));
    auto it = locators_.find(id);
    std::size_t offset = 0;
    try {
        offset =
            dash == std::string_view::npos ? 0 : std::stoul(std::string(target.substr(dash + 1)));
    } catch (...) {
        it = locators_.end();
    }
    if (f == Fault::invalidate_cursor && it != locators_.end()) {
        applied(f);
        locators_.erase(it);
        it = locators_.end();
    }
    if (it == locators_.end() || it->second.all != all || offset > it->second.records.size())
        return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    return page(version, id, offset, page_sizes_[id], f);
}

HttpResponse SalesforceVendor::page(std::string_view version, const std::string& id,
                                    std::size_t offset, std::size_t size, Fault f) {
    const auto& loc = locators_.at(id);
    const auto total = loc.records.size();
    std::size_t n = std::min(size, total - offset);
    // Salesforce promises no page size: a short page still has done:false.
    if (f == Fault::short_page && n > 1) {
        applied(f);
        n = 1 + rng_() % (n - 1);
    }
    json records = json::array();
    for (std::size_t i = offset; i < offset + n; ++i) records.push_back(loc.records[i]);
    json body = {{"totalSize", total}, {"done", offset + n >= total}, {"records", records}};
    if (offset + n < total) {
        body["nextRecordsUrl"] = "/services/data/" + std::string(version) +
                                 (loc.all ? "/queryAll/" : "/query/") + id + "-" +
                                 std::to_string(offset + n);
    } else {
        locators_.erase(id);
        page_sizes_.erase(id);
    }
    return HttpResponse::json(200, body.dump());
}

HttpResponse SalesforceVendor::describe(std::string_view object) const {
    const auto* def = sf::object_def(object);
    if (def == nullptr) return sf_error(404, "NOT_FOUND", "The requested resource does not exist");
    json fields = json::array();
    for (const auto& fd : def->fields) {
        json f = {{"name", fd.name}, {"type", fd.type}};
        f["relationshipName"] = fd.relationship.empty() ? json(nullptr) : json(fd.relationship);
        fields.push_back(std::move(f));
    }
    return HttpResponse::json(200, json{{"name", def->name},
                                        {"queryable", true},
                                        {"keyPrefix", def->key_prefix},
                                        {"fields", fields}}
                                       .dump());
}

HttpResponse SalesforceVendor::sf_error(int status, const std::string& code,
                                        const std::string& message) const {
    return HttpResponse::json(status,
                              json::array({{{"message", message}, {"errorCode", code}}}).dump());
}

HttpResponse SalesforceVendor::with_limits(HttpResponse r) const {
    const auto limit = setting_num<std::uint64_t>(options().settings, "daily_limit", 100000);
    r.headers.emplace_back("Sforce-Limit-Info", "api-usage=" + std::to_string(api_requests_) + "/" +
                                                    std::to_string(limit));
    if (r.status != 503) r.headers.emplace_back("Content-Type", "application/json;charset=UTF-8");
    return r;
}

void SalesforceVendor::mutate_locked(std::size_t n) {
    const double delete_share = setting_num(options().settings, "delete_share", 0.2);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    static const std::vector<std::string> objects{"Contact", "Lead", "Account"};
    for (std::size_t k = 0; k < n; ++k) {
        const auto& object = objects[rng_() % objects.size()];
        auto& rows = rows_[object];
        if (rows.empty()) continue;
        auto& row = rows[rng_() % rows.size()];
        if (row["IsDeleted"].get<bool>()) continue;  // the recycle bin is read-only here
        const auto* def = sf::object_def(object);
        // A change always moves the stamp forward, never past the real clock by much; changes
        // within one second share it, as in a real org.
        const auto old = sf::datetime_seconds(row["SystemModstamp"].get<std::string>());
        clock_ = std::max({clock_, now_seconds(), old + 1});
        if (coin(rng_) < delete_share)
            row["IsDeleted"] = true;
        else
            sf::change_row(*def, row, rng_);
        row["LastModifiedDate"] = sf::format_datetime(clock_);
        row["SystemModstamp"] = sf::format_datetime(clock_);
        versions_.insert(def->name + "/" + row["Id"].get<std::string>() + "@" +
                         row["SystemModstamp"].get<std::string>());
    }
}

json SalesforceVendor::state() const {
    std::lock_guard lock(mu_);
    json objects = json::object();
    for (const auto& [name, rows] : rows_) {
        std::size_t deleted = 0;
        for (const auto& r : rows) deleted += r["IsDeleted"].get<bool>() ? 1 : 0;
        objects[name] = {{"rows", rows.size()}, {"deleted", deleted}};
    }
    return {{"objects", objects},
            {"api_requests", api_requests_},
            {"tokens_issued", tokens_issued_},
            {"open_locators", locators_.size()},
            {"faults_enabled", faults_enabled_},
            {"faults_applied", applied_}};
}

std::vector<json> SalesforceVendor::rows(const std::string& object) const {
    std::lock_guard lock(mu_);
    auto it = rows_.find(object);
    return it == rows_.end() ? std::vector<json>{} : it->second;
}

std::set<std::string> SalesforceVendor::versions() const {
    std::lock_guard lock(mu_);
    return versions_;
}

void SalesforceVendor::set_faults_enabled(bool on) {
    std::lock_guard lock(mu_);
    faults_enabled_ = on;
}

void SalesforceVendor::mutate(std::size_t n) {
    std::lock_guard lock(mu_);
    mutate_locked(n);
}

std::uint64_t SalesforceVendor::api_requests() const {
    std::lock_guard lock(mu_);
    return api_requests_;
}

CDPHUB_SIM_VENDOR("salesforce", SalesforceVendor);

}  // namespace cdphub::sim

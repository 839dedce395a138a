#include "simulators/vendors/square.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <random>
#include <regex>
#include <set>

namespace cdphub::sim {
namespace {

constexpr int64_t kStartMs = 1714521600000;  // 2024-05-01T00:00:00Z

std::string format_ms(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

// RFC 3339 with Z or an offset, as Square accepts in date_time_filter.
std::optional<int64_t> parse_ms(const std::string& s) {
    static const std::regex re(
        R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2}))");
    std::smatch m;
    if (!std::regex_match(s, m, re)) return std::nullopt;
    std::tm tm{};
    tm.tm_year = std::stoi(m[1]) - 1900;
    tm.tm_mon = std::stoi(m[2]) - 1;
    tm.tm_mday = std::stoi(m[3]);
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
    tm.tm_sec = std::stoi(m[6]);
    int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    if (m[7].matched) {
        std::string frac = m[7].str().substr(1) + "000";
        ms += std::stoi(frac.substr(0, 3));
    }
    std::string off = m[8];
    if (off != "Z") {
        int sign = off[0] == '-' ? -1 : 1;
        ms -= sign * (std::stoi(off.substr(1, 2)) * 60 + std::stoi(off.substr(4, 2))) * 60000LL;
    }
    return ms;
}

json money(int64_t amount, const std::string& currency) {
    return {{"amount", amount}, {"currency", currency}};
}

json error_body(const std::string& category, const std::string& code, const std::string& detail,
                const std::string& field = "") {
    json e = {{"category", category}, {"code", code}, {"detail", detail}};
    if (!field.empty()) e["field"] = field;
    return json{{"errors", json::array({e})}};
}

HttpResponse error(int status, const std::string& category, const std::string& code,
                   const std::string& detail, const std::string& field = "") {
    return HttpResponse::json(status, error_body(category, code, detail, field).dump());
}

HttpResponse bad_request(const std::string& code, const std::string& detail,
                         const std::string& field = "") {
    return error(400, "INVALID_REQUEST_ERROR", code, detail, field);
}

std::string hex(const std::string& s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

std::optional<std::string> unhex(const std::string& s) {
    if (s.size() % 2 != 0) return std::nullopt;
    auto v = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (size_t i = 0; i < s.size(); i += 2) {
        int a = v(s[i]), b = v(s[i + 1]);
        if (a < 0 || b < 0) return std::nullopt;
        out += static_cast<char>(a * 16 + b);
    }
    return out;
}

const char* const kItems[] = {"Latte", "Espresso", "Croissant", "Bagel", "Tea", "Muffin"};

}  // namespace

SquareVendor::SquareVendor(const VendorOptions& options) : Vendor(options) {
    const auto& s = options.settings;
    token_ = s.value("access_token", std::string("sq-sandbox-token"));
    mutate_count_ = s.value("mutate_count", std::size_t{3});
    max_page_ = s.value("max_page", std::size_t{1000});
    if (s.contains("locations"))
        locations_ = s.at("locations").get<std::map<std::string, std::string>>();
    else
        locations_ = {{"L1", "USD"}, {"L2", "EUR"}, {"L3", "JPY"}};
    std::vector<std::string> locs;
    for (const auto& [id, cur] : locations_) locs.push_back(id);

    std::mt19937_64 rng(options.seed);
    rng_state_ = rng();
    auto pick = [&](uint64_t n) { return static_cast<int64_t>(rng() % n); };
    int64_t t = kStartMs;
    std::vector<std::string> completed;
    for (std::size_t i = 0; i < options.records; ++i) {
        // Several orders share one updated_at to the millisecond (a batch closed at once), so a
        // watermark alone cannot tell read from unread.
        if (pick(3) != 0) t += 1000 * (1 + pick(90)) + pick(1000);
        const std::string loc = locs[static_cast<size_t>(pick(static_cast<uint64_t>(locs.size())))];
        const std::string cur = locations_[loc];
        const int64_t unit = cur == "JPY" ? 1 : 100;  // JPY has no minor unit
        char idbuf[64];
        std::snprintf(idbuf, sizeof idbuf, "ORD%08zuSQ%04d", i, static_cast<int>(pick(10000)));
        json o = {{"id", idbuf},
                  {"location_id", loc},
                  {"version", 1},
                  {"created_at", format_ms(t - 1000 * pick(600))},
                  {"updated_at", format_ms(t)}};
        if (pick(40) != 0)
            o["customer_id"] = "CUST" + std::to_string(pick(options.records / 3 + 1));
        const bool is_return = !completed.empty() && pick(25) == 0;
        json lines = json::array();
        int64_t total = 0;
        if (is_return) {
            const int64_t price = (2 + pick(20)) * unit;
            json rl = {{"uid", "RL" + std::to_string(i)},
                       {"name", kItems[pick(6)]},
                       {"quantity", "1"},
                       {"catalog_object_id", "ITEM" + std::to_string(pick(50))},
                       {"base_price_money", money(price, cur)},
                       {"total_money", money(price, cur)}};
            o["returns"] = json::array(
                {{{"uid", "RET" + std::to_string(i)},
                  {"source_order_id",
                   completed[static_cast<size_t>(pick(static_cast<uint64_t>(completed.size())))]},
                  {"return_line_items", json::array({rl})}}});
            o["return_amounts"] = {{"total_money", money(price, cur)},
                                   {"tax_money", money(0, cur)}};
            o["net_amounts"] = {{"total_money", money(-price, cur)}};
            o["total_money"] = money(0, cur);
            o["state"] = "COMPLETED";
        } else {
            const int n = 1 + static_cast<int>(pick(3));
            for (int k = 0; k < n; ++k) {
                const int64_t price = (1 + pick(25)) * unit + (unit == 1 ? 0 : pick(100));
                json li = {{"uid", "LI" + std::to_string(i) + "-" + std::to_string(k)},
                           {"name", kItems[pick(6)]},
                           {"catalog_object_id", "ITEM" + std::to_string(pick(50))},
                           {"base_price_money", money(price, cur)}};
                int64_t line_total;
                if (pick(30) == 0) {
                    li["quantity"] = "0.5";  // a weighed item
                    line_total = price / 2;
                } else {
                    const int64_t q = 1 + pick(3);
                    li["quantity"] = std::to_string(q);
                    line_total = q * price;
                }
                li["total_money"] = money(line_total, cur);
                lines.push_back(li);
                total += line_total;
            }
            const int64_t tax = total / 10;
            o["line_items"] = lines;
            o["total_tax_money"] = money(tax, cur);
            o["total_discount_money"] = money(0, cur);
            o["total_money"] = money(total + tax, cur);
            const auto st = pick(20);
            o["state"] = st == 0 ? "CANCELED" : st < 3 ? "OPEN" : "COMPLETED";
            if (o["state"] == "COMPLETED") completed.push_back(idbuf);
        }
        orders_[idbuf] = Order{o, {1}};
        ids_.push_back(idbuf);
    }
    now_ms_ = t + 60000;
}

std::string SquareVendor::next_timestamp_locked() {
    now_ms_ += 1 + static_cast<int64_t>(rng_state_ % 1500);
    rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return format_ms(now_ms_);
}

void SquareVendor::mutate_locked(std::size_t count) {
    if (ids_.empty()) return;
    // One timestamp for the whole bump, as a bulk edit does: ties again.
    const std::string ts = next_timestamp_locked();
    for (std::size_t k = 0; k < count; ++k) {
        rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        auto& o = orders_[ids_[(rng_state_ >> 17) % ids_.size()]];
        const int64_t v = o.body["version"].get<int64_t>() + 1;
        o.body["version"] = v;
        o.body["updated_at"] = ts;
        if (o.body.value("state", "") == "OPEN") o.body["state"] = "COMPLETED";
        o.versions.push_back(v);
    }
}

void SquareVendor::mutate(std::size_t count) {
    std::lock_guard lock(mu_);
    mutate_locked(count);
}

std::map<std::string, json> SquareVendor::orders() const {
    std::lock_guard lock(mu_);
    std::map<std::string, json> out;
    for (const auto& [id, o] : orders_) out[id] = o.body;
    return out;
}

json SquareVendor::state() const {
    std::lock_guard lock(mu_);
    json orders = json::object();
    for (const auto& [id, o] : orders_)
        orders[id] = {{"version", o.body["version"]},
                      {"updated_at", o.body["updated_at"]},
                      {"versions", o.versions}};
    return {{"orders", orders}, {"count", orders_.size()}};
}

HttpResponse SquareVendor::handle(const HttpRequest& r) {
    if (r.path() != "/v2/orders/search")
        return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND",
                     "No such endpoint: " + std::string(r.path()));
    if (r.method != "POST")
        return error(405, "INVALID_REQUEST_ERROR", "METHOD_NOT_ALLOWED", "SearchOrders takes POST");
    auto auth = r.header("Authorization");
    if (auth.substr(0, 7) != "Bearer " || auth.substr(7) != token_)
        return error(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                     "This request could not be authorized.");
    static const std::regex version_re(R"(\d{4}-\d{2}-\d{2})");
    if (!std::regex_match(std::string(r.header("Square-Version")), version_re))
        return bad_request("INVALID_SQUARE_VERSION_FORMAT",
                           "Square-Version must be a date such as 2024-05-15");
    if (r.header("Content-Type").substr(0, 16) != "application/json")
        return bad_request("EXPECTED_JSON_BODY", "The request body must be JSON");
    return search(r);
}

HttpResponse SquareVendor::search(const HttpRequest& r) {
    json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) return bad_request("INVALID_JSON", "The body is not a JSON object");
    const bool has_cursor = body.contains("cursor");
    std::vector<Fault> allowed = {Fault::throttle, Fault::throttle_silent, Fault::server_error,
                                  Fault::hang_up,  Fault::short_page,      Fault::mutate_rows,
                                  Fault::slow};
    if (has_cursor) allowed.push_back(Fault::invalidate_cursor);
    const Fault fault = faults_enabled_ ? faults().next("search", allowed) : Fault::none;
    switch (fault) {
        case Fault::throttle: {
            auto resp = error(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limit exceeded.");
            resp.headers.emplace_back("Retry-After", "0");
            return resp;
        }
        case Fault::throttle_silent:  // Square's usual: no Retry-After at all
            return error(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limit exceeded.");
        case Fault::server_error:
            return error(503, "API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable.");
        case Fault::hang_up: {
            HttpResponse h;
            h.close_without_answer = true;
            return h;
        }
        default:
            break;
    }

    // ---- Validation, as SearchOrders does it --------------------------------------------------
    const json& locs = body.value("location_ids", json());
    if (!locs.is_array() || locs.empty() || locs.size() > 10)
        return bad_request("INVALID_ARRAY_LENGTH", "location_ids must hold 1 to 10 ids",
                           "location_ids");
    std::set<std::string> wanted;
    for (const auto& l : locs) {
        if (!l.is_string() || !locations_.count(l.get<std::string>()))
            return error(403, "AUTHENTICATION_ERROR", "FORBIDDEN",
                         "Merchant does not have access to location " + l.dump(), "location_ids");
        wanted.insert(l.get<std::string>());
    }
    int64_t limit = 500;
    if (body.contains("limit")) {
        if (!body["limit"].is_number_integer() || body["limit"].get<int64_t>() < 1)
            return bad_request("INVALID_VALUE", "limit must be a positive integer", "limit");
        limit = body["limit"].get<int64_t>();
        if (limit > 1000)
            return bad_request("VALUE_TOO_HIGH", "limit must be at most 1000", "limit");
    }
    if (body.value("return_entries", false))
        return bad_request("INVALID_VALUE", "this simulator serves full orders only",
                           "return_entries");
    const json query = body.value("query", json::object());
    const json filter = query.value("filter", json::object());
    const json sort = query.value("sort", json::object());
    const std::string sort_field = sort.value("sort_field", "CREATED_AT");
    const std::string sort_order = sort.value("sort_order", "DESC");
    const json dtf = filter.value("date_time_filter", json::object());
    std::string filter_field;
    for (const char* f : {"created_at", "updated_at", "closed_at"})
        if (dtf.contains(f)) {
            if (!filter_field.empty())
                return bad_request("INVALID_VALUE", "date_time_filter takes one field",
                                   "query.filter.date_time_filter");
            filter_field = f;
        }
    std::string upper = filter_field;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    if (!filter_field.empty() && upper != sort_field)
        return bad_request(
            "INVALID_VALUE",
            "sort_field " + sort_field + " must match the date_time_filter field " + filter_field,
            "query.sort.sort_field");
    if (sort_field != "UPDATED_AT" || sort_order != "ASC")
        return bad_request("INVALID_VALUE",
                           "this simulator serves UPDATED_AT ASC only (sort " + sort_field + " " +
                               sort_order + ")",
                           "query.sort");
    std::optional<int64_t> start, end;
    if (!filter_field.empty()) {
        const json range = dtf[filter_field];
        if (range.contains("start_at")) {
            start = parse_ms(range.value("start_at", ""));
            if (!start) return bad_request("INVALID_TIME", "bad start_at", "start_at");
        }
        if (range.contains("end_at")) {
            end = parse_ms(range.value("end_at", ""));
            if (!end) return bad_request("INVALID_TIME", "bad end_at", "end_at");
        }
    }
    std::set<std::string> states;
    if (filter.contains("state_filter"))
        for (const auto& s : filter["state_filter"].value("states", json::array()))
            states.insert(s.get<std::string>());

    json identity = {{"location_ids", locs},
                     {"query", query},
                     {"return_entries", body.value("return_entries", false)}};
    const std::string qhash = std::to_string(std::hash<std::string>{}(identity.dump()));

    std::lock_guard lock(mu_);
    if (fault == Fault::mutate_rows) mutate_locked(mutate_count_);
    if (fault == Fault::invalidate_cursor) ++cursor_epoch_;

    std::string after_ts, after_id;
    int64_t run_end = now_ms_;
    if (has_cursor) {
        auto text =
            body["cursor"].is_string() ? unhex(body["cursor"].get<std::string>()) : std::nullopt;
        json c = text ? json::parse(*text, nullptr, false) : json();
        if (!c.is_object())
            return bad_request("INVALID_CURSOR", "The cursor is not valid", "cursor");
        if (c.value("e", uint64_t{0}) != cursor_epoch_)
            return bad_request("INVALID_CURSOR", "The cursor has expired; search again", "cursor");
        if (c.value("q", "") != qhash)
            return bad_request("INVALID_VALUE",
                               "The query must be the same on every page of a cursor", "cursor");
        after_ts = c.value("t", "");
        after_id = c.value("i", "");
        run_end = c.value("end", int64_t{0});
    }
    if (end) run_end = *end;

    std::vector<const json*> matching;
    for (const auto& [id, o] : orders_) {
        const json& b = o.body;
        if (!wanted.count(b["location_id"].get<std::string>())) continue;
        if (!states.empty() && !states.count(b.value("state", ""))) continue;
        const auto& ts = b["updated_at"].get_ref<const std::string&>();
        const int64_t t = *parse_ms(ts);
        if (start && t < *start) continue;
        if (t > run_end) continue;
        if (has_cursor && (ts < after_ts || (ts == after_ts && id <= after_id))) continue;
        matching.push_back(&b);
    }
    std::sort(matching.begin(), matching.end(), [](const json* a, const json* b) {
        const auto& ta = (*a)["updated_at"].get_ref<const std::string&>();
        const auto& tb = (*b)["updated_at"].get_ref<const std::string&>();
        if (ta != tb) return ta < tb;
        return (*a)["id"].get_ref<const std::string&>() < (*b)["id"].get_ref<const std::string&>();
    });
    auto page = static_cast<std::size_t>(std::min<int64_t>(limit, static_cast<int64_t>(max_page_)));
    if (fault == Fault::short_page && page > 1) page = 1 + (rng_state_ >> 9) % (page - 1);
    json out = json::object();
    if (matching.empty()) return HttpResponse::json(200, "{}");  // Square: no match is {}
    json list = json::array();
    for (std::size_t k = 0; k < matching.size() && k < page; ++k) list.push_back(*matching[k]);
    out["orders"] = list;
    if (matching.size() > page) {
        const json& last = list.back();
        json c = {{"e", cursor_epoch_},
                  {"q", qhash},
                  {"t", last["updated_at"]},
                  {"i", last["id"]},
                  {"end", run_end}};
        out["cursor"] = hex(c.dump());
    }
    HttpResponse resp = HttpResponse::json(200, out.dump());
    if (fault == Fault::slow) resp.delay = std::chrono::milliseconds(faults().plan().slow_ms);
    return resp;
}

CDPHUB_SIM_VENDOR("square", SquareVendor);

}  // namespace cdphub::sim

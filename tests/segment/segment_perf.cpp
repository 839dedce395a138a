// Segment SQL performance on a large generated store file (not a test; see docs/segments.md,
// "Performance").
//
//   segment_perf generate FILE PROFILES     write a store file with PROFILES synthetic profiles
//   segment_perf bench FILE [RUNS]          time the benchmark segments (best and median of RUNS)
//   segment_perf run FILE 'EXPRESSION' [RUNS]
//   segment_perf plan FILE 'EXPRESSION'     print the SQL and SQLite's query plan
//
// Data shape per profile (averages): 6 traits (one an object), 1.6 identifiers, 1 consent,
// 8 events over two years (20% "Order Completed"), 1.5 orders. Events and orders are inserted in
// time order, as a live store receives them.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "segment/parser.hpp"
#include "segment/sql_compiler.hpp"
#include "segment/sqlite_backend.hpp"
#include "store/database.hpp"

namespace {

using namespace cdphub;
using Clock = std::chrono::steady_clock;

constexpr const char* kNow = "2024-06-01T12:00:00.000Z";

struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        s += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string ts(std::int64_t ms) {
    return store::format_timestamp(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

int generate(const std::filesystem::path& path, int profiles) {
    auto t0 = Clock::now();
    std::filesystem::remove(path);
    { store::open_database(path, {}); }  // the schema, by the hub's own migrations
    SQLite::Database db(path.string(), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -1000000");
    // Load without secondary indexes, then build them once (what the migrations define).
    std::vector<std::string> indexes;
    {
        SQLite::Statement q(
            db,
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT "
            "NULL AND tbl_name IN ('profiles', 'profile_traits', 'profile_identifiers', "
            "'events', 'orders', 'consents')");
        std::vector<std::string> names;
        while (q.executeStep()) {
            names.push_back(q.getColumn(0).getString());
            indexes.push_back(q.getColumn(1).getString());
        }
        for (const auto& n : names) db.exec("DROP INDEX \"" + n + "\"");
    }
    const std::int64_t now = 1717243200000;  // 2024-06-01T12:00:00Z
    const std::int64_t day = 86400000;
    static const char* countries[] = {"DE", "DE", "DE", "US", "US", "FR", "GB", "AT", "CH", "IT",
                                      "ES", "NL", "PL", "SE", "DK", "NO", "FI", "BE", "PT", "CZ"};
    static const char* plans[] = {"free", "free", "free", "pro", "enterprise"};
    static const char* cities[] = {"Berlin", "Hamburg", "München", "Paris", "London", "Wien"};
    static const char* events[] = {
        "Product Viewed", "Product Viewed",  "Product Viewed", "Product Viewed", "Page Viewed",
        "Page Viewed",    "Order Completed", "Signed Up",      "Cart Abandoned", "Order Completed"};
    static const char* currencies[] = {"EUR", "EUR", "EUR", "USD", "GBP"};
    static const char* statuses[] = {"paid", "paid", "paid", "refunded", "shipped"};
    Rng r{42};
    SQLite::Statement ins_profile(
        db, "INSERT INTO profiles (id, created_at, updated_at) VALUES (?, ?, ?)");
    SQLite::Statement ins_trait(
        db,
        "INSERT INTO profile_traits (profile_id, name, kind, value, source, "
        "observed_at) VALUES (?, ?, ?, ?, 'crm', ?)");
    SQLite::Statement ins_id(
        db,
        "INSERT INTO profile_identifiers (type, value, profile_id, first_seen_at, "
        "source) VALUES (?, ?, ?, ?, 'crm')");
    SQLite::Statement ins_consent(db,
                                  "INSERT INTO consents (profile_id, purpose, granted, source, "
                                  "occurred_at) VALUES (?, ?, ?, 'web', ?)");
    SQLite::Statement ins_event(db,
                                "INSERT INTO events (id, profile_id, record_id, source, event, "
                                "occurred_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?)");
    SQLite::Statement ins_order(
        db,
        "INSERT INTO orders (id, profile_id, source, order_id, record_id, "
        "occurred_at, updated_at, currency, total_minor, tax_minor, "
        "discount_minor, status, lines) VALUES (?, ?, 'shop', ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, '[]')");
    auto trait = [&](std::int64_t id, const char* name, const char* kind, auto value,
                     const std::string& at) {
        ins_trait.reset();
        ins_trait.bind(1, static_cast<int64_t>(id));
        ins_trait.bind(2, name);
        ins_trait.bind(3, kind);
        ins_trait.bind(4, value);
        ins_trait.bind(5, at);
        ins_trait.exec();
    };
    // Events and orders are inserted in time order after the profiles, as a live store receives
    // them: rowids follow time, not profiles (which decides which query plans read sequentially).
    struct Ev {
        std::int64_t at;
        std::int64_t profile;
        std::uint64_t seed;
    };
    std::vector<Ev> evs, ords;
    std::int64_t event_id = 0, order_id = 0;
    SQLite::Transaction tx(db);
    for (std::int64_t id = 1; id <= profiles; ++id) {
        std::string created = ts(now - (1 + r.below(900)) * day);
        ins_profile.reset();
        ins_profile.bind(1, static_cast<int64_t>(id));
        ins_profile.bind(2, created);
        ins_profile.bind(3, created);
        ins_profile.exec();
        trait(id, "country", "string", std::string(countries[r.below(20)]), created);
        trait(id, "age", "number", static_cast<int64_t>(18 + r.below(63)), created);
        trait(id, "plan", "string", std::string(plans[r.below(5)]), created);
        trait(id, "vip", "boolean", r.chance(5) ? 1 : 0, created);
        trait(id, "first_name", "string", "Name" + std::to_string(r.below(5000)), created);
        nlohmann::json addr = {{"city", cities[r.below(6)]},
                               {"zip", std::to_string(10000 + r.below(89999))}};
        trait(id, "address", "object", addr.dump(), created);
        int emails = r.chance(10) ? 2 : 1;
        for (int k = 0; k < emails; ++k) {
            ins_id.reset();
            ins_id.bind(1, "email");
            ins_id.bind(2, "user" + std::to_string(id) + "." + std::to_string(k) + "@example.com");
            ins_id.bind(3, static_cast<int64_t>(id));
            ins_id.bind(4, created);
            ins_id.exec();
        }
        if (r.chance(50)) {
            ins_id.reset();
            ins_id.bind(1, "phone");
            ins_id.bind(2, "+49" + std::to_string(1500000000 + id));
            ins_id.bind(3, static_cast<int64_t>(id));
            ins_id.bind(4, created);
            ins_id.exec();
        }
        for (const char* purpose : {"email_marketing", "sms"}) {
            if (!r.chance(std::string(purpose) == "sms" ? 30 : 70)) continue;
            ins_consent.reset();
            ins_consent.bind(1, static_cast<int64_t>(id));
            ins_consent.bind(2, purpose);
            ins_consent.bind(3, r.chance(60) ? 1 : 0);
            ins_consent.bind(4, created);
            ins_consent.exec();
        }
        int n_events = r.below(17);
        for (int k = 0; k < n_events; ++k)
            evs.push_back(
                {now - static_cast<std::int64_t>(r.next() % (730ULL * day)), id, r.next()});
        int n_orders = r.below(4);
        for (int k = 0; k < n_orders; ++k)
            ords.push_back(
                {now - static_cast<std::int64_t>(r.next() % (730ULL * day)), id, r.next()});
        if (id % 100000 == 0)
            std::cerr << "  " << id << " profiles, " << ms_since(t0) / 1000 << " s\n";
    }
    auto by_time = [](const Ev& x, const Ev& y) { return x.at < y.at; };
    std::sort(evs.begin(), evs.end(), by_time);
    std::sort(ords.begin(), ords.end(), by_time);
    for (const auto& e : evs) {
        Rng er{e.seed};
        ++event_id;
        const char* name = events[er.below(10)];
        nlohmann::json props = {{"sku", "SKU-" + std::to_string(er.below(500))}};
        if (std::string(name) == "Order Completed") props["revenue"] = (er.below(20000)) / 100.0;
        if (er.chance(20)) props["plan"] = plans[er.below(5)];
        ins_event.reset();
        ins_event.bind(1, static_cast<int64_t>(event_id));
        ins_event.bind(2, static_cast<int64_t>(e.profile));
        ins_event.bind(3, static_cast<int64_t>(event_id));
        ins_event.bind(4, er.chance(70) ? "web" : "app");
        ins_event.bind(5, name);
        ins_event.bind(6, ts(e.at));
        ins_event.bind(7, props.dump());
        ins_event.exec();
    }
    for (const auto& o : ords) {
        Rng orng{o.seed};
        ++order_id;
        std::string at = ts(o.at);
        ins_order.reset();
        ins_order.bind(1, static_cast<int64_t>(order_id));
        ins_order.bind(2, static_cast<int64_t>(o.profile));
        ins_order.bind(3, "o" + std::to_string(order_id));
        ins_order.bind(4, static_cast<int64_t>((int64_t{1} << 40) + order_id));
        ins_order.bind(5, at);
        ins_order.bind(6, at);
        ins_order.bind(7, currencies[orng.below(5)]);
        ins_order.bind(8, static_cast<int64_t>(500 + orng.below(30000)));
        if (orng.chance(80)) ins_order.bind(9, static_cast<int64_t>(orng.below(3000)));
        if (orng.chance(20)) ins_order.bind(10, static_cast<int64_t>(orng.below(1000)));
        ins_order.bind(11, statuses[orng.below(5)]);
        ins_order.exec();
    }
    tx.commit();
    auto t1 = Clock::now();
    for (const auto& sql : indexes) db.exec(sql);
    std::cout << "generated " << profiles << " profiles, " << event_id << " events, " << order_id
              << " orders in " << ms_since(t0) / 1000 << " s (indexes " << ms_since(t1) / 1000
              << " s); file " << std::filesystem::file_size(path) / (1024 * 1024) << " MiB\n";
    return 0;
}

struct Timing {
    double best = 0, median = 0, cpu_best = 0;
    std::size_t members = 0;
};

// CPU time of this process, which other load on the machine disturbs less than wall time.
double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}

Timing time_expression(SQLite::Database& db, const std::string& text, int runs) {
    auto parsed = segment::parse_segment(text);
    if (!parsed.ok()) throw std::runtime_error(parsed.errors[0].to_string());
    segment::Context ctx{kNow, nullptr};
    std::vector<double> ms, cpu;
    Timing t;
    for (int i = 0; i < runs; ++i) {
        auto t0 = Clock::now();
        double c0 = cpu_ms();
        auto compiled = segment::compile_sql(*parsed.value, ctx);
        t.members = segment::run_segment_sql(db, compiled).size();
        ms.push_back(ms_since(t0));
        cpu.push_back(cpu_ms() - c0);
    }
    std::sort(ms.begin(), ms.end());
    t.cpu_best = *std::min_element(cpu.begin(), cpu.end());
    t.best = ms.front();
    t.median = ms[ms.size() / 2];
    return t;
}

const std::vector<std::string> kBench = {
    R"(traits.country == "DE" and count(track "Order Completed" within 90d) >= 2 and consent.email_marketing == true)",
    R"(traits.plan == "pro" and sum(orders.total_minor where currency == "EUR" within 365d) > 20000 and exists identifiers.phone)",
    R"(traits.age >= 30 and traits.age < 40 and count(track "Product Viewed" within 7d) >= 1)",
    R"(traits.vip == true and count(orders within 90d) == 0 and consent.email_marketing == true)",
    R"(traits.address.city == "Berlin" and not exists identifiers.phone and consent.sms == true)",
    R"(count(track "Order Completed" within 30d) >= 1 or count(orders within 30d) >= 1)",
    R"(count(track "Order Completed") >= 5)",
    R"(sum(orders.total_minor) > 50000)",
    R"(last(track.properties.plan) == "pro")",
    R"(distinct_count(track "Product Viewed".properties.sku within 30d) >= 3)",
    R"(traits.country in ["AT", "CH"])",
    R"(not traits.country == "DE")",
};

void print_timing(const std::string& text, const Timing& t) {
    std::printf("%8.1f ms best %8.1f ms median %8.1f ms cpu %8zu members  %s\n", t.best, t.median,
                t.cpu_best, t.members, text.c_str());
}

// SEGMENT_PERF_PRAGMAS="PRAGMA temp_store = MEMORY; ..." is run on the connection first, to try
// connection settings.
SQLite::Database open_store(const std::filesystem::path& path) {
    auto db = store::open_database(path, {});
    if (const char* p = std::getenv("SEGMENT_PERF_PRAGMAS")) db.exec(p);
    return db;
}

int bench(const std::filesystem::path& path, int runs) {
    auto db = open_store(path);
    for (const auto& text : kBench) print_timing(text, time_expression(db, text, runs));
    return 0;
}

int plan(const std::filesystem::path& path, const std::string& text) {
    auto db = open_store(path);
    auto parsed = segment::parse_segment(text);
    if (!parsed.ok()) {
        std::cerr << parsed.errors[0].to_string() << "\n";
        return 1;
    }
    auto compiled = segment::compile_sql(*parsed.value, segment::Context{kNow, nullptr});
    std::cout << compiled.sql << "\n";
    segment::register_sql_functions(db);
    SQLite::Statement q(db, "EXPLAIN QUERY PLAN " + compiled.sql);
    for (std::size_t i = 0; i < compiled.params.size(); ++i) {
        const auto& v = compiled.params[i];
        int n = static_cast<int>(i + 1);
        if (auto* s = std::get_if<std::string>(&v))
            q.bind(n, *s);
        else if (auto* d = std::get_if<double>(&v))
            q.bind(n, *d);
        else
            q.bind(n, static_cast<int64_t>(std::get<std::int64_t>(v)));
    }
    while (q.executeStep())
        std::cout << q.getColumn(0).getInt() << " " << q.getColumn(1).getInt() << " "
                  << q.getColumn(3).getString() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::vector<std::string> a(argv + 1, argv + argc);
        if (a.size() >= 3 && a[0] == "generate") return generate(a[1], std::stoi(a[2]));
        if (a.size() >= 2 && a[0] == "bench")
            return bench(a[1], a.size() > 2 ? std::stoi(a[2]) : 5);
        if (a.size() >= 3 && a[0] == "run") {
            auto db = open_store(a[1]);
            print_timing(a[2], time_expression(db, a[2], a.size() > 3 ? std::stoi(a[3]) : 5));
            return 0;
        }
        if (a.size() >= 3 && a[0] == "plan") return plan(a[1], a[2]);
        std::cerr
            << "usage: segment_perf generate FILE PROFILES | bench FILE [RUNS] | run FILE EXPR "
               "[RUNS] | plan FILE EXPR\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "segment_perf: " << e.what() << "\n";
        return 1;
    }
}

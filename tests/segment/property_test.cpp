// The property that ties the two evaluation paths together: on generated profiles written into a
// real store file, and generated expressions, the SQL result set equals the set of live profiles
// whose snapshot the in-memory evaluator accepts (both the generator's own snapshots and the
// ones load_snapshot reads back). Also checks the text and JSON round trips of every well-typed
// generated expression.
//
// Seeds: CDPHUB_SEGMENT_SEED=<n> runs one seed; CDPHUB_SEGMENT_EXPRESSIONS=<n> changes how many
// expressions each seed tries. Failures print the seed, the expression and its SQL.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "segment/evaluator.hpp"
#include "segment/parser.hpp"
#include "segment/sql_compiler.hpp"
#include "segment/sqlite_backend.hpp"
#include "segment/values.hpp"
#include "segment_test_util.hpp"
#include "store/database.hpp"
#include "test_util.hpp"

namespace cdphub::segment {
namespace {

using nlohmann::json;
using profile::ProfileId;

constexpr const char* kNow = "2024-06-01T12:00:00.000Z";

const std::vector<std::string> kStrings = {"DE",
                                           "AT",
                                           "de",
                                           "",
                                           "a",
                                           "ab",
                                           "abc",
                                           "b",
                                           "Z",
                                           "zz",
                                           "Ünïcödé",
                                           "日本語",
                                           "😀",
                                           "😀x",
                                           "quote \" in",
                                           "back\\slash",
                                           "line\nbreak",
                                           "tab\t",
                                           " ",
                                           "null",
                                           "true",
                                           "1",
                                           "1.0",
                                           "A-1",
                                           "B-2",
                                           "c'd",
                                           "ÿ",
                                           "\x7f",
                                           "é",
                                           "e\xcc\x81",
                                           "\x01"
                                           "ctl",
                                           "%_like",
                                           "a%",
                                           "[x]"};
const std::vector<json> kNumbers = {0,
                                    1,
                                    -1,
                                    2,
                                    5,
                                    42,
                                    1.0,
                                    2.5,
                                    -0.5,
                                    0.1,
                                    0.2,
                                    0.3,
                                    19.99,
                                    100,
                                    -3,
                                    7.75,
                                    1e20,
                                    -0.0,
                                    3,
                                    12.25,
                                    1e-7,
                                    1000,
                                    9007199254740993LL,
                                    -9007199254740993LL,
                                    1099511627776LL,
                                    4.0,
                                    9007199254740992.0,
                                    9007199254740994LL};
const std::vector<std::string> kEvents = {"Order Completed", "Product Viewed", "Signed Up",
                                          "Ünï Event", "quote \" event"};
const std::vector<std::string> kSources = {"web", "app", "Ünï"};
const std::vector<std::string> kCurrencies = {"EUR", "USD", "GBP", "JPY"};
const std::vector<std::string> kStatuses = {"paid", "refunded", "pending", "Ünï"};
const std::vector<std::string> kSkus = {"A-1", "B-2", "C-3", "a-1"};
const std::vector<std::string> kTraitNames = {
    "country", "age", "vip", "score", "plan", "address", "tags", "first name", "ünï", "weird.key"};
const std::vector<std::string> kPurposes = {"email_marketing", "sms", "analytics"};
const std::vector<std::string> kWindows = {"1d", "7d",  "30d", "90d",  "365d",
                                           "2w", "36h", "90m", "5000s"};

bool valid_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::exception&) {
        return false;
    }
}

class Gen {
  public:
    explicit Gen(std::uint64_t seed) : rng_(seed) {}

    int below(int n) {
        return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng_));
    }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))];
    }

    // Values of different types that look alike: strict typing must keep them apart.
    json lookalike() {
        static const std::vector<json> v = {0, 1, false, true, "0", "1", 1.0, 0.0, "true", -0.0};
        return pick(v);
    }

    json scalar() {
        int r = below(100);
        if (r < 12) return lookalike();
        if (r < 45) return pick(kStrings);
        if (r < 85) return pick(kNumbers);
        return chance(0.5);
    }
    json value(int depth) {
        int r = below(100);
        if (depth >= 2 || r < 70) return scalar();
        if (r < 85) {
            json o = json::object();
            int n = below(4);
            for (int i = 0; i < n; ++i) {
                std::string key = pick(kStrings);
                o[key] = value(depth + 1);
            }
            return o;
        }
        json a = json::array();
        int n = below(3);
        for (int i = 0; i < n; ++i) a.push_back(value(depth + 1));
        return a;
    }

    // ---- data ----

    std::string timestamp() {
        static const std::vector<std::int64_t> special = {-90LL * 86400000,
                                                          -90LL * 86400000 - 1,
                                                          -90LL * 86400000 + 1,
                                                          -86400000,
                                                          -86400000 + 1,
                                                          -7LL * 86400000,
                                                          -30LL * 86400000,
                                                          -365LL * 86400000,
                                                          0,
                                                          3600000,
                                                          -5000000,
                                                          -5400000};
        std::int64_t off;
        if (chance(0.35))
            off = pick(special);
        else
            off = std::uniform_int_distribution<std::int64_t>(-400LL * 86400000,
                                                              2LL * 86400000)(rng_);
        if (!last_ts_.empty() && chance(0.15)) return last_ts_;  // ties: ordered by id
        last_ts_ = store::format_timestamp(std::chrono::system_clock::time_point(
            std::chrono::milliseconds(parse_timestamp_ms(kNow) + off)));
        return last_ts_;
    }

    json trait_value(const std::string& name) {
        bool typical = chance(0.8);
        if (name == "country" && typical)
            return pick(std::vector<json>{"DE", "AT", "CH", "de", "Ünï"});
        if (name == "age" && typical) return pick(kNumbers);
        if (name == "vip" && typical) return chance(0.5);
        if (name == "score" && typical) return lookalike();
        if (name == "address" && typical) {
            json o = json::object();
            if (chance(0.7)) o["city"] = pick(std::vector<json>{"Berlin", "Wien", "Zürich", 5});
            if (chance(0.6)) o["zip"] = chance(0.5) ? json(pick(kStrings)) : pick(kNumbers);
            if (chance(0.5)) o["geo"] = {{"lat", pick(kNumbers)}, {"lng", scalar()}};
            if (chance(0.4)) o["no"] = chance(0.6) ? json(nullptr) : lookalike();
            if (chance(0.3)) o["list"] = json::array({1, "a"});
            if (chance(0.4)) o["odd key"] = scalar();
            if (chance(0.3)) o["ü"] = value(1);
            return o;
        }
        if (name == "tags" && typical) return json::array({pick(kStrings), pick(kStrings)});
        json v = value(0);
        return v;
    }

    profile::ProfileSnapshot profile(ProfileId id) {
        profile::ProfileSnapshot s;
        s.id = id;
        s.created_at = "2024-01-01T00:00:00.000Z";
        if (chance(0.08)) return s;  // nothing at all
        for (const auto& n : kTraitNames)
            if (chance(0.6)) s.traits[n] = trait_value(n);
        static const std::vector<std::string> locals = {"ann", "bob", "zoë", "q\"t", "x"};
        static const std::vector<std::string> domains = {"example.com", "work.example", "ünï.de"};
        int emails = below(4);
        for (int k = 0; k < emails; ++k) {
            // One draw per statement: the order of operands of + is unspecified, and seeds must
            // reproduce with every compiler.
            std::string local = pick(locals);
            std::string domain = pick(domains);
            s.identifiers["email"].push_back(local + std::to_string(id) + "." + std::to_string(k) +
                                             "@" + domain);
        }
        int phones = below(3);
        for (int k = 0; k < phones; ++k)
            s.identifiers["phone"].push_back("+49" + std::to_string(id * 10 + k));
        for (auto& [t, v] : s.identifiers) std::sort(v.begin(), v.end());
        for (const auto& p : kPurposes) {
            int r = below(3);
            if (r < 2) s.consent[p] = {r == 0, "web", "2024-01-01T00:00:00.000Z"};
        }
        int events = below(9);
        for (int k = 0; k < events; ++k) {
            profile::EventFact e;
            e.id = ++event_id_;
            e.event = pick(kEvents);
            e.source = pick(kSources);
            e.occurred_at = timestamp();
            json props = json::object();
            if (chance(0.7)) props["sku"] = chance(0.8) ? json(pick(kSkus)) : scalar();
            if (chance(0.6)) props["price"] = chance(0.8) ? pick(kNumbers) : scalar();
            if (chance(0.4)) props["qty"] = below(5);
            if (chance(0.3)) props["flag"] = chance(0.5);
            if (chance(0.3)) props["nested"] = {{"a", {{"b", scalar()}}}};
            if (chance(0.5)) props["maybe"] = chance(0.6) ? json(nullptr) : lookalike();
            if (chance(0.4)) props["mixed"] = chance(0.5) ? lookalike() : value(0);
            if (chance(0.2)) props["odd key"] = scalar();
            e.properties = props;
            s.events.push_back(std::move(e));
        }
        int orders = below(6);
        for (int k = 0; k < orders; ++k) {
            profile::OrderFact o;
            o.id = ++order_id_;
            o.source = chance(0.5) ? "shop" : "pos";
            o.order_id = "o" + std::to_string(o.id);
            o.occurred_at = timestamp();
            o.currency = pick(kCurrencies);
            o.total_minor = chance(0.2)
                                ? pick(std::vector<std::int64_t>{0, -500, 5000, 100})
                                : std::uniform_int_distribution<std::int64_t>(-5000, 50000)(rng_);
            if (chance(0.5)) o.tax_minor = below(2000);
            if (chance(0.3)) o.discount_minor = below(500) - 100;
            if (chance(0.7)) o.status = pick(kStatuses);
            s.orders.push_back(std::move(o));
        }
        return s;
    }

    // ---- expressions ----

    json literal_for(StaticType t) {
        switch (t) {
            case StaticType::string:
                return pick(kStrings);
            case StaticType::number:
                return pick(kNumbers);
            case StaticType::boolean:
                return chance(0.5);
            case StaticType::any:
                return scalar();
        }
        return scalar();
    }

    // Profiles whose actual values serve as literals, so that comparisons hit exact boundaries.
    void use_data(const std::vector<profile::ProfileSnapshot>* data, const Context* ctx) {
        data_ = data;
        ctx_ = ctx;
    }

    // The operand's value on a random profile (one of them for identifiers), if it is a scalar.
    std::optional<json> data_value(const Operand& o) {
        if (data_ == nullptr || data_->empty()) return std::nullopt;
        for (int attempt = 0; attempt < 4; ++attempt) {
            const auto& prof = pick(*data_);
            std::optional<json> v;
            try {
                v = evaluate_operand(o, prof, *ctx_);
            } catch (const EvalError&) {
                return std::nullopt;
            }
            if (!v) continue;
            if (v->is_array() && o.kind == Operand::Kind::identifier)
                v = pick(v->get<std::vector<json>>());
            if (v->is_string() || v->is_number() || v->is_boolean()) return v;
        }
        return std::nullopt;
    }

    // An operator and literals for an operand of static type t. Mostly well typed; sometimes
    // deliberately not (check() rejects those; both paths must still agree).
    void op_and_values(Predicate& p, StaticType t, const std::vector<json>& likely) {
        bool wrong = chance(0.06);
        auto lit = [&]() -> json {
            if (wrong) return scalar();
            if (p.operand.kind != Operand::Kind::field && chance(0.45)) {
                if (auto v = data_value(p.operand)) return *v;
            }
            if (!likely.empty() && chance(0.6)) return pick(likely);
            return literal_for(t);
        };
        int r = below(100);
        if (r < 25) {
            p.op = Op::eq;
        } else if (r < 35) {
            p.op = Op::ne;
        } else if (r < 55) {
            p.op = pick(std::vector<Op>{Op::lt, Op::le, Op::gt, Op::ge});
        } else if (r < 67) {
            p.op = Op::in;
        } else if (r < 82) {
            p.op = pick(std::vector<Op>{Op::contains, Op::starts_with, Op::ends_with});
        } else {
            p.op = Op::exists;
        }
        if (t == StaticType::boolean && !wrong &&
            (p.op == Op::lt || p.op == Op::le || p.op == Op::gt || p.op == Op::ge ||
             p.op == Op::contains || p.op == Op::starts_with || p.op == Op::ends_with))
            p.op = Op::eq;
        if (t == StaticType::number && !wrong &&
            (p.op == Op::contains || p.op == Op::starts_with || p.op == Op::ends_with))
            p.op = Op::ge;
        switch (p.op) {
            case Op::exists:
                break;
            case Op::in: {
                int n = 1 + below(3);
                for (int i = 0; i < n; ++i) p.values.push_back(lit());
                break;
            }
            case Op::contains:
            case Op::starts_with:
            case Op::ends_with: {
                json v = lit();
                if (!wrong && !v.is_string()) v = pick(kStrings);
                if (v.is_string() && chance(0.5)) {
                    // A piece of a likely string, so that the operators hit.
                    std::string s = v.get<std::string>();
                    if (!s.empty()) {
                        std::size_t n =
                            1 + static_cast<std::size_t>(below(static_cast<int>(s.size())));
                        std::string piece =
                            p.op == Op::ends_with ? s.substr(s.size() - n) : s.substr(0, n);
                        if (valid_utf8(piece)) v = piece;
                    }
                }
                p.values.push_back(v);
                break;
            }
            default: {
                json v = lit();
                if (!wrong && v.is_boolean() &&
                    (p.op == Op::lt || p.op == Op::le || p.op == Op::gt || p.op == Op::ge))
                    v = pick(kNumbers);
                p.values.push_back(v);
            }
        }
    }

    Operand field(Source s, bool numeric) {
        Operand f;
        f.kind = Operand::Kind::field;
        if (s == Source::track) {
            int r = below(10);
            if (numeric || r < 7) {
                f.name = "properties";
                // Weighted towards the paths whose values mix types and nulls.
                static const std::vector<std::vector<std::string>> paths = {{"sku"},
                                                                            {"sku"},
                                                                            {"price"},
                                                                            {"price"},
                                                                            {"qty"},
                                                                            {"flag"},
                                                                            {"mixed"},
                                                                            {"mixed"},
                                                                            {"mixed"},
                                                                            {"mixed"},
                                                                            {"maybe"},
                                                                            {"maybe"},
                                                                            {"nested", "a", "b"},
                                                                            {"nested", "a"},
                                                                            {"odd key"},
                                                                            {"nope"}};
                static const std::vector<std::vector<std::string>> numeric_paths = {
                    {"price"}, {"qty"}, {"mixed"}, {"nested", "a", "b"}, {"sku"}};
                f.path = numeric ? pick(numeric_paths) : pick(paths);
            } else {
                f.name = pick(std::vector<std::string>{"event", "source", "occurred_at"});
            }
        } else {
            f.name =
                numeric
                    ? pick(std::vector<std::string>{"total_minor", "tax_minor", "discount_minor"})
                    : pick(field_names(Source::orders));
        }
        return f;
    }

    std::vector<json> likely_for_field(const Operand& f) {
        if (f.name == "event") return {kEvents.begin(), kEvents.end()};
        if (f.name == "source") return {"web", "app", "Ünï", "shop", "pos"};
        if (f.name == "currency") return {kCurrencies.begin(), kCurrencies.end()};
        if (f.name == "status") return {kStatuses.begin(), kStatuses.end()};
        if (f.name == "occurred_at") return {"2024-03-03T12:00:00.000Z", "2024-05-01", "2023"};
        if (f.name == "order_id") return {"o1", "o10", "o2"};
        if (f.name == "properties" && f.path.front() == "sku") return {kSkus.begin(), kSkus.end()};
        if (f.name == "properties" && f.path.front() == "flag") return {true, false};
        return {0, 1, 2, 5000, 100, -500, true, false, "1", "0", 1.0};
    }

    Expr row_expr(Source s, int depth) {
        int r = below(100);
        if (depth < 2 && r < 30) {
            std::vector<Expr> ch;
            int n = 2 + below(2);
            for (int i = 0; i < n; ++i) ch.push_back(row_expr(s, depth + 1));
            return chance(0.5) ? Expr::make_and(std::move(ch)) : Expr::make_or(std::move(ch));
        }
        if (depth < 2 && r < 40) return Expr::make_not(row_expr(s, depth + 1));
        Predicate p;
        p.operand = field(s, false);
        auto t = field_type(s, p.operand.name).value_or(StaticType::any);
        op_and_values(p, t, likely_for_field(p.operand));
        return Expr::make_predicate(std::move(p));
    }

    Aggregate aggregate() {
        Aggregate a;
        a.func = pick(std::vector<Func>{Func::count, Func::count, Func::sum, Func::min, Func::max,
                                        Func::first, Func::last, Func::distinct_count});
        a.source = chance(0.6) ? Source::track : Source::orders;
        if (a.source == Source::track && chance(0.5))
            a.event = chance(0.9) ? pick(kEvents) : std::string("Never Happened");
        bool numeric = a.func == Func::sum || a.func == Func::min || a.func == Func::max;
        if (a.func != Func::count || chance(0.4)) a.field = field(a.source, numeric);
        if (chance(0.4)) a.where = Box<Expr>(row_expr(a.source, 0));
        if (chance(0.6)) {
            std::string w = pick(kWindows);
            a.within = Duration{std::stoll(w.substr(0, w.size() - 1)), w.back()};
        }
        return a;
    }

    Expr predicate(const ComputedTraits& computed) {
        Predicate p;
        int r = below(100);
        StaticType t = StaticType::any;
        std::vector<json> likely;
        if (r < 28) {
            p.operand.kind = Operand::Kind::trait;
            p.operand.name = chance(0.95) ? pick(kTraitNames) : std::string("nope");
            if (p.operand.name == "address" && chance(0.7)) {
                p.operand.path = pick(std::vector<std::vector<std::string>>{{"city"},
                                                                            {"zip"},
                                                                            {"geo", "lat"},
                                                                            {"geo", "lng"},
                                                                            {"no"},
                                                                            {"list"},
                                                                            {"odd key"},
                                                                            {"ü"},
                                                                            {"geo"},
                                                                            {"city", "x"}});
            }
            likely = {"DE", "AT", "Berlin", "Zürich", 42, 5, true, false, 2.5, 0, 1, "1", "0"};
        } else if (r < 38) {
            p.operand.kind = Operand::Kind::identifier;
            p.operand.name =
                chance(0.9) ? pick(std::vector<std::string>{"email", "phone"}) : std::string("fax");
            t = StaticType::string;
            likely = {"ann1.0@example.com", "+4910", "bob", "ann", "x", "@example.com", "+49"};
        } else if (r < 46) {
            p.operand.kind = Operand::Kind::consent;
            p.operand.name = chance(0.9) ? pick(kPurposes) : std::string("calls");
            t = StaticType::boolean;
        } else if (r < 56) {
            p.operand.kind = Operand::Kind::computed;
            auto it = computed.begin();
            std::advance(it, below(static_cast<int>(computed.size())));
            p.operand.name = it->first;
            t = static_type(p.operand, &computed);
            likely = {0, 1, 2, 3, 5000, 100, "A-1", "C-3"};
        } else {
            p.operand.kind = Operand::Kind::aggregate;
            p.operand.aggregate = Box<Aggregate>(aggregate());
            t = static_type(p.operand, &computed);
            const auto& a = *p.operand.aggregate;
            if (a.func == Func::first || a.func == Func::last)
                likely = likely_for_field(*a.field);
            else
                likely = {0, 1, 2, 3, 0.5, 14.5, 100, 5000, -100, 2.0, 4};
        }
        op_and_values(p, t, likely);
        return Expr::make_predicate(std::move(p));
    }

    Expr expr(const ComputedTraits& computed, int depth = 0) {
        int r = below(100);
        if (depth >= 3 || r < 45) return predicate(computed);
        if (r < 90) {
            std::vector<Expr> ch;
            int n = 2 + below(2);
            for (int i = 0; i < n; ++i) ch.push_back(expr(computed, depth + 1));
            return r < 70 ? Expr::make_and(std::move(ch)) : Expr::make_or(std::move(ch));
        }
        return Expr::make_not(expr(computed, depth + 1));
    }

  private:
    std::mt19937_64 rng_;
    const std::vector<profile::ProfileSnapshot>* data_ = nullptr;
    const Context* ctx_ = nullptr;
    std::int64_t event_id_ = 0;
    std::int64_t order_id_ = 0;
    std::string last_ts_;
};

ComputedTraits computed_traits() {
    ComputedTraits d;
    for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
             {"orders_90d", "count(orders within 90d)"},
             {"eur_ltv", R"(sum(orders.total_minor where currency == "EUR"))"},
             {"last_sku", R"(last(track "Product Viewed".properties.sku))"},
             {"max_price", R"(max(track.properties.price within 365d))"},
             {"skus", R"(distinct_count(track.properties.sku where source != "app"))"}}) {
        auto a = parse_aggregate(text);
        if (!a.ok()) throw std::runtime_error("bad computed trait " + text);
        d.emplace(name, *a.value);
    }
    return d;
}

std::string describe(const Expr& e) {
    try {
        return to_text(e);
    } catch (const std::exception&) {
        return to_json(e).dump();
    }
}

void run_seed(std::uint64_t seed, int profiles, int expressions) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::cout << "[segment property] seed " << seed << ": " << profiles << " profiles, "
              << expressions << " expressions (rerun with CDPHUB_SEGMENT_SEED=" << seed << ")\n";
    Gen g(seed);
    test::TempDir dir;
    store::DatabaseOptions dbo;
    dbo.durability = store::Durability::normal;  // a throwaway file: no fsync per commit
    auto t_setup = std::chrono::steady_clock::now();
    auto db = store::open_database(dir.path() / "hub.db", dbo);
    db.exec("PRAGMA foreign_keys = OFF");

    std::vector<profile::ProfileSnapshot> generated;
    std::set<ProfileId> merged;
    {
        SQLite::Transaction tx(db);
        test::SnapshotWriter w(db);
        for (ProfileId id = 1; id <= profiles; ++id) {
            generated.push_back(g.profile(id));
            std::optional<ProfileId> into;
            if (id > 5 && g.chance(0.05)) {
                into = 1 + g.below(static_cast<int>(id - 1));
                merged.insert(id);
            }
            w.add(generated.back(), into);
        }
        tx.commit();
    }
    std::vector<profile::ProfileSnapshot> loaded;
    for (const auto& s : generated) loaded.push_back(load_snapshot(db, s.id));
    std::cout << "[segment property] seed " << seed << ": store written and read back in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t_setup)
                     .count()
              << " ms\n";

    ComputedTraits computed = computed_traits();
    ParseOptions opts;
    opts.computed = &computed;
    Context ctx{kNow, &computed};

    g.use_data(&generated, &ctx);
    using Clock = std::chrono::steady_clock;
    Clock::duration sql_time{}, eval_time{};
    int failures = 0, checked = 0, well_typed = 0;
    std::size_t members_total = 0;
    for (int i = 0; i < expressions && failures < 5; ++i) {
        Expr e = g.expr(computed);
        std::string text = describe(e);
        SCOPED_TRACE("expression #" + std::to_string(i) + ": " + text);

        if (check(e, opts).empty()) {
            ++well_typed;
            auto parsed = parse_segment(text, opts);
            if (!parsed.ok()) {
                ADD_FAILURE() << "printed text does not parse: " << parsed.errors[0].to_string();
                ++failures;
                continue;
            }
            EXPECT_EQ(to_json(*parsed.value).dump(), to_json(e).dump());
            auto back = expr_from_json(json::parse(to_json(e).dump()), opts);
            EXPECT_TRUE(back.ok());
            if (back.ok()) {
                EXPECT_EQ(to_json(*back.value).dump(), to_json(e).dump());
            }
        }

        auto t0 = Clock::now();
        CompiledSql sql = compile_sql(e, ctx);
        std::vector<ProfileId> by_sql;
        try {
            by_sql = run_segment_sql(db, sql);
            sql_time += Clock::now() - t0;
        } catch (const std::exception& ex) {
            ADD_FAILURE() << "SQL failed: " << ex.what() << "\n" << sql.sql;
            ++failures;
            continue;
        }
        std::vector<ProfileId> by_gen, by_loaded;
        auto t1 = Clock::now();
        for (std::size_t k = 0; k < generated.size(); ++k) {
            if (merged.count(generated[k].id)) continue;
            if (evaluate(e, generated[k], ctx)) by_gen.push_back(generated[k].id);
            if (evaluate(e, loaded[k], ctx)) by_loaded.push_back(loaded[k].id);
        }
        eval_time += Clock::now() - t1;
        ++checked;
        members_total += by_sql.size();
        if (by_sql != by_gen || by_loaded != by_gen) {
            ++failures;
            std::vector<ProfileId> diff;
            std::set_symmetric_difference(by_sql.begin(), by_sql.end(), by_gen.begin(),
                                          by_gen.end(), std::back_inserter(diff));
            std::set_symmetric_difference(by_loaded.begin(), by_loaded.end(), by_gen.begin(),
                                          by_gen.end(), std::back_inserter(diff));
            std::string ids;
            for (auto id : diff) ids += std::to_string(id) + " ";
            ADD_FAILURE() << "seed " << seed << ", expression #" << i << ": " << text
                          << "\nAST: " << to_json(e).dump() << "\nSQL: " << sql.sql
                          << "\nSQL members: " << by_sql.size()
                          << ", evaluator (generated): " << by_gen.size()
                          << ", evaluator (loaded): " << by_loaded.size()
                          << "\nprofiles that differ: " << ids << "\nfirst of them: "
                          << test::snapshot_to_json(
                                 generated[static_cast<std::size_t>(diff.front() - 1)])
                                 .dump();
        }
    }
    std::cout << "[segment property] seed " << seed << ": " << checked << " expressions compared ("
              << well_typed << " well typed, round-tripped), " << members_total
              << " memberships in total; SQL "
              << std::chrono::duration_cast<std::chrono::milliseconds>(sql_time).count()
              << " ms, evaluator "
              << std::chrono::duration_cast<std::chrono::milliseconds>(eval_time).count()
              << " ms\n";
    EXPECT_GT(well_typed, checked / 2);
}

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : fallback;
}

// Sanitizer builds run a smaller default workload, so that the suite stays within seconds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

TEST(SegmentProperty, SqlAndEvaluatorAgree) {
    int expressions = env_int("CDPHUB_SEGMENT_EXPRESSIONS", kSanitized ? 160 : 300);
    int profiles = env_int("CDPHUB_SEGMENT_PROFILES", kSanitized ? 200 : 250);
    if (const char* s = std::getenv("CDPHUB_SEGMENT_SEED")) {
        run_seed(std::strtoull(s, nullptr, 10), profiles, expressions);
        return;
    }
    std::vector<std::uint64_t> seeds = {20240601ULL, 7ULL, 424242ULL};
    if (kSanitized) seeds.pop_back();
    for (std::uint64_t seed : seeds) run_seed(seed, profiles, expressions);
}

}  // namespace
}  // namespace cdphub::segment

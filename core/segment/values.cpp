#include "segment/values.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "store/database.hpp"

namespace cdphub::segment {

namespace {

// A JSON number as SQLite holds it: a 64-bit integer or a double (an unsigned beyond int64 is a
// double, as SQLite stores it).
struct Num {
    bool is_int = true;
    std::int64_t i = 0;
    double d = 0;
};

Num to_num(const nlohmann::json& j) {
    Num n;
    if (j.is_number_integer() && !j.is_number_unsigned()) {
        n.i = j.get<std::int64_t>();
    } else if (j.is_number_unsigned()) {
        auto u = j.get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            n.i = static_cast<std::int64_t>(u);
        } else {
            n.is_int = false;
            n.d = static_cast<double>(u);
        }
    } else {
        n.is_int = false;
        n.d = j.get<double>();
    }
    return n;
}

int cmp(const Num& a, const Num& b) {
    if (a.is_int && b.is_int) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    if (!a.is_int && !b.is_int) return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
    if (a.is_int) return compare_int_double(a.i, b.d);
    return -compare_int_double(b.i, a.d);
}

int byte_compare(const std::string& a, const std::string& b) {
    int c = a.compare(b);  // char_traits<char> compares as unsigned char: memcmp order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int compare_int_double(std::int64_t i, double r) {
    // SQLite's sqlite3IntFloatCompare without long double: exact for every input.
    if (r < -9223372036854775808.0) return 1;
    if (r >= 9223372036854775808.0) return -1;
    auto y = static_cast<std::int64_t>(r);
    if (i < y) return -1;
    if (i > y) return 1;
    auto s = static_cast<double>(i);
    if (s < r) return -1;
    if (s > r) return 1;
    return 0;
}

int compare_numbers(const nlohmann::json& a, const nlohmann::json& b) {
    return cmp(to_num(a), to_num(b));
}

bool values_equal(const nlohmann::json& v, const nlohmann::json& lit) {
    if (v.is_string() && lit.is_string())
        return v.get_ref<const std::string&>() == lit.get_ref<const std::string&>();
    if (v.is_number() && lit.is_number()) return compare_numbers(v, lit) == 0;
    if (v.is_boolean() && lit.is_boolean()) return v.get<bool>() == lit.get<bool>();
    return false;
}

std::optional<int> values_order(const nlohmann::json& v, const nlohmann::json& lit) {
    if (v.is_string() && lit.is_string())
        return byte_compare(v.get_ref<const std::string&>(), lit.get_ref<const std::string&>());
    if (v.is_number() && lit.is_number()) return compare_numbers(v, lit);
    return std::nullopt;
}

bool value_satisfies(Op op, const nlohmann::json& v, const std::vector<nlohmann::json>& lits) {
    switch (op) {
        case Op::exists:
            return true;
        case Op::eq:
            return !lits.empty() && values_equal(v, lits.front());
        case Op::ne:
            return lits.empty() || !values_equal(v, lits.front());
        case Op::in:
            for (const auto& l : lits)
                if (values_equal(v, l)) return true;
            return false;
        case Op::lt:
        case Op::le:
        case Op::gt:
        case Op::ge: {
            if (lits.empty()) return false;
            auto c = values_order(v, lits.front());
            if (!c) return false;
            switch (op) {
                case Op::lt:
                    return *c < 0;
                case Op::le:
                    return *c <= 0;
                case Op::gt:
                    return *c > 0;
                default:
                    return *c >= 0;
            }
        }
        case Op::contains:
        case Op::starts_with:
        case Op::ends_with: {
            if (lits.empty() || !v.is_string() || !lits.front().is_string()) return false;
            const auto& s = v.get_ref<const std::string&>();
            const auto& n = lits.front().get_ref<const std::string&>();
            if (op == Op::contains) return s.find(n) != std::string::npos;
            if (op == Op::starts_with)
                return s.size() >= n.size() && s.compare(0, n.size(), n) == 0;
            return ends_with(s, n);
        }
    }
    return false;
}

bool apply_predicate(Op op, const std::vector<const nlohmann::json*>& values,
                     const std::vector<nlohmann::json>& lits) {
    bool any = false;
    for (const auto* v : values) {
        if (v == nullptr || v->is_null()) continue;
        if (op == Op::ne) {
            if (values_equal(*v, lits.empty() ? nlohmann::json() : lits.front())) return false;
            any = true;
            continue;
        }
        if (value_satisfies(op, *v, lits)) return true;
    }
    return op == Op::ne && any;
}

// ---- ExactSum -----------------------------------------------------------------------------------

namespace {

using i128 = __int128;
using u128 = unsigned __int128;

i128 load128(std::uint64_t lo, std::uint64_t hi) {
    u128 u = (static_cast<u128>(hi) << 64) | lo;
    i128 v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

void store128(i128 v, std::uint64_t& lo, std::uint64_t& hi) {
    u128 u;
    std::memcpy(&u, &v, sizeof u);
    lo = static_cast<std::uint64_t>(u);
    hi = static_cast<std::uint64_t>(u >> 64);
}

// Shewchuk's exact accumulation (CPython's math.fsum): partials stay non-overlapping and sorted
// by magnitude. Returns false on intermediate overflow.
bool msum_add(double* p, int& n, int cap, double x) {
    int i = 0;
    for (int j = 0; j < n; ++j) {
        double y = p[j];
        if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
        double hi = x + y;
        double lo = y - (hi - x);
        if (lo != 0.0) p[i++] = lo;
        x = hi;
    }
    n = i;
    if (x != 0.0) {
        if (!std::isfinite(x)) return false;
        if (n >= cap) return false;  // cannot happen for doubles (at most ~40 partials)
        p[n++] = x;
    }
    return true;
}

double msum_result(const double* p, int n) {
    double hi = 0.0;
    if (n > 0) {
        double lo = 0.0;
        hi = p[--n];
        while (n > 0) {
            double x = hi;
            double y = p[--n];
            hi = x + y;
            double yr = hi - x;
            lo = y - yr;
            if (lo != 0.0) break;
        }
        // Half-even rounding across several partials (see CPython's math.fsum).
        if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
            double y = lo * 2.0;
            double x = hi + y;
            double yr = x - hi;
            if (y == yr) hi = x;
        }
    }
    return hi;
}

}  // namespace

void ExactSum::add_int(std::int64_t v) {
    i128 total = load128(int_lo_, int_hi_) + v;
    store128(total, int_lo_, int_hi_);
    naive_ += static_cast<double>(v);
}

void ExactSum::add_double(double v) {
    has_real_ = true;
    naive_ += v;
    if (!overflow_ && !msum_add(partials_, n_, kMaxPartials, v)) overflow_ = true;
}

bool ExactSum::add(const nlohmann::json& v) {
    if (v.is_number_integer() && !v.is_number_unsigned()) {
        add_int(v.get<std::int64_t>());
    } else if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            add_int(static_cast<std::int64_t>(u));
        else
            add_double(static_cast<double>(u));
    } else if (v.is_number_float()) {
        add_double(v.get<double>());
    } else {
        return false;
    }
    return true;
}

bool ExactSum::result_is_integer() const {
    if (has_real_) return false;
    i128 total = load128(int_lo_, int_hi_);
    return total >= std::numeric_limits<std::int64_t>::min() &&
           total <= std::numeric_limits<std::int64_t>::max();
}

std::int64_t ExactSum::integer_result() const {
    return static_cast<std::int64_t>(load128(int_lo_, int_hi_));
}

double ExactSum::double_result() const {
    if (overflow_) return naive_;
    double p[kMaxPartials + 8];
    int n = n_;
    std::memcpy(p, partials_, sizeof(double) * static_cast<std::size_t>(n_));
    // Add the integer total exactly, as 32-bit chunks (each chunk times its power of two is an
    // exact double).
    i128 total = load128(int_lo_, int_hi_);
    u128 u;
    std::memcpy(&u, &total, sizeof u);
    for (int k = 0; k < 4; ++k) {
        auto chunk = static_cast<std::uint32_t>(u >> (32 * k));
        double part = k == 3 ? static_cast<double>(static_cast<std::int32_t>(chunk))
                             : static_cast<double>(chunk);
        if (part == 0.0) continue;
        if (!msum_add(p, n, kMaxPartials + 8, std::ldexp(part, 32 * k))) return naive_;
    }
    return msum_result(p, n);
}

nlohmann::json ExactSum::result() const {
    if (result_is_integer()) return integer_result();
    return double_result();
}

// ---- Time ---------------------------------------------------------------------------------------

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::int64_t parse_timestamp_ms(std::string_view t) {
    auto bad = [&]() -> std::invalid_argument {
        return std::invalid_argument("not a store timestamp (YYYY-MM-DDTHH:MM:SS.mmmZ): '" +
                                     std::string(t) + "'");
    };
    auto digits = [&](std::size_t pos, std::size_t n) -> int {
        if (pos + n > t.size()) throw bad();
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (t[i] < '0' || t[i] > '9') throw bad();
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
        throw bad();
    int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
    int hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        throw bad();
    std::size_t pos = 19;
    int ms = 0;
    if (pos < t.size() && t[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
        std::size_t n = pos - start;
        if (n < 1 || n > 9) throw bad();
        for (std::size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < n ? t[start + i] - '0' : 0);
    }
    if (pos + 1 != t.size() || t[pos] != 'Z') throw bad();
    std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute) * 60000LL + second * 1000LL + ms;
}

std::string window_cutoff(std::string_view now, const Duration& duration) {
    std::int64_t ms = parse_timestamp_ms(now) - duration.seconds() * 1000;
    return store::format_timestamp(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

}  // namespace cdphub::segment

// The value rules both evaluation paths share (docs/segments.md, "Types and comparisons"): strict
// typing, exact numeric comparison, byte-wise strings, the exact order-independent sum, and the
// window cut-off computed from `now`. The in-memory evaluator uses these directly and the SQLite
// backend registers ExactSum as the SQL aggregate cdphub_sum, so both give identical answers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segment/ast.hpp"

namespace cdphub::segment {

// Exact comparison of two JSON numbers (integer, unsigned or float), like SQLite compares
// INTEGER with REAL: 5 == 5.0, and 2^53 + 1 > 2^53 as a double. -1, 0 or 1.
int compare_numbers(const nlohmann::json& a, const nlohmann::json& b);

// Exact comparison of an int64 with a double (the rule above).
int compare_int_double(std::int64_t i, double d);

// Strict equality: same JSON type class (string, number, boolean) and equal value; numbers
// compare numerically, strings byte-wise. Objects, arrays and null never equal anything.
bool values_equal(const nlohmann::json& value, const nlohmann::json& literal);

// Ordering for <, <=, >, >=: defined between two strings (byte-wise, memcmp) or two numbers;
// nullopt otherwise (the comparison is then false).
std::optional<int> values_order(const nlohmann::json& value, const nlohmann::json& literal);

// Whether one present (non-null) value satisfies `op` against the literals. For op == ne this is
// "not equal"; the multi-value rule (present and none equal) is apply_predicate's job.
bool value_satisfies(Op op, const nlohmann::json& value, const std::vector<nlohmann::json>& lits);

// The language's predicate over an operand's present values (null values are not present):
// exists: any value; != : at least one value and none equals; every other operator: any value
// satisfies it.
bool apply_predicate(Op op, const std::vector<const nlohmann::json*>& values,
                     const std::vector<nlohmann::json>& lits);

// The exact sum of integers and doubles, independent of the order they are added in: integers
// add up exactly (128-bit); with any double, or an integer total beyond 64 bits, the result is the
// correctly rounded double of the exact total (Shewchuk / math.fsum). All-zero bytes are a valid
// empty sum, so SQLite's aggregate context can hold one.
class ExactSum {
  public:
    void add_int(std::int64_t v);
    void add_double(double v);
    // Adds a JSON number; anything else is ignored. Returns whether it was a number.
    bool add(const nlohmann::json& v);

    bool all_integers() const { return !has_real_; }
    // The sum: an int64 when every term was an integer and the total fits, else a double.
    // An empty sum is integer 0.
    bool result_is_integer() const;
    std::int64_t integer_result() const;  // when result_is_integer()
    double double_result() const;
    nlohmann::json result() const;

  private:
    static constexpr int kMaxPartials = 64;
    void add_partial(double x);

    std::uint64_t int_lo_ = 0;  // two's complement 128-bit integer total
    std::uint64_t int_hi_ = 0;
    bool has_real_ = false;
    bool overflow_ = false;  // a double partial overflowed: result is the plain double total
    double naive_ = 0.0;
    int n_ = 0;
    double partials_[kMaxPartials] = {};
};

// Milliseconds since the epoch of a store timestamp ("2024-05-01T12:00:00.123Z"; fraction
// optional, 1 to 9 digits). Throws std::invalid_argument for anything else.
std::int64_t parse_timestamp_ms(std::string_view text);

// The first instant inside a window: store::format_timestamp(now - duration). A row is in the
// window when occurred_at >= this (text comparison, which is time order for the store format).
std::string window_cutoff(std::string_view now, const Duration& duration);

}  // namespace cdphub::segment

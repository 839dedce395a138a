// Reading segment expressions: text -> tree (lexer + recursive descent), JSON -> tree, and the
// semantic rules both apply (types, fields, computed names, limits). Every error names a line and
// column (1-based, in characters; 0/0 for JSON input), what was expected, what was found, and a
// hint where one helps. See docs/segments.md.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segment/ast.hpp"

namespace cdphub::segment {

struct SegmentError {
    int line = 0;         // 1-based; 0 when the input was JSON
    int column = 0;       // 1-based, counted in characters (UTF-8 code points)
    std::string message;  // "expected ..., found ..." or what is wrong
    std::string hint;     // optional: what to write instead

    // "line 1, column 17: expected ..., found '='; hint: use == for equality"
    std::string to_string() const;
};

// A parse outcome: the value, or the errors (the first syntax error; semantic errors are all
// reported). `value` is set only when there are no errors.
template <class T>
struct Parsed {
    std::optional<T> value;
    std::vector<SegmentError> errors;

    bool ok() const { return value.has_value() && errors.empty(); }
};

struct ParseOptions {
    // The computed traits segments may use (computed.NAME). nullptr: none are defined, so any
    // computed.NAME is an error.
    const ComputedTraits* computed = nullptr;
    // Hostile-input limits: expression text length in bytes, and nesting depth (parentheses,
    // `not`, aggregates and their `where`).
    std::size_t max_length = 65536;
    int max_depth = 32;
};

// A segment condition: `traits.country == "DE" and count(track "Order Completed" within 90d) >= 2`.
Parsed<Expr> parse_segment(std::string_view text, const ParseOptions& options = {});

// A standalone aggregate, as computed-trait manifests define them: `count(orders within 90d)`.
Parsed<Aggregate> parse_aggregate(std::string_view text, const ParseOptions& options = {});

// A standalone operand, as activation field mappings name them: `traits.first_name`,
// `identifiers.email`, `consent.email_marketing`, `computed.ltv` (or an aggregate).
Parsed<Operand> parse_operand(std::string_view text, const ParseOptions& options = {});

// The JSON forms (ast.hpp: to_json and friends) back to trees, with the same semantic checks.
// expr_from_json takes the stored document {"version": 1, "expr": ...}.
Parsed<Expr> expr_from_json(const nlohmann::json& document, const ParseOptions& options = {});
Parsed<Aggregate> aggregate_from_json(const nlohmann::json& j, const ParseOptions& options = {});
Parsed<Operand> operand_from_json(const nlohmann::json& j, const ParseOptions& options = {});

// The semantic rules on a tree built any way (the parsers run them already): literal types per
// operator and operand, fields per source, computed names, windows, nesting depth, keys.
std::vector<SegmentError> check(const Expr& expr, const ParseOptions& options = {});
std::vector<SegmentError> check(const Aggregate& aggregate, const ParseOptions& options = {});
std::vector<SegmentError> check(const Operand& operand, const ParseOptions& options = {});

// The value type an operand is known to have, when the language knows it statically.
enum class StaticType { any, string, number, boolean };
StaticType static_type(const Operand& operand, const ComputedTraits* computed);

// The fields of a source's rows: their names and types (properties: any JSON, needs a path).
std::optional<StaticType> field_type(Source source, std::string_view field);
const std::vector<std::string>& field_names(Source source);

}  // namespace cdphub::segment

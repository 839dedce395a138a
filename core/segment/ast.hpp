// The segment language's syntax tree (docs/segments.md), its JSON form (what segments.ast holds)
// and its canonical text form. The parser (parser.hpp) builds it, the evaluator (evaluator.hpp)
// and the SQL compiler (sql_compiler.hpp) read it. Plain values: copyable, comparable through
// their JSON form.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdphub::segment {

// Where a node came from in the expression text: 1-based line and column (in characters).
// 0/0 for nodes built in code or read from JSON.
struct Pos {
    int line = 0;
    int column = 0;
};

// A heap-held value with value semantics (deep copy), for the recursive parts of the tree.
// Empty until assigned.
template <class T>
class Box {
  public:
    Box() = default;
    explicit Box(T value) : p_(std::make_unique<T>(std::move(value))) {}
    Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    Box(Box&&) noexcept = default;
    Box& operator=(const Box& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        return *this;
    }
    Box& operator=(Box&&) noexcept = default;
    ~Box() = default;

    explicit operator bool() const { return p_ != nullptr; }
    bool has_value() const { return p_ != nullptr; }
    T& operator*() { return *p_; }
    const T& operator*() const { return *p_; }
    T* operator->() { return p_.get(); }
    const T* operator->() const { return p_.get(); }
    const T* get() const { return p_.get(); }
    void reset() { p_.reset(); }

  private:
    std::unique_ptr<T> p_;
};

enum class Func { count, sum, min, max, first, last, distinct_count };
enum class Source { track, orders };
enum class Op { eq, ne, lt, le, gt, ge, in, contains, starts_with, ends_with, exists };

std::string_view to_string(Func f);
std::string_view to_string(Source s);
std::string_view to_string(Op op);  // "==", "!=", ..., "in", "contains", ..., "exists"

// Windows: `within 90d`. Units s, m, h, d, w.
struct Duration {
    std::int64_t amount = 0;
    char unit = 'd';

    std::int64_t seconds() const;
    std::string to_string() const;  // "90d"
};

// The longest window the language accepts (100 years), so that arithmetic never overflows.
inline constexpr std::int64_t kMaxWindowSeconds = 100LL * 366 * 24 * 3600;

struct Expr;
struct Aggregate;

// Something a condition tests: it yields zero, one or (identifiers) several JSON values.
struct Operand {
    enum class Kind {
        trait,       // traits.NAME[.key...]: name = NAME, path = nested object keys
        identifier,  // identifiers.TYPE: name = TYPE (several values possible)
        consent,     // consent.PURPOSE: name = PURPOSE (boolean)
        computed,    // computed.NAME: a named aggregate defined elsewhere
        aggregate,   // count(...), sum(...), ...
        field,       // a row field inside an aggregate: name = event|source|occurred_at|
                     // properties (with path)|total_minor|... (see docs/segments.md)
    };
    Kind kind = Kind::trait;
    std::string name;
    std::vector<std::string> path;
    Box<Aggregate> aggregate;  // kind == aggregate
    Pos pos;
};

// FUNC(SOURCE [.FIELD] [where ROWCOND] [within DURATION])
struct Aggregate {
    Func func = Func::count;
    Source source = Source::track;
    std::optional<std::string> event;  // track "Order Completed"
    std::optional<Operand> field;      // an Operand of kind field
    Box<Expr> where;                   // over the row's fields; empty: every row
    std::optional<Duration> within;
    Pos pos;
};

// OPERAND OP VALUE(S). `values` holds one literal for comparisons and string operators, one or
// more for `in`, none for `exists`. Literals are JSON strings, numbers (integer or decimal) or
// booleans; never null.
struct Predicate {
    Op op = Op::exists;
    Operand operand;
    std::vector<nlohmann::json> values;
    Pos pos;                     // the operator
    std::vector<Pos> value_pos;  // each literal, when parsed from text (else empty)
};

struct Expr {
    enum class Kind { and_, or_, not_, predicate };
    Kind kind = Kind::predicate;
    std::vector<Expr> children;  // and/or: two or more; not: exactly one
    Predicate predicate;         // kind == predicate
    Pos pos;

    static Expr make_and(std::vector<Expr> children);
    static Expr make_or(std::vector<Expr> children);
    static Expr make_not(Expr child);
    static Expr make_predicate(Predicate p);
};

// Computed traits: name -> the aggregate that defines it (from the traits manifests).
using ComputedTraits = std::map<std::string, Aggregate, std::less<>>;

// ---- JSON form ----------------------------------------------------------------------------------
// to_json(expr) is the document stored in segments.ast: {"version": 1, "expr": NODE}. The node
// format is documented in docs/segments.md. Positions are not stored.
inline constexpr int kAstVersion = 1;

nlohmann::json to_json(const Expr& expr);
nlohmann::json node_to_json(const Expr& expr);
nlohmann::json operand_to_json(const Operand& operand);
nlohmann::json aggregate_to_json(const Aggregate& aggregate);

// ---- Text form ----------------------------------------------------------------------------------
// Canonical text that parses back to the same tree: minimal parentheses, `exists X` prefix form,
// keys quoted only when they must be, strings with JSON escapes.
std::string to_text(const Expr& expr);
std::string to_text(const Operand& operand);
std::string to_text(const Aggregate& aggregate);
std::string literal_to_text(const nlohmann::json& literal);

// Whether a trait key / property key can be written bare (traits.first_name) or must be quoted
// (traits."first name").
bool is_bare_key(std::string_view key);

}  // namespace cdphub::segment

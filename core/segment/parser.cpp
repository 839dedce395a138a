#include "segment/parser.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>

namespace cdphub::segment {

std::string SegmentError::to_string() const {
    std::string s;
    if (line > 0) s = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
    s += message;
    if (!hint.empty()) s += "; hint: " + hint;
    return s;
}

// ---- Fields -------------------------------------------------------------------------------------

namespace {

const std::vector<std::string> kTrackFields = {"event", "source", "occurred_at", "properties"};
const std::vector<std::string> kOrderFields = {"order_id",  "source",        "occurred_at",
                                               "currency",  "status",        "total_minor",
                                               "tax_minor", "discount_minor"};
const std::vector<std::string> kFunctions = {"count", "sum",  "min",           "max",
                                             "first", "last", "distinct_count"};
const std::vector<std::string> kKeywords = {
    "and",         "or",      "not",      "in",    "exists", "contains", "starts_with",
    "ends_with",   "where",   "within",   "true",  "false",  "null",     "traits",
    "identifiers", "consent", "computed", "track", "orders"};

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) s += sep;
        s += v[i];
    }
    return s;
}

std::optional<Func> func_from_name(std::string_view n) {
    for (Func f : {Func::count, Func::sum, Func::min, Func::max, Func::first, Func::last,
                   Func::distinct_count})
        if (to_string(f) == n) return f;
    return std::nullopt;
}

std::string field_list(Source s) {
    std::string out;
    for (const auto& f : field_names(s)) {
        if (!out.empty()) out += ", ";
        out += f == "properties" ? "properties.NAME" : f;
    }
    return out;
}

}  // namespace

std::optional<StaticType> field_type(Source source, std::string_view f) {
    if (f == "source" || f == "occurred_at") return StaticType::string;
    if (source == Source::track) {
        if (f == "event") return StaticType::string;
        if (f == "properties") return StaticType::any;
        return std::nullopt;
    }
    if (f == "order_id" || f == "currency" || f == "status") return StaticType::string;
    if (f == "total_minor" || f == "tax_minor" || f == "discount_minor") return StaticType::number;
    return std::nullopt;
}

const std::vector<std::string>& field_names(Source source) {
    return source == Source::track ? kTrackFields : kOrderFields;
}

StaticType static_type(const Operand& o, const ComputedTraits* computed) {
    switch (o.kind) {
        case Operand::Kind::trait:
            return StaticType::any;
        case Operand::Kind::identifier:
            return StaticType::string;
        case Operand::Kind::consent:
            return StaticType::boolean;
        case Operand::Kind::field: {
            auto t = field_type(Source::track, o.name);
            if (!t) t = field_type(Source::orders, o.name);
            return t.value_or(StaticType::any);
        }
        case Operand::Kind::computed: {
            if (computed == nullptr) return StaticType::any;
            auto it = computed->find(o.name);
            if (it == computed->end()) return StaticType::any;
            Operand a;
            a.kind = Operand::Kind::aggregate;
            a.aggregate = Box<Aggregate>(it->second);
            return static_type(a, computed);
        }
        case Operand::Kind::aggregate: {
            if (!o.aggregate) return StaticType::any;
            switch (o.aggregate->func) {
                case Func::count:
                case Func::sum:
                case Func::min:
                case Func::max:
                case Func::distinct_count:
                    return StaticType::number;
                case Func::first:
                case Func::last:
                    return o.aggregate->field ? static_type(*o.aggregate->field, computed)
                                              : StaticType::any;
            }
        }
    }
    return StaticType::any;
}

// ---- Lexer --------------------------------------------------------------------------------------

namespace {

enum class T {
    end,
    name,
    string,
    number,
    lparen,
    rparen,
    lbracket,
    rbracket,
    comma,
    dot,
    eq,
    ne,
    lt,
    le,
    gt,
    ge,
    bad
};

struct Token {
    T kind = T::end;
    Pos pos;  // of the first character
    std::size_t offset = 0;
    std::size_t length = 0;
    std::string text;     // name; decoded string; number digits
    std::string suffix;   // letters right after a number (a duration unit)
    std::string message;  // bad: what is wrong (empty: just "unexpected")
    std::string hint;     // bad: what to write instead
};

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

class Lexer {
  public:
    explicit Lexer(std::string_view s) : s_(s) {}

    // All tokens up to the end, or up to and including the first bad one; always ends with end.
    std::vector<Token> run() {
        std::vector<Token> out;
        for (;;) {
            Token t = next();
            bool stop = t.kind == T::end || t.kind == T::bad;
            out.push_back(std::move(t));
            if (out.back().kind == T::bad) {
                Token e;
                e.kind = T::end;
                e.offset = s_.size();
                e.pos = pos_at(s_.size());
                out.push_back(e);
            }
            if (stop) return out;
        }
    }

  private:
    // Line and column of `offset`, advancing from the previous token (tokens only move forward),
    // so that positions cost linear time over the whole text.
    Pos pos_at(std::size_t offset) {
        while (pos_off_ < offset && pos_off_ < s_.size()) {
            char c = s_[pos_off_++];
            if (c == '\n') {
                ++pos_.line;
                pos_.column = 1;
            } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
                ++pos_.column;
            }
        }
        return pos_;
    }

    Token make(T k, std::size_t start, std::size_t len) {
        Token t;
        t.kind = k;
        t.pos = pos_at(start);
        t.offset = start;
        t.length = len;
        i_ = start + len;
        return t;
    }

    Token bad(std::size_t start, std::size_t len, std::string message, std::string hint = {}) {
        Token t = make(T::bad, start, len);
        t.text = std::string(s_.substr(start, len));
        t.message = std::move(message);
        t.hint = std::move(hint);
        return t;
    }

    void skip_space() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++i_;
            } else if (c == '#') {
                while (i_ < s_.size() && s_[i_] != '\n') ++i_;
            } else {
                break;
            }
        }
    }

    Token next() {
        skip_space();
        std::size_t st = i_;
        if (i_ >= s_.size()) return make(T::end, s_.size(), 0);
        char c = s_[i_];
        auto peek = [&](std::size_t k) { return st + k < s_.size() ? s_[st + k] : '\0'; };
        switch (c) {
            case '(':
                return make(T::lparen, st, 1);
            case ')':
                return make(T::rparen, st, 1);
            case '[':
                return make(T::lbracket, st, 1);
            case ']':
                return make(T::rbracket, st, 1);
            case ',':
                return make(T::comma, st, 1);
            case '.':
                return make(T::dot, st, 1);
            case '=':
                if (peek(1) == '=') return make(T::eq, st, 2);
                return bad(st, 1, "", "use == for equality");
            case '!':
                if (peek(1) == '=') return make(T::ne, st, 2);
                return bad(st, 1, "", "use not to negate a condition");
            case '<':
                if (peek(1) == '=') return make(T::le, st, 2);
                if (peek(1) == '>') return bad(st, 2, "", "use != for inequality");
                return make(T::lt, st, 1);
            case '>':
                if (peek(1) == '=') return make(T::ge, st, 2);
                return make(T::gt, st, 1);
            case '&':
                return bad(st, peek(1) == '&' ? 2 : 1, "", "use and to combine conditions");
            case '|':
                return bad(st, peek(1) == '|' ? 2 : 1, "", "use or to combine conditions");
            case '\'':
                return bad(st, 1, "strings are written in double quotes, not single quotes",
                           "write \"DE\" instead of 'DE'");
            case '"':
                return string_token(st);
            default:
                break;
        }
        if (c == '-' || is_digit(c)) return number_token(st);
        if (is_alpha(c) || static_cast<unsigned char>(c) >= 0x80) {
            // A word: ASCII letters, digits and _; non-ASCII letters make it a word that must be
            // quoted.
            std::size_t j = st;
            bool ascii = true;
            while (j < s_.size()) {
                if (is_alpha(s_[j]) || is_digit(s_[j])) {
                    ++j;
                } else if (static_cast<unsigned char>(s_[j]) >= 0x80) {
                    std::size_t n = utf8::sequence_length(s_, j);
                    if (n == 0) return bad(j, 1, "the expression is not valid UTF-8");
                    if (n == 2 &&
                        (s_[j] == '\xc2' && static_cast<unsigned char>(s_[j + 1]) < 0xc0)) {
                        break;  // U+0080..U+00BF: symbols and spaces, not letters
                    }
                    ascii = false;
                    j += n;
                } else {
                    break;
                }
            }
            std::string word(s_.substr(st, j - st));
            if (!ascii && j > st)
                return bad(
                    st, j - st,
                    "unexpected '" + word + "' (bare names use only ASCII letters, digits and _)",
                    "quote names with other characters: \"" + word + "\"");
            if (j > st) {
                Token t = make(T::name, st, j - st);
                t.text = std::move(word);
                return t;
            }
        }
        std::size_t n = utf8::sequence_length(s_, st);
        if (n == 0) return bad(st, 1, "the expression is not valid UTF-8");
        std::string ch(s_.substr(st, n));
        if (c == '{' || c == '}')
            return bad(st, n, "", "parentheses ( ) group conditions; [ ] hold in lists");
        return bad(st, n, "unexpected character '" + ch + "'");
    }

    Token number_token(std::size_t st) {
        std::size_t j = st;
        if (s_[j] == '-') ++j;
        if (j >= s_.size() || !is_digit(s_[j]))
            return bad(st, 1, "unexpected '-'", "a negative number is written -5, with no space");
        if (s_[j] == '0' && j + 1 < s_.size() && is_digit(s_[j + 1]))
            return bad(st, j + 2 - st,
                       "a number cannot start with 0 (found " +
                           std::string(s_.substr(st, j + 2 - st)) + "...)");
        while (j < s_.size() && is_digit(s_[j])) ++j;
        if (j < s_.size() && s_[j] == '.') {
            ++j;
            if (j >= s_.size() || !is_digit(s_[j]))
                return bad(st, j - st, "a decimal point needs digits after it", "write 1.0 or 1");
            while (j < s_.size() && is_digit(s_[j])) ++j;
        }
        if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
            std::size_t k = j + 1;
            if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
            if (k < s_.size() && is_digit(s_[k])) {
                j = k;
                while (j < s_.size() && is_digit(s_[j])) ++j;
            }
        }
        std::size_t digits_end = j;
        while (j < s_.size() && (is_alpha(s_[j]) || is_digit(s_[j]))) ++j;
        Token t = make(T::number, st, j - st);
        t.text = std::string(s_.substr(st, digits_end - st));
        t.suffix = std::string(s_.substr(digits_end, j - digits_end));
        return t;
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // \uXXXX at s_[j] (pointing at the backslash); returns the code unit or -1.
    long hex4(std::size_t j) const {
        if (j + 6 > s_.size() || s_[j + 1] != 'u') return -1;
        long v = 0;
        for (std::size_t k = j + 2; k < j + 6; ++k) {
            int h = hex(s_[k]);
            if (h < 0) return -1;
            v = v * 16 + h;
        }
        return v;
    }

    Token string_token(std::size_t st) {
        std::string out;
        std::size_t j = st + 1;
        while (j < s_.size()) {
            char c = s_[j];
            if (c == '"') {
                Token t = make(T::string, st, j + 1 - st);
                t.text = std::move(out);
                return t;
            }
            if (static_cast<unsigned char>(c) < 0x20)
                return bad(st, j + 1 - st,
                           c == '\n' ? "unterminated string (a string cannot span lines)"
                                     : "a control character inside a string",
                           c == '\n' ? "close the string with \" or write \\n for a line break"
                                     : "write it as a JSON escape such as \\t or \\u0001");
            if (c == '\\') {
                if (j + 1 >= s_.size()) break;
                char e = s_[j + 1];
                switch (e) {
                    case '"':
                        out += '"';
                        j += 2;
                        continue;
                    case '\\':
                        out += '\\';
                        j += 2;
                        continue;
                    case '/':
                        out += '/';
                        j += 2;
                        continue;
                    case 'b':
                        out += '\b';
                        j += 2;
                        continue;
                    case 'f':
                        out += '\f';
                        j += 2;
                        continue;
                    case 'n':
                        out += '\n';
                        j += 2;
                        continue;
                    case 'r':
                        out += '\r';
                        j += 2;
                        continue;
                    case 't':
                        out += '\t';
                        j += 2;
                        continue;
                    case 'u': {
                        long u = hex4(j);
                        if (u < 0)
                            return bad(st, j + 2 - st, "invalid \\u escape in a string",
                                       "write \\u followed by four hex digits, e.g. \\u00e9");
                        std::uint32_t cp = static_cast<std::uint32_t>(u);
                        std::size_t used = 6;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            long lo = hex4(j + 6);
                            if (lo < 0xDC00 || lo > 0xDFFF)
                                return bad(st, j + 6 - st,
                                           "a \\u escape encodes half of a surrogate pair",
                                           "write the character itself, or both halves");
                            cp = 0x10000 + ((cp - 0xD800) << 10) +
                                 (static_cast<std::uint32_t>(lo) - 0xDC00);
                            used = 12;
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                            return bad(st, j + 6 - st,
                                       "a \\u escape encodes half of a surrogate pair");
                        }
                        if (cp == 0)
                            return bad(st, j + used - st,
                                       "strings cannot contain the NUL character (\\u0000)");
                        utf8::append(out, cp);
                        j += used;
                        continue;
                    }
                    default:
                        return bad(st, j + 2 - st,
                                   std::string("invalid escape \\") + e + " in a string",
                                   "escapes are JSON's: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
                }
            }
            std::size_t n = utf8::sequence_length(s_, j);
            if (n == 0) return bad(st, j + 1 - st, "the expression is not valid UTF-8");
            out.append(s_.substr(j, n));
            j += n;
        }
        return bad(st, s_.size() - st, "unterminated string", "close the string with \"");
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::size_t pos_off_ = 0;
    Pos pos_{1, 1};
};

// ---- Parser -------------------------------------------------------------------------------------

struct SyntaxError {};

struct Ctx {
    bool row = false;  // inside an aggregate's where: operands are the row's fields
    Source source = Source::track;
    enum class Close { end, paren, where } close = Close::end;
};

std::string lowered(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool is_keyword(const std::string& s) {
    return std::find(kKeywords.begin(), kKeywords.end(), s) != kKeywords.end() ||
           func_from_name(s).has_value();
}

class Parser {
  public:
    Parser(std::string_view text, const ParseOptions& o) : text_(text), opt_(o) {}

    template <class T, class F>
    Parsed<T> run(F&& body) {
        Parsed<T> out;
        if (text_.size() > opt_.max_length) {
            out.errors.push_back({1, 1,
                                  "the expression is too long (" + std::to_string(text_.size()) +
                                      " bytes; the limit is " + std::to_string(opt_.max_length) +
                                      ")",
                                  "split it into several segments"});
            return out;
        }
        toks_ = Lexer(text_).run();
        try {
            T value = body(*this);
            out.value = std::move(value);
        } catch (const SyntaxError&) {
            out.errors = std::move(errors_);
        }
        return out;
    }

    Expr top_expr() {
        if (peek().kind == T::end)
            fail(peek(), "expected a condition, found the end of the expression",
                 "for example traits.country == \"DE\"");
        Ctx c;
        Expr e = parse_or(c);
        expect_end("and, or or the end of the expression");
        return e;
    }

    Aggregate top_aggregate() {
        const Token& t = peek();
        if (t.kind != T::name || !func_from_name(t.text)) {
            std::string hint = "functions: " + join(kFunctions);
            expected(t, "an aggregate such as count(orders within 90d)", hint);
        }
        Aggregate a = parse_aggregate();
        expect_end("the end of the aggregate");
        return a;
    }

    Operand top_operand() {
        if (peek().kind == T::end)
            fail(peek(), "expected an operand, found the end of the text",
                 "for example traits.first_name or identifiers.email");
        Operand o = parse_operand(Ctx{});
        expect_end("the end of the operand");
        return o;
    }

  private:
    // -- tokens and errors --
    const Token& peek(std::size_t k = 0) const {
        std::size_t j = std::min(i_ + k, toks_.size() - 1);
        return toks_[j];
    }
    const Token& next() {
        const Token& t = toks_[i_];
        if (i_ + 1 < toks_.size()) ++i_;
        return t;
    }
    bool is_kw(std::string_view kw, std::size_t k = 0) const {
        return peek(k).kind == T::name && peek(k).text == kw;
    }

    static Pos pos(const Token& t) { return t.pos; }

    static std::string describe(const Token& t) {
        switch (t.kind) {
            case T::end:
                return "the end of the expression";
            case T::string: {
                std::string s = nlohmann::json(t.text).dump();
                if (s.size() > 40) s = s.substr(0, 37) + "...";
                return "the string " + s;
            }
            case T::number:
                return "the number " + t.text + t.suffix;
            case T::name:
                return "'" + t.text + "'";
            case T::lparen:
                return "'('";
            case T::rparen:
                return "')'";
            case T::lbracket:
                return "'['";
            case T::rbracket:
                return "']'";
            case T::comma:
                return "','";
            case T::dot:
                return "'.'";
            case T::eq:
                return "'=='";
            case T::ne:
                return "'!='";
            case T::lt:
                return "'<'";
            case T::le:
                return "'<='";
            case T::gt:
                return "'>'";
            case T::ge:
                return "'>='";
            case T::bad:
                return "'" + t.text + "'";
        }
        return "?";
    }

    static std::string auto_hint(const Token& t) {
        if (t.kind == T::bad) return t.hint;
        if (t.kind == T::name) {
            std::string low = lowered(t.text);
            if (low != t.text && is_keyword(low)) return "keywords are lower-case: " + low;
        }
        return {};
    }

    [[noreturn]] void fail(const Token& t, std::string message, std::string hint = {}) {
        if (t.kind == T::bad && !t.message.empty()) {
            message = t.message;
            if (!t.hint.empty()) hint = t.hint;
        }
        Pos p = pos(t);
        errors_.push_back({p.line, p.column, std::move(message), std::move(hint)});
        throw SyntaxError{};
    }

    [[noreturn]] void expected(const Token& t, std::string_view what, std::string hint = {}) {
        std::string h = auto_hint(t);
        fail(t, "expected " + std::string(what) + ", found " + describe(t),
             h.empty() ? std::move(hint) : h);
    }

    void expect(T kind, std::string_view what, std::string hint = {}) {
        if (peek().kind != kind) expected(peek(), what, std::move(hint));
        next();
    }

    void expect_end(std::string_view what) {
        const Token& t = peek();
        if (t.kind == T::end) return;
        if (t.kind == T::rparen) fail(t, "unmatched ')'", "remove it or add the matching '('");
        std::string hint;
        if (t.kind == T::name && (t.text == "and" || t.text == "or"))
            hint = "a condition is missing after " + t.text;
        expected(t, what, hint);
    }

    void enter(const Token& t) {
        if (++depth_ > opt_.max_depth)
            fail(t,
                 "the expression nests too deeply (more than " + std::to_string(opt_.max_depth) +
                     " levels of parentheses, not and aggregates)",
                 "simplify it, or split it into several segments");
    }
    void leave() { --depth_; }

    // -- conditions --
    Expr parse_or(const Ctx& c) {
        Pos p = pos(peek());
        Expr first = parse_and(c);
        if (!is_kw("or")) return first;
        std::vector<Expr> ch;
        ch.push_back(std::move(first));
        while (is_kw("or")) {
            next();
            ch.push_back(parse_and(c));
        }
        Expr e = Expr::make_or(std::move(ch));
        e.pos = p;
        return e;
    }

    Expr parse_and(const Ctx& c) {
        Pos p = pos(peek());
        Expr first = parse_not(c);
        if (!is_kw("and")) return first;
        std::vector<Expr> ch;
        ch.push_back(std::move(first));
        while (is_kw("and")) {
            next();
            ch.push_back(parse_not(c));
        }
        Expr e = Expr::make_and(std::move(ch));
        e.pos = p;
        return e;
    }

    Expr parse_not(const Ctx& c) {
        if (is_kw("not")) {
            const Token& t = next();
            enter(t);
            Expr child = parse_not(c);
            leave();
            Expr e = Expr::make_not(std::move(child));
            e.pos = pos(t);
            return e;
        }
        return parse_primary(c);
    }

    std::string condition_expected(const Ctx& c) const {
        return c.row ? "a condition on the row's fields (such as currency == \"EUR\"), not, "
                       "exists or '('"
                     : "a condition (an operand such as traits.NAME, not, exists or '(')";
    }

    Expr parse_primary(const Ctx& c) {
        const Token& t = peek();
        if (t.kind == T::lparen) {
            next();
            enter(t);
            Expr e = parse_or(c);
            if (peek().kind != T::rparen) {
                Pos open = pos(t);
                std::string hint;
                if (peek().kind == T::name && (peek().text == "and" || peek().text == "or"))
                    hint = "a condition is missing after " + peek().text;
                expected(peek(),
                         "and, or or ')' to close the '(' at line " + std::to_string(open.line) +
                             ", column " + std::to_string(open.column),
                         hint);
            }
            next();
            leave();
            return e;
        }
        if (is_kw("exists")) {
            next();
            Predicate p;
            p.op = Op::exists;
            p.pos = pos(t);
            p.operand = parse_operand(c);
            Expr e = Expr::make_predicate(std::move(p));
            e.pos = pos(t);
            return e;
        }
        if (t.kind == T::end || t.kind == T::rparen || is_kw("and") || is_kw("or")) {
            std::string hint;
            if (t.kind == T::end || t.kind == T::rparen) hint = "the expression ends too early";
            expected(t, condition_expected(c), hint);
        }
        Operand o = parse_operand(c);
        return parse_tail(std::move(o), c);
    }

    Expr parse_tail(Operand o, const Ctx& c) {
        const Token& t = peek();
        Predicate p;
        p.pos = pos(t);
        switch (t.kind) {
            case T::eq:
                p.op = Op::eq;
                break;
            case T::ne:
                p.op = Op::ne;
                break;
            case T::lt:
                p.op = Op::lt;
                break;
            case T::le:
                p.op = Op::le;
                break;
            case T::gt:
                p.op = Op::gt;
                break;
            case T::ge:
                p.op = Op::ge;
                break;
            case T::name:
                if (t.text == "in") {
                    p.op = Op::in;
                } else if (t.text == "contains") {
                    p.op = Op::contains;
                } else if (t.text == "starts_with") {
                    p.op = Op::starts_with;
                } else if (t.text == "ends_with") {
                    p.op = Op::ends_with;
                } else if (t.text == "exists") {
                    p.op = Op::exists;
                } else {
                    tail_error(o, t, c);
                }
                break;
            default:
                tail_error(o, t, c);
        }
        next();
        p.operand = std::move(o);
        if (p.op == Op::in) {
            if (peek().kind != T::lbracket)
                expected(peek(), "'[' to start the list after in",
                         "in takes a list: in [\"DE\", \"AT\"]");
            next();
            if (peek().kind == T::rbracket)
                fail(peek(), "an in list needs at least one value",
                     "for example in [\"DE\", \"AT\"]");
            for (;;) {
                p.value_pos.push_back(pos(peek()));
                p.values.push_back(parse_literal());
                if (peek().kind == T::comma) {
                    next();
                    continue;
                }
                if (peek().kind == T::rbracket) {
                    next();
                    break;
                }
                expected(peek(), "',' or ']' in the in list");
            }
        } else if (p.op != Op::exists) {
            p.value_pos.push_back(pos(peek()));
            p.values.push_back(parse_literal());
        }
        Pos start = p.operand.pos;
        Expr e = Expr::make_predicate(std::move(p));
        e.pos = start;
        return e;
    }

    [[noreturn]] void tail_error(const Operand& o, const Token& t, const Ctx& c) {
        std::string what =
            "a comparison after " + to_text(o) +
            " (==, !=, <, <=, >, >=, in, contains, starts_with, ends_with or exists)";
        std::string hint;
        if (t.kind == T::name && t.text == "within" && o.kind == Operand::Kind::aggregate)
            hint = "within goes inside the parentheses: count(track within 90d)";
        else if (t.kind == T::name && t.text == "not")
            hint = "write not before the condition: not " + to_text(o) + " in [...]";
        else if (t.kind == T::name && !is_keyword(t.text) && lowered(t.text) == t.text &&
                 (o.kind == Operand::Kind::trait || o.kind == Operand::Kind::identifier ||
                  o.kind == Operand::Kind::consent || o.kind == Operand::Kind::computed)) {
            Operand q = o;
            std::string& last = q.path.empty() ? q.name : q.path.back();
            last += " " + t.text;
            hint = "quote names that contain spaces: " + to_text(q);
        } else if (t.kind == T::end || t.kind == T::rparen ||
                   (t.kind == T::name && (t.text == "and" || t.text == "or")))
            hint = "a condition compares an operand with a value, e.g. " +
                   (c.row ? std::string("currency == \"EUR\"")
                          : "exists " + to_text(o) + " or " + to_text(o) + " == \"x\"");
        expected(t, what, hint);
    }

    nlohmann::json parse_literal() {
        const Token& t = peek();
        switch (t.kind) {
            case T::string:
                next();
                return t.text;
            case T::number: {
                if (!t.suffix.empty())
                    fail(t, "unexpected '" + t.suffix + "' after the number " + t.text,
                         "units only apply to windows: within 90d");
                nlohmann::json v = number_value(t);
                next();
                return v;
            }
            case T::name:
                if (t.text == "true" || t.text == "false") {
                    next();
                    return t.text == "true";
                }
                if (t.text == "null")
                    fail(t, "comparing with null is not supported",
                         "use exists OPERAND (or not exists OPERAND) to test whether a value is "
                         "present");
                {
                    std::string h = auto_hint(t);
                    if (h.empty() && !is_keyword(t.text))
                        h = "strings are written in double quotes: \"" + t.text + "\"";
                    expected(t, "a value (a string in double quotes, a number, true or false)", h);
                }
            case T::lbracket:
                expected(t, "a value (a string in double quotes, a number, true or false)",
                         "[ ] lists only follow in");
            default:
                expected(t, "a value (a string in double quotes, a number, true or false)");
        }
    }

    nlohmann::json number_value(const Token& t) {
        const std::string& s = t.text;
        bool integral = s.find_first_of(".eE") == std::string::npos;
        if (integral) {
            std::int64_t v = 0;
            auto r = std::from_chars(s.data(), s.data() + s.size(), v);
            if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
            fail(t, "the integer " + s + " is out of range (64-bit)",
                 "write it as a decimal, e.g. " + s + ".0");
        }
        double d = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), d);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d))
            fail(t, "the number " + s + " is out of range");
        return d;
    }

    // -- operands --
    std::string parse_key(std::string_view after) {
        const Token& t = peek();
        if (t.kind == T::name) {
            next();
            return t.text;
        }
        if (t.kind == T::string) {
            if (t.text.empty()) fail(t, "a name cannot be empty");
            next();
            return t.text;
        }
        expected(t, "a name after '" + std::string(after) + ".'",
                 "names with other characters are quoted: traits.\"first name\"");
    }

    Operand parse_operand(const Ctx& c) {
        if (c.row) return parse_field(c, false);
        const Token& t = peek();
        static const std::string kWhat =
            "an operand (traits.NAME, identifiers.TYPE, consent.PURPOSE, computed.NAME or an "
            "aggregate such as count(track))";
        if (t.kind != T::name) {
            std::string hint;
            if (t.kind == T::string || t.kind == T::number)
                hint = "put the operand on the left: traits.country == \"DE\"";
            expected(t, kWhat, hint);
        }
        Operand o;
        o.pos = pos(t);
        const std::string& n = t.text;
        if (n == "traits" || n == "identifiers" || n == "consent" || n == "computed") {
            next();
            if (peek().kind != T::dot)
                expected(peek(), "'.' and a name after " + n,
                         "for example " + n +
                             (n == "traits"        ? ".country"
                              : n == "identifiers" ? ".email"
                              : n == "consent"     ? ".email_marketing"
                                                   : ".orders_90d"));
            next();
            o.kind = n == "traits"        ? Operand::Kind::trait
                     : n == "identifiers" ? Operand::Kind::identifier
                     : n == "consent"     ? Operand::Kind::consent
                                          : Operand::Kind::computed;
            o.name = parse_key(n);
            if (o.kind == Operand::Kind::trait) {
                while (peek().kind == T::dot) {
                    next();
                    o.path.push_back(parse_key("traits"));
                }
            } else if (peek().kind == T::dot) {
                fail(peek(), n + "." + o.name + " has no nested keys",
                     n == "traits" ? "" : "nested keys only exist in traits: traits.address.city");
            }
            return o;
        }
        if (func_from_name(n)) {
            if (peek(1).kind != T::lparen)
                expected(peek(1), "'(' after " + n, "for example " + n + "(orders)");
            o.kind = Operand::Kind::aggregate;
            o.aggregate = Box<Aggregate>(parse_aggregate());
            return o;
        }
        if (peek(1).kind == T::lparen) {
            std::string low = lowered(n);
            std::string hint = func_from_name(low) ? "keywords are lower-case: " + low
                                                   : "functions: " + join(kFunctions);
            fail(t, "unknown function '" + n + "'", hint);
        }
        std::string hint = auto_hint(t);
        if (hint.empty()) {
            if (n == "trait" || n == "identifier" || n == "consents" || n == "identity")
                hint = std::string("did you mean ") +
                       (n == "trait"      ? "traits"
                        : n == "consents" ? "consent"
                                          : "identifiers") +
                       "?";
            else if (n == "events" || n == "event" || n == "order")
                hint =
                    "events and orders are read with aggregates: count(track \"Order "
                    "Completed\" within 90d) >= 1";
            else if (!is_keyword(n))
                hint = "trait names start with traits.: traits." + n;
        }
        expected(t, kWhat, hint);
    }

    // A row field: inside `where` (bare) or after SOURCE. (as_field).
    Operand parse_field(const Ctx& c, bool as_field) {
        const Token& t = peek();
        std::string src(to_string(c.source));
        std::string what = "a field of " + src + " rows (" + field_list(c.source) + ")";
        if (t.kind != T::name) expected(t, what);
        Operand o;
        o.kind = Operand::Kind::field;
        o.pos = pos(t);
        o.name = t.text;
        if (t.text == "properties" && c.source == Source::track) {
            next();
            if (peek().kind != T::dot)
                expected(peek(), "'.' and a property name after properties",
                         "for example properties.sku");
            while (peek().kind == T::dot) {
                next();
                o.path.push_back(parse_key("properties"));
            }
            return o;
        }
        if (field_type(c.source, t.text)) {
            next();
            if (peek().kind == T::dot)
                fail(peek(), "the field " + o.name + " has no nested keys",
                     c.source == Source::track ? "nested keys are under properties: properties.a.b"
                                               : "");
            return o;
        }
        if (!as_field && (t.text == "traits" || t.text == "identifiers" || t.text == "consent" ||
                          t.text == "computed" || func_from_name(t.text)))
            fail(t,
                 "inside where, conditions test the fields of each " + src + " row; " + t.text +
                     " is not available there",
                 "fields: " + field_list(c.source) +
                     "; move profile conditions outside the aggregate, joined with and");
        std::string hint = auto_hint(t);
        if (hint.empty()) {
            if (t.text == "properties")
                hint = "orders rows have no properties; fields: " + field_list(c.source);
            else
                hint = "fields of " + src + " rows: " + field_list(c.source);
        }
        fail(t, "unknown field '" + t.text + "' of " + src + " rows", hint);
    }

    Aggregate parse_aggregate() {
        const Token& ft = next();
        enter(ft);
        Aggregate a;
        a.pos = pos(ft);
        a.func = *func_from_name(ft.text);
        next();  // '(' (checked by the caller)
        const Token& st = peek();
        if (is_kw("track")) {
            a.source = Source::track;
        } else if (is_kw("orders")) {
            a.source = Source::orders;
        } else {
            std::string hint = auto_hint(st);
            if (hint.empty() && st.kind == T::name) {
                if (st.text == "events" || st.text == "event" || st.text == "tracks")
                    hint = "did you mean track?";
                else if (st.text == "order")
                    hint = "did you mean orders?";
            }
            if (hint.empty() && st.kind == T::rparen) hint = "for example " + ft.text + "(orders)";
            expected(st, "track or orders", hint);
        }
        next();
        if (peek().kind == T::string) {
            if (a.source != Source::track)
                fail(peek(), "an event name only applies to track",
                     "orders rows are filtered with where, e.g. where status == \"paid\"");
            a.event = peek().text;
            next();
        }
        Ctx rc;
        rc.row = true;
        rc.source = a.source;
        rc.close = Ctx::Close::where;
        if (peek().kind == T::dot) {
            next();
            a.field = parse_field(rc, true);
        }
        if (is_kw("where")) {
            next();
            a.where = Box<Expr>(parse_or(rc));
        }
        if (is_kw("within")) {
            next();
            a.within = parse_duration();
        }
        if (peek().kind != T::rparen) {
            std::string hint;
            std::string what = "')' to close " + ft.text + "(";
            if (is_kw("where") && a.within)
                hint = "write where before within";
            else if (peek().kind == T::string && a.source == Source::track && a.event)
                hint = "one event name per aggregate; combine aggregates with or";
            else if (peek().kind == T::name && !a.where && !a.within)
                what = "'.FIELD', where, within or ')' after " + std::string(to_string(a.source));
            else if (a.where && !a.within)
                what = "and, or, within or ')'";
            expected(peek(), what, hint);
        }
        next();
        leave();
        return a;
    }

    Duration parse_duration() {
        const Token& t = peek();
        static const std::string kUnits =
            "units: s (seconds), m (minutes), h (hours), d (days), w (weeks); e.g. within 90d";
        if (t.kind != T::number) expected(t, "a duration such as 90d", kUnits);
        if (t.text.find_first_of(".eE-") != std::string::npos)
            fail(t, "a duration is a whole number followed by a unit, found " + t.text + t.suffix,
                 kUnits);
        if (t.suffix.empty())
            fail(t, "the duration " + t.text + " needs a unit",
                 "write " + t.text + "d for days; " + kUnits);
        if (t.suffix.size() != 1 || std::string("smhdw").find(t.suffix[0]) == std::string::npos)
            fail(t, "unknown duration unit '" + t.suffix + "'",
                 t.suffix == "y" ? "write 365d for a year; " + kUnits : kUnits);
        Duration d;
        d.unit = t.suffix[0];
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), d.amount);
        bool too_long = r.ec != std::errc();
        if (!too_long) {
            try {
                (void)d.seconds();
            } catch (const std::invalid_argument&) {
                too_long = true;
            }
        }
        if (too_long)
            fail(t, "the window " + t.text + t.suffix + " is too long (at most 100 years)");
        if (d.amount == 0) fail(t, "a window must be longer than 0", "for example within 1d");
        next();
        return d;
    }

    std::string_view text_;
    const ParseOptions& opt_;
    std::vector<Token> toks_;
    std::size_t i_ = 0;
    int depth_ = 0;
    std::vector<SegmentError> errors_;
};

// ---- Semantic checks ----------------------------------------------------------------------------

std::string type_words(StaticType t) {
    switch (t) {
        case StaticType::string:
            return "text";
        case StaticType::number:
            return "a number";
        case StaticType::boolean:
            return "true or false";
        case StaticType::any:
            return "any value";
    }
    return "?";
}

std::string literal_kind(const nlohmann::json& v) {
    if (v.is_string()) return "a string";
    if (v.is_number()) return "a number";
    if (v.is_boolean()) return "a boolean";
    if (v.is_null()) return "null";
    return v.is_object() ? "an object" : "an array";
}

bool literal_matches(StaticType t, const nlohmann::json& v) {
    switch (t) {
        case StaticType::any:
            return true;
        case StaticType::string:
            return v.is_string();
        case StaticType::number:
            return v.is_number();
        case StaticType::boolean:
            return v.is_boolean();
    }
    return true;
}

bool is_ordering(Op op) {
    return op == Op::lt || op == Op::le || op == Op::gt || op == Op::ge;
}
bool is_string_op(Op op) {
    return op == Op::contains || op == Op::starts_with || op == Op::ends_with;
}

// Nested keys become SQLite JSON paths ($."key"), which cannot express these characters.
bool nested_key_ok(const std::string& k) {
    if (k.empty()) return false;
    for (char c : k)
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    return true;
}

class Checker {
  public:
    explicit Checker(const ParseOptions& o) : opt_(o), max_tree_depth_(2 * o.max_depth + 2) {}

    std::vector<SegmentError> errors;

    void expr(const Expr& e, const Ctx& c, int depth) {
        if (depth > max_tree_depth_) {
            add(e.pos,
                "the expression nests too deeply (more than " + std::to_string(max_tree_depth_) +
                    " levels)",
                "simplify it, or split it into several segments");
            return;
        }
        switch (e.kind) {
            case Expr::Kind::and_:
            case Expr::Kind::or_:
                if (e.children.size() < 2)
                    add(e.pos, std::string(e.kind == Expr::Kind::and_ ? "and" : "or") +
                                   " needs at least two conditions");
                for (const auto& ch : e.children) expr(ch, c, depth + 1);
                return;
            case Expr::Kind::not_:
                if (e.children.size() != 1) {
                    add(e.pos, "not needs exactly one condition");
                    return;
                }
                expr(e.children.front(), c, depth + 1);
                return;
            case Expr::Kind::predicate:
                predicate(e.predicate, c, depth);
                return;
        }
    }

    void operand(const Operand& o, const Ctx& c, int depth) {
        switch (o.kind) {
            case Operand::Kind::trait:
                if (o.name.empty()) add(o.pos, "a trait name cannot be empty");
                for (const auto& k : o.path) key(o.pos, k);
                break;
            case Operand::Kind::identifier:
            case Operand::Kind::consent:
            case Operand::Kind::computed:
                if (o.name.empty()) add(o.pos, "a name cannot be empty");
                if (!o.path.empty()) add(o.pos, to_text(o) + ": only traits have nested keys");
                if (o.kind == Operand::Kind::computed) computed(o);
                break;
            case Operand::Kind::aggregate:
                if (!o.aggregate) {
                    add(o.pos, "an aggregate operand without its aggregate");
                    break;
                }
                aggregate(*o.aggregate, depth + 1);
                break;
            case Operand::Kind::field:
                break;
        }
        if (c.row && o.kind != Operand::Kind::field) {
            add(o.pos,
                "inside where, conditions test the fields of each " +
                    std::string(to_string(c.source)) + " row; " + to_text(o) +
                    " is not available there",
                "fields: " + field_list(c.source));
        } else if (c.row) {
            field(o, c.source);
        } else if (o.kind == Operand::Kind::field) {
            add(o.pos, "the field " + o.name + " only exists inside an aggregate",
                "for example count(orders where " + o.name + " ...)");
        }
    }

    void aggregate(const Aggregate& a, int depth) {
        if (depth > max_tree_depth_) {
            add(a.pos, "the expression nests too deeply");
            return;
        }
        std::string fn(to_string(a.func));
        if (a.event && a.source != Source::track) add(a.pos, "an event name only applies to track");
        if (a.event && a.event->empty()) add(a.pos, "an event name cannot be empty");
        if (!a.field && a.func != Func::count) {
            add(a.pos, fn + " needs a field",
                a.source == Source::orders ? "for example " + fn + "(orders.total_minor)"
                                           : "for example " + fn + "(track.properties.revenue)");
        }
        if (a.field) {
            if (a.field->kind != Operand::Kind::field) {
                add(a.field->pos, "an aggregate's field must be a row field");
            } else {
                field(*a.field, a.source);
                auto t = field_type(a.source, a.field->name);
                if (t && (a.func == Func::sum || a.func == Func::min || a.func == Func::max) &&
                    *t != StaticType::number && *t != StaticType::any)
                    add(a.field->pos,
                        fn + " works on numbers, and " + a.field->name + " is " + type_words(*t),
                        a.source == Source::orders
                            ? "numeric order fields: total_minor, tax_minor, discount_minor"
                            : "use a numeric property, e.g. properties.revenue");
            }
        }
        if (a.where) {
            Ctx rc;
            rc.row = true;
            rc.source = a.source;
            expr(*a.where, rc, depth + 1);
        }
        if (a.within) {
            bool ok = std::string("smhdw").find(a.within->unit) != std::string::npos;
            if (ok) {
                try {
                    ok = a.within->seconds() > 0;
                } catch (const std::invalid_argument&) {
                    ok = false;
                }
            }
            if (!ok)
                add(a.pos, "invalid window " + a.within->to_string(),
                    "a whole number above 0 and a unit s, m, h, d or w, at most 100 years");
        }
    }

  private:
    void add(Pos p, std::string message, std::string hint = {}) {
        errors.push_back({p.line, p.column, std::move(message), std::move(hint)});
    }

    void key(Pos p, const std::string& k) {
        if (!nested_key_ok(k))
            add(p,
                "the nested key " + nlohmann::json(k).dump() +
                    " is empty or contains a quote, backslash or control character",
                "nested keys cannot contain these characters; only a top-level trait name can");
    }

    void field(const Operand& o, Source s) {
        auto t = field_type(s, o.name);
        if (!t) {
            add(o.pos, "unknown field '" + o.name + "' of " + std::string(to_string(s)) + " rows",
                "fields: " + field_list(s));
            return;
        }
        if (o.name == "properties") {
            if (o.path.empty())
                add(o.pos, "properties needs a property name", "for example properties.sku");
            for (const auto& k : o.path) key(o.pos, k);
        } else if (!o.path.empty()) {
            add(o.pos, "the field " + o.name + " has no nested keys");
        }
    }

    void computed(const Operand& o) {
        if (opt_.computed != nullptr && opt_.computed->count(o.name)) return;
        std::string hint;
        if (opt_.computed == nullptr || opt_.computed->empty()) {
            hint = "no computed traits are defined";
        } else {
            std::vector<std::string> names;
            for (const auto& [n, a] : *opt_.computed) {
                if (names.size() == 12) {
                    names.push_back("...");
                    break;
                }
                names.push_back(n);
            }
            hint = "computed traits: " + join(names);
        }
        add(o.pos, "unknown computed trait '" + o.name + "'", hint);
    }

    void predicate(const Predicate& p, const Ctx& c, int depth) {
        operand(p.operand, c, depth);
        auto vpos = [&](std::size_t i) { return i < p.value_pos.size() ? p.value_pos[i] : p.pos; };
        std::string op(to_string(p.op));
        if (p.op == Op::exists) {
            if (!p.values.empty()) add(p.pos, "exists takes no value");
            return;
        }
        if (p.op == Op::in ? p.values.empty() : p.values.size() != 1) {
            add(p.pos, p.op == Op::in ? "an in list needs at least one value"
                                      : op + " needs exactly one value");
            return;
        }
        StaticType st = static_type(p.operand, opt_.computed);
        std::string subject = to_text(p.operand);
        if (subject.size() > 60) subject = subject.substr(0, 57) + "...";
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            const auto& v = p.values[i];
            if (v.is_null()) {
                add(vpos(i), "comparing with null is not supported",
                    "use exists " + subject +
                        " (or not exists) to test whether a value is present");
                continue;
            }
            if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
                add(vpos(i), "expected a string, number, true or false, found " + literal_kind(v));
                continue;
            }
            if (v.is_number_float() && !std::isfinite(v.get<double>())) {
                add(vpos(i), "numbers must be finite");
                continue;
            }
            if (v.is_number_unsigned() &&
                v.get<std::uint64_t>() >
                    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                add(vpos(i), "the integer " + v.dump() + " is out of range (64-bit)");
                continue;
            }
            if (is_ordering(p.op) && v.is_boolean()) {
                add(vpos(i), op + " compares numbers or strings, found " + v.dump(),
                    "use == or != with true and false");
                continue;
            }
            if (is_string_op(p.op) && !v.is_string()) {
                add(vpos(i), op + " needs a string, found " + literal_kind(v) + " " + v.dump(),
                    "write the value in double quotes");
                continue;
            }
            if (!literal_matches(st, v)) {
                std::string hint = st == StaticType::boolean ? "compare with true or false"
                                   : st == StaticType::number
                                       ? "compare with a number, e.g. >= 2"
                                       : "compare with a string in double quotes";
                add(vpos(i),
                    subject + " is " + type_words(st) + ", so " + op + " " + v.dump() +
                        " is never true (values of different types never compare equal)",
                    hint);
                continue;
            }
            if (is_string_op(p.op) && st != StaticType::any && st != StaticType::string)
                add(p.pos, op + " applies to text, and " + subject + " is " + type_words(st));
        }
    }

    const ParseOptions& opt_;
    int max_tree_depth_;
};

// ---- JSON ---------------------------------------------------------------------------------------

struct JsonError {
    std::string pointer;
    std::string message;
};

class JsonReader {
  public:
    explicit JsonReader(const ParseOptions& o) : max_depth_(2 * o.max_depth + 2) {}

    Expr node(const nlohmann::json& j, const std::string& ptr, int depth) {
        if (depth > max_depth_) throw JsonError{ptr, "the expression nests too deeply"};
        if (!j.is_object()) throw JsonError{ptr, "expected an object, found " + kind(j)};
        for (const char* k : {"and", "or"}) {
            if (!j.contains(k)) continue;
            only_keys(j, ptr, {k});
            const auto& list = j.at(k);
            if (!list.is_array() || list.size() < 2)
                throw JsonError{ptr + "/" + k, "expected an array of at least two conditions"};
            std::vector<Expr> ch;
            for (std::size_t i = 0; i < list.size(); ++i)
                ch.push_back(node(list[i], ptr + "/" + k + "/" + std::to_string(i), depth + 1));
            return std::string(k) == "and" ? Expr::make_and(std::move(ch))
                                           : Expr::make_or(std::move(ch));
        }
        if (j.contains("not")) {
            only_keys(j, ptr, {"not"});
            return Expr::make_not(node(j.at("not"), ptr + "/not", depth + 1));
        }
        if (!j.contains("op")) throw JsonError{ptr, "expected one of the keys and, or, not or op"};
        const auto& opj = j.at("op");
        if (!opj.is_string()) throw JsonError{ptr + "/op", "expected a string"};
        std::optional<Op> op;
        for (Op o : {Op::eq, Op::ne, Op::lt, Op::le, Op::gt, Op::ge, Op::in, Op::contains,
                     Op::starts_with, Op::ends_with, Op::exists})
            if (to_string(o) == opj.get<std::string>()) op = o;
        if (!op) throw JsonError{ptr + "/op", "unknown operator " + opj.dump()};
        Predicate p;
        p.op = *op;
        if (!j.contains("operand")) throw JsonError{ptr, "missing operand"};
        p.operand = operand(j.at("operand"), ptr + "/operand", depth);
        if (*op == Op::exists) {
            only_keys(j, ptr, {"op", "operand"});
        } else if (*op == Op::in) {
            only_keys(j, ptr, {"op", "operand", "values"});
            if (!j.contains("values") || !j.at("values").is_array())
                throw JsonError{ptr + "/values", "expected an array of values"};
            for (std::size_t i = 0; i < j.at("values").size(); ++i)
                p.values.push_back(literal(j.at("values")[i]));
        } else {
            only_keys(j, ptr, {"op", "operand", "value"});
            if (!j.contains("value")) throw JsonError{ptr, "missing value"};
            p.values.push_back(literal(j.at("value")));
        }
        return Expr::make_predicate(std::move(p));
    }

    Operand operand(const nlohmann::json& j, const std::string& ptr, int depth) {
        if (!j.is_object()) throw JsonError{ptr, "expected an object, found " + kind(j)};
        Operand o;
        if (j.contains("aggregate")) {
            only_keys(j, ptr, {"aggregate"});
            o.kind = Operand::Kind::aggregate;
            o.aggregate = Box<Aggregate>(aggregate(j.at("aggregate"), ptr + "/aggregate", depth));
            return o;
        }
        static const std::pair<const char*, Operand::Kind> kinds[] = {
            {"trait", Operand::Kind::trait},
            {"identifier", Operand::Kind::identifier},
            {"consent", Operand::Kind::consent},
            {"computed", Operand::Kind::computed},
            {"field", Operand::Kind::field}};
        for (const auto& [k, kd] : kinds) {
            if (!j.contains(k)) continue;
            only_keys(j, ptr, {k, "path"});
            if (!j.at(k).is_string()) throw JsonError{ptr + "/" + k, "expected a string"};
            o.kind = kd;
            o.name = j.at(k).get<std::string>();
            if (j.contains("path")) {
                const auto& p = j.at("path");
                if (!p.is_array()) throw JsonError{ptr + "/path", "expected an array of strings"};
                for (const auto& s : p) {
                    if (!s.is_string())
                        throw JsonError{ptr + "/path", "expected an array of strings"};
                    o.path.push_back(s.get<std::string>());
                }
            }
            return o;
        }
        throw JsonError{ptr,
                        "expected one of the keys trait, identifier, consent, computed, field or "
                        "aggregate"};
    }

    Aggregate aggregate(const nlohmann::json& j, const std::string& ptr, int depth) {
        if (depth > max_depth_) throw JsonError{ptr, "the expression nests too deeply"};
        if (!j.is_object()) throw JsonError{ptr, "expected an object, found " + kind(j)};
        only_keys(j, ptr, {"func", "source", "event", "field", "where", "within"});
        Aggregate a;
        auto str = [&](const char* k) -> std::string {
            if (!j.contains(k) || !j.at(k).is_string())
                throw JsonError{ptr + "/" + k, "expected a string"};
            return j.at(k).get<std::string>();
        };
        auto f = func_from_name(str("func"));
        if (!f) throw JsonError{ptr + "/func", "unknown function; functions: " + join(kFunctions)};
        a.func = *f;
        std::string s = str("source");
        if (s == "track")
            a.source = Source::track;
        else if (s == "orders")
            a.source = Source::orders;
        else
            throw JsonError{ptr + "/source", "expected track or orders"};
        if (j.contains("event")) a.event = str("event");
        if (j.contains("field")) {
            a.field = operand(j.at("field"), ptr + "/field", depth);
            if (a.field->kind != Operand::Kind::field)
                throw JsonError{ptr + "/field", "expected a field operand {\"field\": ...}"};
        }
        if (j.contains("where"))
            a.where = Box<Expr>(node(j.at("where"), ptr + "/where", depth + 1));
        if (j.contains("within")) {
            std::string w = str("within");
            Duration d;
            if (w.size() < 2 || std::string("smhdw").find(w.back()) == std::string::npos)
                throw JsonError{ptr + "/within", "expected a duration such as \"90d\""};
            d.unit = w.back();
            auto r = std::from_chars(w.data(), w.data() + w.size() - 1, d.amount);
            if (r.ec != std::errc() || r.ptr != w.data() + w.size() - 1 || d.amount <= 0)
                throw JsonError{ptr + "/within", "expected a duration such as \"90d\""};
            a.within = d;
        }
        return a;
    }

    static nlohmann::json literal(const nlohmann::json& v) {
        // Literal integers are int64 (nlohmann reads non-negative ones as unsigned).
        if (v.is_number_unsigned() &&
            v.get<std::uint64_t>() <=
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return static_cast<std::int64_t>(v.get<std::uint64_t>());
        return v;  // anything else is judged by the checker
    }

  private:
    static std::string kind(const nlohmann::json& j) { return j.type_name(); }

    static void only_keys(const nlohmann::json& j, const std::string& ptr,
                          std::initializer_list<const char*> allowed) {
        for (const auto& [k, v] : j.items()) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || k == a;
            if (!ok) throw JsonError{ptr, "unexpected key \"" + k + "\""};
        }
    }

    int max_depth_;
};

}  // namespace

// ---- Public entry points ------------------------------------------------------------------------

std::vector<SegmentError> check(const Expr& expr, const ParseOptions& options) {
    Checker c(options);
    c.expr(expr, Ctx{}, 0);
    return std::move(c.errors);
}

std::vector<SegmentError> check(const Aggregate& aggregate, const ParseOptions& options) {
    Checker c(options);
    c.aggregate(aggregate, 0);
    return std::move(c.errors);
}

std::vector<SegmentError> check(const Operand& operand, const ParseOptions& options) {
    Checker c(options);
    c.operand(operand, Ctx{}, 0);
    return std::move(c.errors);
}

namespace {

template <class T>
Parsed<T> with_checks(Parsed<T> p, const ParseOptions& o) {
    if (!p.value) return p;
    auto errs = check(*p.value, o);
    if (!errs.empty()) {
        p.value.reset();
        p.errors = std::move(errs);
    }
    return p;
}

}  // namespace

Parsed<Expr> parse_segment(std::string_view text, const ParseOptions& options) {
    Parser p(text, options);
    return with_checks(p.run<Expr>([](Parser& q) { return q.top_expr(); }), options);
}

Parsed<Aggregate> parse_aggregate(std::string_view text, const ParseOptions& options) {
    Parser p(text, options);
    return with_checks(p.run<Aggregate>([](Parser& q) { return q.top_aggregate(); }), options);
}

Parsed<Operand> parse_operand(std::string_view text, const ParseOptions& options) {
    Parser p(text, options);
    return with_checks(p.run<Operand>([](Parser& q) { return q.top_operand(); }), options);
}

namespace {

template <class T, class Read>
Parsed<T> read_json(const ParseOptions& options, Read&& read) {
    Parsed<T> out;
    try {
        JsonReader r(options);
        out.value = read(r);
    } catch (const JsonError& e) {
        out.errors.push_back({0, 0, (e.pointer.empty() ? "/" : e.pointer) + ": " + e.message, ""});
        return out;
    }
    return with_checks(std::move(out), options);
}

}  // namespace

Parsed<Expr> expr_from_json(const nlohmann::json& doc, const ParseOptions& options) {
    return read_json<Expr>(options, [&](JsonReader& r) {
        if (!doc.is_object() || !doc.contains("version") || !doc.contains("expr"))
            throw JsonError{"", "expected {\"version\": 1, \"expr\": ...}"};
        if (doc.at("version") != kAstVersion)
            throw JsonError{"/version", "unsupported AST version " + doc.at("version").dump() +
                                            " (this hub reads version " +
                                            std::to_string(kAstVersion) + ")"};
        for (const auto& [k, v] : doc.items())
            if (k != "version" && k != "expr") throw JsonError{"", "unexpected key \"" + k + "\""};
        return r.node(doc.at("expr"), "/expr", 0);
    });
}

Parsed<Aggregate> aggregate_from_json(const nlohmann::json& j, const ParseOptions& options) {
    return read_json<Aggregate>(options, [&](JsonReader& r) { return r.aggregate(j, "", 0); });
}

Parsed<Operand> operand_from_json(const nlohmann::json& j, const ParseOptions& options) {
    return read_json<Operand>(options, [&](JsonReader& r) { return r.operand(j, "", 0); });
}

}  // namespace cdphub::segment

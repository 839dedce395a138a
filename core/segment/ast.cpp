#include "segment/ast.hpp"

#include <stdexcept>

namespace cdphub::segment {

std::string_view to_string(Func f) {
    switch (f) {
        case Func::count:
            return "count";
        case Func::sum:
            return "sum";
        case Func::min:
            return "min";
        case Func::max:
            return "max";
        case Func::first:
            return "first";
        case Func::last:
            return "last";
        case Func::distinct_count:
            return "distinct_count";
    }
    return "?";
}

std::string_view to_string(Source s) {
    return s == Source::track ? "track" : "orders";
}

std::string_view to_string(Op op) {
    switch (op) {
        case Op::eq:
            return "==";
        case Op::ne:
            return "!=";
        case Op::lt:
            return "<";
        case Op::le:
            return "<=";
        case Op::gt:
            return ">";
        case Op::ge:
            return ">=";
        case Op::in:
            return "in";
        case Op::contains:
            return "contains";
        case Op::starts_with:
            return "starts_with";
        case Op::ends_with:
            return "ends_with";
        case Op::exists:
            return "exists";
    }
    return "?";
}

std::int64_t Duration::seconds() const {
    std::int64_t per = 1;
    switch (unit) {
        case 's':
            per = 1;
            break;
        case 'm':
            per = 60;
            break;
        case 'h':
            per = 3600;
            break;
        case 'd':
            per = 86400;
            break;
        case 'w':
            per = 7 * 86400;
            break;
        default:
            throw std::invalid_argument(std::string("unknown duration unit '") + unit + "'");
    }
    if (amount < 0 || amount > kMaxWindowSeconds / per)
        throw std::invalid_argument("duration out of range: " + to_string());
    return amount * per;
}

std::string Duration::to_string() const {
    return std::to_string(amount) + unit;
}

Expr Expr::make_and(std::vector<Expr> children) {
    Expr e;
    e.kind = Kind::and_;
    e.children = std::move(children);
    return e;
}

Expr Expr::make_or(std::vector<Expr> children) {
    Expr e;
    e.kind = Kind::or_;
    e.children = std::move(children);
    return e;
}

Expr Expr::make_not(Expr child) {
    Expr e;
    e.kind = Kind::not_;
    e.children.push_back(std::move(child));
    return e;
}

Expr Expr::make_predicate(Predicate p) {
    Expr e;
    e.kind = Kind::predicate;
    e.pos = p.pos;
    e.predicate = std::move(p);
    return e;
}

// ---- JSON ---------------------------------------------------------------------------------------

namespace {

std::string_view operand_kind_key(Operand::Kind k) {
    switch (k) {
        case Operand::Kind::trait:
            return "trait";
        case Operand::Kind::identifier:
            return "identifier";
        case Operand::Kind::consent:
            return "consent";
        case Operand::Kind::computed:
            return "computed";
        case Operand::Kind::aggregate:
            return "aggregate";
        case Operand::Kind::field:
            return "field";
    }
    return "?";
}

}  // namespace

nlohmann::json operand_to_json(const Operand& o) {
    nlohmann::json j = nlohmann::json::object();
    if (o.kind == Operand::Kind::aggregate) {
        if (!o.aggregate) throw std::invalid_argument("aggregate operand without an aggregate");
        j["aggregate"] = aggregate_to_json(*o.aggregate);
        return j;
    }
    j[std::string(operand_kind_key(o.kind))] = o.name;
    if (!o.path.empty()) j["path"] = o.path;
    return j;
}

nlohmann::json aggregate_to_json(const Aggregate& a) {
    nlohmann::json j = nlohmann::json::object();
    j["func"] = std::string(to_string(a.func));
    j["source"] = std::string(to_string(a.source));
    if (a.event) j["event"] = *a.event;
    if (a.field) j["field"] = operand_to_json(*a.field);
    if (a.where) j["where"] = node_to_json(*a.where);
    if (a.within) j["within"] = a.within->to_string();
    return j;
}

nlohmann::json node_to_json(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::and_:
        case Expr::Kind::or_: {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& c : e.children) list.push_back(node_to_json(c));
            return {{e.kind == Expr::Kind::and_ ? "and" : "or", std::move(list)}};
        }
        case Expr::Kind::not_:
            if (e.children.size() != 1) throw std::invalid_argument("not needs exactly one child");
            return {{"not", node_to_json(e.children.front())}};
        case Expr::Kind::predicate:
            break;
    }
    const Predicate& p = e.predicate;
    nlohmann::json j = nlohmann::json::object();
    j["op"] = std::string(to_string(p.op));
    j["operand"] = operand_to_json(p.operand);
    if (p.op == Op::in) {
        j["values"] = nlohmann::json(p.values);
    } else if (p.op != Op::exists) {
        if (p.values.size() != 1) throw std::invalid_argument("comparison needs exactly one value");
        j["value"] = p.values.front();
    }
    return j;
}

nlohmann::json to_json(const Expr& expr) {
    return {{"version", kAstVersion}, {"expr", node_to_json(expr)}};
}

// ---- Text ---------------------------------------------------------------------------------------

bool is_bare_key(std::string_view key) {
    if (key.empty()) return false;
    auto alpha = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!alpha(key.front())) return false;
    for (char c : key)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

std::string literal_to_text(const nlohmann::json& literal) {
    return literal.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

namespace {

std::string key_text(const std::string& key) {
    return is_bare_key(key) ? key : nlohmann::json(key).dump();
}

void append_path(std::string& out, const std::vector<std::string>& path) {
    for (const auto& k : path) {
        out += '.';
        out += key_text(k);
    }
}

void print(std::string& out, const Expr& e, int min_prec);

void print_operand(std::string& out, const Operand& o) {
    switch (o.kind) {
        case Operand::Kind::trait:
            out += "traits";
            break;
        case Operand::Kind::identifier:
            out += "identifiers";
            break;
        case Operand::Kind::consent:
            out += "consent";
            break;
        case Operand::Kind::computed:
            out += "computed";
            break;
        case Operand::Kind::field:
            out += o.name;  // field names are fixed words
            append_path(out, o.path);
            return;
        case Operand::Kind::aggregate:
            if (!o.aggregate) throw std::invalid_argument("aggregate operand without an aggregate");
            out += to_text(*o.aggregate);
            return;
    }
    out += '.';
    out += key_text(o.name);
    append_path(out, o.path);
}

void print_predicate(std::string& out, const Predicate& p) {
    if (p.op == Op::exists) {
        out += "exists ";
        print_operand(out, p.operand);
        return;
    }
    print_operand(out, p.operand);
    out += ' ';
    out += to_string(p.op);
    out += ' ';
    if (p.op == Op::in) {
        out += '[';
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            if (i) out += ", ";
            out += literal_to_text(p.values[i]);
        }
        out += ']';
    } else {
        if (p.values.size() != 1) throw std::invalid_argument("comparison needs exactly one value");
        out += literal_to_text(p.values.front());
    }
}

// Precedence: or 1, and 2, not 3, predicate 4. A child whose precedence is below min_prec is
// parenthesized; so is an and inside an and (or an or inside an or), which keeps the tree's shape.
void print(std::string& out, const Expr& e, int min_prec) {
    switch (e.kind) {
        case Expr::Kind::predicate:
            print_predicate(out, e.predicate);
            return;
        case Expr::Kind::not_:
            if (e.children.size() != 1) throw std::invalid_argument("not needs exactly one child");
            out += "not ";
            print(out, e.children.front(), 3);
            return;
        case Expr::Kind::and_:
        case Expr::Kind::or_:
            break;
    }
    bool is_and = e.kind == Expr::Kind::and_;
    int prec = is_and ? 2 : 1;
    if (e.children.size() == 1) {
        print(out, e.children.front(), min_prec);
        return;
    }
    bool parens = prec < min_prec;
    if (parens) out += '(';
    for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += is_and ? " and " : " or ";
        // A same-kind child keeps its own node: parenthesize it (prec + 1).
        print(out, e.children[i], prec + 1);
    }
    if (parens) out += ')';
}

}  // namespace

std::string to_text(const Aggregate& a) {
    std::string out(to_string(a.func));
    out += '(';
    out += to_string(a.source);
    if (a.event) {
        out += ' ';
        out += nlohmann::json(*a.event).dump();
    }
    if (a.field) {
        out += '.';
        print_operand(out, *a.field);
    }
    if (a.where) {
        out += " where ";
        print(out, *a.where, 1);
    }
    if (a.within) {
        out += " within ";
        out += a.within->to_string();
    }
    out += ')';
    return out;
}

std::string to_text(const Operand& operand) {
    std::string out;
    print_operand(out, operand);
    return out;
}

std::string to_text(const Expr& expr) {
    std::string out;
    print(out, expr, 1);
    return out;
}

}  // namespace cdphub::segment

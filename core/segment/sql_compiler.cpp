#include "segment/sql_compiler.hpp"

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "segment/parser.hpp"
#include "segment/values.hpp"

namespace cdphub::segment {

namespace {

using nlohmann::json;

// A query returning a column profile_id. `compound` when it is a UNION/INTERSECT/EXCEPT chain,
// which another chain can only continue (as its head) or read as a CTE.
struct Query {
    std::string sql;
    bool compound = false;
    bool distinct = true;  // each profile id at most once (compounds always are)
};

// A set of live profiles: `base` (nullopt: the empty set), or, when `complement`, the live
// profiles not in `base`.
struct Set {
    bool complement = false;
    std::optional<Query> base;

    static Set empty() { return {}; }
    static Set all() { return {true, std::nullopt}; }
    bool is_empty() const { return !complement && !base; }
    bool is_all() const { return complement && !base; }
};

// SQL snippets that read one value and test its type. "0"/"1" are constant false/true; callers
// simplify with them. A test may be NULL where it is false (WHERE treats NULL as false); row
// conditions wrap every predicate in coalesce(..., 0) to stay two-valued.
struct Access {
    std::string v;
    std::string present;
    std::string is_string;
    std::string is_number;
    std::string is_true;
    std::string is_false;
    bool json = false;  // a JSON path into a document (json_type gives the type)
    std::string type;   // json: the json_type(...) expression
};

std::string conj(const std::string& a, const std::string& b) {
    if (a == "0" || b == "0") return "0";
    if (a == "1") return b;
    if (b == "1") return a;
    return a + " AND " + b;
}

std::string paren(const std::string& s) {
    if (s == "0" || s == "1") return s;
    return "(" + s + ")";
}

// Joins terms with AND / OR as a balanced tree of parentheses: SQLite limits expression depth
// to 1000, and a flat chain of n terms is n deep.
std::string balanced(const std::vector<std::string>& t, std::size_t lo, std::size_t hi,
                     const char* op) {
    if (hi - lo == 1) return paren(t[lo]);
    std::size_t mid = lo + (hi - lo) / 2;
    return "(" + balanced(t, lo, mid, op) + op + balanced(t, mid, hi, op) + ")";
}

std::string disj(const std::vector<std::string>& terms) {
    std::vector<std::string> keep;
    for (const auto& t : terms) {
        if (t == "1") return "1";
        if (t != "0") keep.push_back(t);
    }
    if (keep.empty()) return "0";
    if (keep.size() == 1) return keep.front();
    return balanced(keep, 0, keep.size(), " OR ");
}

std::string conj_all(const std::vector<std::string>& terms) {
    std::vector<std::string> keep;
    for (const auto& t : terms) {
        if (t == "0") return "0";
        if (t != "1") keep.push_back(t);
    }
    if (keep.empty()) return "1";
    if (keep.size() == 1) return keep.front();
    return balanced(keep, 0, keep.size(), " AND ");
}

// The numeric value a JSON number literal binds as.
SqlValue number_param(const json& v) {
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return static_cast<std::int64_t>(u);
        return static_cast<double>(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    return v.get<double>();
}

// The smallest string greater than every string that starts with `prefix` (which is valid UTF-8,
// so its last byte is below 0xFF).
std::string prefix_upper_bound(std::string prefix) {
    while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
    if (!prefix.empty())
        prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
    return prefix;
}

class Compiler {
  public:
    explicit Compiler(const Context& ctx) : ctx_(ctx) {}

    std::vector<SqlValue> params;

    std::string p(SqlValue v) {
        auto it = index_.find(v);
        if (it != index_.end()) return "?" + std::to_string(it->second);
        params.push_back(v);
        int n = static_cast<int>(params.size());
        index_.emplace(std::move(v), n);
        return "?" + std::to_string(n);
    }

    Set expr(const Expr& e) {
        switch (e.kind) {
            case Expr::Kind::not_: {
                if (e.children.size() != 1) throw EvalError("not needs exactly one condition");
                Set s = expr(e.children.front());
                s.complement = !s.complement;
                return s;
            }
            case Expr::Kind::and_:
            case Expr::Kind::or_:
                return combine(e);
            case Expr::Kind::predicate:
                return predicate(e.predicate);
        }
        throw EvalError("unknown node");
    }

    // The whole statement. Sub-expressions that simplified away (x and false, exists count(...))
    // may have registered CTEs and parameters the statement no longer uses: only the CTEs the
    // body reaches are kept, and the parameters are renumbered in order of use.
    CompiledSql finish(const Set& s) {
        std::string body;
        if (s.is_empty()) {
            body = "SELECT id AS profile_id FROM profiles WHERE 0";
        } else if (s.is_all()) {
            body = "SELECT id AS profile_id FROM profiles WHERE merged_into IS NULL";
        } else if (s.complement) {
            body =
                "SELECT id AS profile_id FROM profiles WHERE merged_into IS NULL AND id NOT IN (" +
                s.base->sql + ")";
        } else {
            // Merged-away profiles (tombstones, usually few) are filtered against a small set,
            // so the members stream out instead of filling another temporary b-tree.
            body = std::string(s.base->distinct ? "SELECT" : "SELECT DISTINCT") +
                   " profile_id FROM (" + s.base->sql +
                   ") WHERE profile_id NOT IN (SELECT id FROM profiles WHERE merged_into IS NOT "
                   "NULL)";
        }
        std::vector<bool> keep(ctes_.size(), false);
        std::vector<std::size_t> todo;
        auto mark = [&](const std::string& text) {
            for (std::size_t i = 0; i < ctes_.size(); ++i)
                if (!keep[i] && refers(text, i)) {
                    keep[i] = true;
                    todo.push_back(i);
                }
        };
        mark(body);
        while (!todo.empty()) {
            std::size_t i = todo.back();
            todo.pop_back();
            mark(ctes_[i]);
        }
        std::string sql;
        for (std::size_t i = 0; i < ctes_.size(); ++i) {
            if (!keep[i]) continue;
            sql += sql.empty() ? "WITH " : ", ";
            sql += cte_name(i) + " AS (" + ctes_[i] + ")";
        }
        if (!sql.empty()) sql += " ";
        sql += body;

        // Renumber ?N in order of first use. User text never appears in the SQL, so every '?'
        // is a placeholder.
        CompiledSql out;
        std::map<std::size_t, std::size_t> renum;
        for (std::size_t i = 0; i < sql.size(); ++i) {
            out.sql += sql[i];
            if (sql[i] != '?') continue;
            std::size_t j = i + 1, n = 0;
            while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9')
                n = n * 10 + static_cast<std::size_t>(sql[j++] - '0');
            auto [it, fresh] = renum.emplace(n, out.params.size() + 1);
            if (fresh) out.params.push_back(params.at(n - 1));
            out.sql += std::to_string(it->second);
            i = j - 1;
        }
        return out;
    }

  private:
    // ---- set algebra ----
    //
    // Compound SELECTs group left to right, so a chain can always be continued: the first compound
    // operand of a combination heads the new chain as it is. Every other compound operand becomes
    // a named CTE, so the SQL never nests (SQLite's parser allows only about 15 nested subqueries)
    // however deep the expression is. SQLite also allows only 500 terms per compound; longer
    // chains are split into CTEs of kMaxCompoundTerms terms.
    static constexpr std::size_t kMaxCompoundTerms = 200;

    static std::string cte_name(std::size_t i) { return "s" + std::to_string(i + 1); }

    // Whether `text` reads CTE i ("FROM s<i+1>" not followed by another digit).
    static bool refers(const std::string& text, std::size_t i) {
        std::string needle = "FROM " + cte_name(i);
        for (std::size_t at = text.find(needle); at != std::string::npos;
             at = text.find(needle, at + 1)) {
            std::size_t end = at + needle.size();
            if (end >= text.size() || text[end] < '0' || text[end] > '9') return true;
        }
        return false;
    }

    std::string term(const Query& q) {
        if (!q.compound) return q.sql;
        ctes_.push_back(q.sql);
        return "SELECT profile_id FROM " + cte_name(ctes_.size() - 1);
    }

    Query compound(const std::string& op, std::vector<Query> qs) {
        while (qs.size() > kMaxCompoundTerms) {
            std::vector<Query> grouped;
            for (std::size_t i = 0; i < qs.size(); i += kMaxCompoundTerms) {
                std::vector<Query> g(qs.begin() + static_cast<std::ptrdiff_t>(i),
                                     qs.begin() + static_cast<std::ptrdiff_t>(
                                                      std::min(qs.size(), i + kMaxCompoundTerms)));
                grouped.push_back(compound(op, std::move(g)));
            }
            qs = std::move(grouped);
        }
        if (qs.size() == 1) return qs.front();
        // INTERSECT and UNION are commutative: put a compound operand first, unwrapped.
        for (std::size_t i = 1; i < qs.size(); ++i) {
            if (qs[i].compound && !qs.front().compound) {
                std::swap(qs[i], qs.front());
                break;
            }
        }
        Query out{qs.front().sql, true};
        for (std::size_t i = 1; i < qs.size(); ++i) out.sql += " " + op + " " + term(qs[i]);
        return out;
    }

    Query except(const Query& a, const Query& b) { return {a.sql + " EXCEPT " + term(b), true}; }

    // and: (P1 ∩ P2 ...) − (N1 ∪ N2 ...), where Ni are the bases of complemented children.
    // or:  P1 ∪ ... ∪ (live − N1) ∪ ... = live − ((N1 ∩ N2 ...) − (P1 ∪ P2 ...)).
    Set combine(const Expr& e) {
        bool is_and = e.kind == Expr::Kind::and_;
        if (e.children.empty()) throw EvalError("and/or without conditions");
        std::vector<Query> pos, neg;
        // Predicates on the same single-valued operand become one row test:
        // traits.age >= 30 and traits.age < 40 is one index range, not two sets to intersect.
        std::map<std::string, std::vector<const Predicate*>> same;
        for (const auto& c : e.children)
            if (c.kind == Expr::Kind::predicate && single_valued(c.predicate.operand))
                same[single_key(c.predicate.operand)].push_back(&c.predicate);
        std::set<std::string> merged;
        for (const auto& c : e.children) {
            Set s;
            if (c.kind == Expr::Kind::predicate && single_valued(c.predicate.operand)) {
                std::string k = single_key(c.predicate.operand);
                if (!merged.insert(k).second) continue;  // already part of an earlier group
                s = single(same[k], is_and);
            } else {
                s = expr(c);
            }
            if (is_and) {
                if (s.is_empty()) return Set::empty();
                if (s.is_all()) continue;
            } else {
                if (s.is_all()) return Set::all();
                if (s.is_empty()) continue;
            }
            (s.complement ? neg : pos).push_back(*s.base);
        }
        if (is_and) {
            if (pos.empty() && neg.empty()) return Set::all();
            if (pos.empty()) return {true, compound("UNION", std::move(neg))};
            Query q = compound("INTERSECT", std::move(pos));
            if (!neg.empty()) q = except(q, compound("UNION", std::move(neg)));
            return {false, q};
        }
        if (pos.empty() && neg.empty()) return Set::empty();
        if (neg.empty()) return {false, compound("UNION", std::move(pos))};
        Query q = compound("INTERSECT", std::move(neg));
        if (!pos.empty()) q = except(q, compound("UNION", std::move(pos)));
        return {true, q};
    }

    // ---- value conditions ----

    std::string eq1(const Access& a, const json& lit) {
        if (lit.is_string()) return conj(a.is_string, a.v + " = " + p(lit.get<std::string>()));
        if (lit.is_number()) return conj(a.is_number, a.v + " = " + p(number_param(lit)));
        if (lit.is_boolean()) return lit.get<bool>() ? a.is_true : a.is_false;
        return "0";
    }

    std::string in_list(const std::string& v, const std::vector<std::string>& ps) {
        if (ps.size() == 1) return v + " = " + ps.front();
        std::string s = v + " IN (";
        for (std::size_t i = 0; i < ps.size(); ++i) {
            if (i) s += ", ";
            s += ps[i];
        }
        return s + ")";
    }

    // True exactly when the value satisfies op (for a single value; ne: present and not equal).
    std::string cond(Op op, const std::vector<json>& lits, const Access& a) {
        switch (op) {
            case Op::exists:
                return a.present;
            case Op::eq:
                return lits.empty() ? "0" : eq1(a, lits.front());
            case Op::ne: {
                std::string eq = lits.empty() ? "0" : eq1(a, lits.front());
                if (eq == "0") return a.present;
                return conj(a.present, "NOT coalesce(" + eq + ", 0)");
            }
            case Op::in: {
                std::vector<std::string> strs, nums;
                bool t = false, f = false;
                for (const auto& l : lits) {
                    if (l.is_string())
                        strs.push_back(p(l.get<std::string>()));
                    else if (l.is_number())
                        nums.push_back(p(number_param(l)));
                    else if (l.is_boolean())
                        (l.get<bool>() ? t : f) = true;
                }
                std::vector<std::string> terms;
                if (!strs.empty()) terms.push_back(conj(a.is_string, in_list(a.v, strs)));
                if (!nums.empty()) terms.push_back(conj(a.is_number, in_list(a.v, nums)));
                if (t) terms.push_back(a.is_true);
                if (f) terms.push_back(a.is_false);
                return disj(terms);
            }
            case Op::lt:
            case Op::le:
            case Op::gt:
            case Op::ge: {
                if (lits.empty()) return "0";
                const auto& l = lits.front();
                std::string o(to_string(op));
                if (l.is_string())
                    return conj(a.is_string, a.v + " " + o + " " + p(l.get<std::string>()));
                if (l.is_number())
                    return conj(a.is_number, a.v + " " + o + " " + p(number_param(l)));
                return "0";
            }
            case Op::contains:
            case Op::starts_with:
            case Op::ends_with: {
                if (lits.empty() || !lits.front().is_string()) return "0";
                const auto& s = lits.front().get_ref<const std::string&>();
                if (s.empty()) return a.is_string;
                if (op == Op::contains)
                    return conj(a.is_string,
                                "instr(CAST(" + a.v + " AS BLOB), CAST(" + p(s) + " AS BLOB)) > 0");
                if (op == Op::starts_with) {
                    std::string hi = prefix_upper_bound(s);
                    std::string c = a.v + " >= " + p(s);
                    if (!hi.empty()) c += " AND " + a.v + " < " + p(hi);
                    return conj(a.is_string, c);
                }
                return conj(a.is_string, "substr(CAST(" + a.v + " AS BLOB), " +
                                             p(-static_cast<std::int64_t>(s.size())) + ") = CAST(" +
                                             p(s) + " AS BLOB)");
            }
        }
        return "0";
    }

    // ---- accessors ----

    static Access constant_types(std::string v, std::string present, StaticType t) {
        Access a;
        a.v = std::move(v);
        a.present = present;
        a.is_string = t == StaticType::string ? present : "0";
        a.is_number = t == StaticType::number ? present : "0";
        a.is_true = "0";
        a.is_false = "0";
        return a;
    }

    std::string json_path(const std::vector<std::string>& keys) {
        std::string path = "$";
        for (const auto& k : keys) {
            for (char c : k)
                if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
                    throw EvalError("the nested key " + json(k).dump() + " cannot be used in SQL");
            path += ".\"" + k + "\"";
        }
        return path;
    }

    Access json_access(const std::string& doc, const std::vector<std::string>& keys) {
        std::string pp = p(json_path(keys));
        Access a;
        a.json = true;
        a.type = "json_type(" + doc + ", " + pp + ")";
        a.v = "json_extract(" + doc + ", " + pp + ")";
        a.present = "coalesce(" + a.type + ", 'null') <> 'null'";
        a.is_string = a.type + " = 'text'";
        a.is_number = a.type + " IN ('integer', 'real')";
        a.is_true = a.type + " = 'true'";
        a.is_false = a.type + " = 'false'";
        return a;
    }

    Access field_access(Source src, const Operand& f) {
        if (f.kind != Operand::Kind::field)
            throw EvalError("expected a row field, found " + to_text(f));
        auto t = field_type(src, f.name);
        if (!t)
            throw EvalError("unknown field '" + f.name + "' of " + std::string(to_string(src)) +
                            " rows");
        const std::string& col = f.name;
        if (f.name == "properties") {
            if (f.path.empty()) throw EvalError("properties needs a property name");
            return json_access(col, f.path);
        }
        bool nullable = f.name == "status" || f.name == "tax_minor" || f.name == "discount_minor";
        return constant_types(col, nullable ? col + " IS NOT NULL" : "1", *t);
    }

    // ---- rows ----

    struct Rows {
        std::string table;
        std::string filter;  // "1" when every row counts
    };

    Rows rows(const Aggregate& a) {
        Rows r;
        r.table = a.source == Source::track ? "events" : "orders";
        std::string f = "1";
        if (a.event) {
            if (a.source != Source::track) throw EvalError("an event name only applies to track");
            f = conj(f, "event = " + p(*a.event));
        }
        if (a.within) {
            std::string cutoff;
            try {
                cutoff = window_cutoff(ctx_.now, *a.within);
            } catch (const std::invalid_argument& e) {
                throw EvalError(std::string("cannot compute the window: ") + e.what());
            }
            f = conj(f, "occurred_at >= " + p(cutoff));
        }
        if (a.where) f = conj(f, row_cond(*a.where, a.source));
        r.filter = f;
        return r;
    }

    // A two-valued SQL condition on one row.
    std::string row_cond(const Expr& e, Source src) {
        switch (e.kind) {
            case Expr::Kind::and_:
            case Expr::Kind::or_: {
                std::vector<std::string> parts;
                for (const auto& c : e.children) parts.push_back(row_cond(c, src));
                return paren(e.kind == Expr::Kind::or_ ? disj(parts) : conj_all(parts));
            }
            case Expr::Kind::not_: {
                if (e.children.size() != 1) throw EvalError("not needs exactly one condition");
                std::string c = row_cond(e.children.front(), src);
                if (c == "0") return "1";
                if (c == "1") return "0";
                return "(NOT " + paren(c) + ")";
            }
            case Expr::Kind::predicate:
                break;
        }
        const auto& pr = e.predicate;
        Access a = field_access(src, pr.operand);
        std::string c = cond(pr.op, pr.values, a);
        if (c == "0" || c == "1") return c;
        return "coalesce(" + c + ", 0)";
    }

    // ---- predicates ----

    Set predicate(const Predicate& pr) {
        const Operand& o = pr.operand;
        switch (o.kind) {
            case Operand::Kind::trait:
            case Operand::Kind::consent:
                return single({&pr}, true);
            case Operand::Kind::identifier:
                return identifier(pr);
            case Operand::Kind::computed: {
                if (ctx_.computed != nullptr) {
                    auto it = ctx_.computed->find(o.name);
                    if (it != ctx_.computed->end()) return aggregate(pr, it->second);
                }
                throw EvalError("unknown computed trait '" + o.name + "'");
            }
            case Operand::Kind::aggregate:
                if (!o.aggregate) throw EvalError("an aggregate operand without its aggregate");
                return aggregate(pr, *o.aggregate);
            case Operand::Kind::field:
                throw EvalError("the field " + o.name + " only exists inside an aggregate");
        }
        throw EvalError("unknown operand");
    }

    static Set positive(std::string sql) { return {false, Query{std::move(sql), false}}; }

    // One row per profile in profile_traits (per name) and consents (per purpose); several in
    // profile_identifiers, events and orders.
    Set select_where(const std::string& table, const std::string& where) {
        if (where == "0") return Set::empty();
        Set s =
            positive("SELECT profile_id FROM " + table + (where == "1" ? "" : " WHERE " + where));
        s.base->distinct = table == "profile_traits" || table == "consents";
        return s;
    }

    // Operands with at most one value per profile, each value one row: a top-level or nested
    // trait (a profile_traits row) or a consent (a consents row).
    struct SingleRows {
        std::string table;
        std::string key;  // selects the operand's rows
        Access access;
    };

    static bool single_valued(const Operand& o) {
        return o.kind == Operand::Kind::trait || o.kind == Operand::Kind::consent;
    }

    static std::string single_key(const Operand& o) {
        json k = {o.kind == Operand::Kind::trait ? "t" : "c", o.name, o.path};
        return k.dump();
    }

    SingleRows single_rows(const Operand& o) {
        SingleRows r;
        if (o.kind == Operand::Kind::consent) {
            r.table = "consents";
            r.key = "purpose = " + p(o.name);
            r.access.v = "granted";
            r.access.present = "1";
            r.access.is_string = "0";
            r.access.is_number = "0";
            r.access.is_true = "granted = 1";
            r.access.is_false = "granted = 0";
            return r;
        }
        r.table = "profile_traits";
        r.key = "name = " + p(o.name);
        if (o.path.empty()) {
            r.access.v = "value";
            r.access.present = "1";
            r.access.is_string = "kind = 'string'";
            r.access.is_number = "kind = 'number'";
            r.access.is_true = "kind = 'boolean' AND value = 1";
            r.access.is_false = "kind = 'boolean' AND value = 0";
        } else {
            r.key = conj(r.key, "kind = 'object'");
            r.access = json_access("value", o.path);
        }
        return r;
    }

    // Several predicates on one single-valued operand, joined by and / or: one row test.
    Set single(const std::vector<const Predicate*>& preds, bool is_and) {
        SingleRows r = single_rows(preds.front()->operand);
        std::vector<std::string> conds;
        for (const Predicate* pr : preds) conds.push_back(cond(pr->op, pr->values, r.access));
        std::string c = is_and ? conj_all(conds) : disj(conds);
        if (c == "0") return Set::empty();
        return select_where(r.table, conj(r.key, paren(c)));
    }

    Set identifier(const Predicate& pr) {
        std::string type = "type = " + p(pr.operand.name);
        Access a = constant_types("value", "1", StaticType::string);
        if (pr.op == Op::ne) {
            // Has the type, and no value of it equals the literal.
            Set has = select_where("profile_identifiers", type);
            std::string eq = pr.values.empty() ? "0" : eq1(a, pr.values.front());
            if (eq == "0") return has;
            Set hit = select_where("profile_identifiers", conj(type, paren(eq)));
            return {false, except(*has.base, *hit.base)};
        }
        std::string c = cond(pr.op, pr.values, a);
        if (c == "0") return Set::empty();
        return select_where("profile_identifiers", conj(type, paren(c)));
    }

    Set aggregate(const Predicate& pr, const Aggregate& a) {
        if (a.func != Func::count && !a.field)
            throw EvalError(std::string(to_string(a.func)) + " needs a field");
        Rows r = rows(a);
        std::string from = " FROM " + r.table + (r.filter == "1" ? "" : " WHERE " + r.filter);

        if (a.func == Func::first || a.func == Func::last) return pick(pr, a, r);
        std::string group = " GROUP BY " + group_key(a) + " HAVING ";
        if (pr.op == Op::exists && a.func != Func::min && a.func != Func::max)
            return Set::all();  // count, sum and distinct_count always have a value

        // The per-profile value, over the rows of profiles that have rows.
        std::string value;
        std::optional<Access> fa;
        if (a.field) fa = field_access(a.source, *a.field);
        switch (a.func) {
            case Func::count:
                value = !fa || fa->present == "1"
                            ? "count(*)"
                            : "count(CASE WHEN " + fa->present + " THEN 1 END)";
                break;
            case Func::sum:
                value = std::string(kSumFunction) + "(" +
                        (fa->is_number == "1"
                             ? fa->v
                             : "CASE WHEN " + fa->is_number + " THEN " + fa->v + " END") +
                        ")";
                break;
            case Func::min:
            case Func::max:
                value = std::string(a.func == Func::min ? "min(" : "max(") +
                        (fa->is_number == "1"
                             ? fa->v
                             : "CASE WHEN " + fa->is_number + " THEN " + fa->v + " END") +
                        ")";
                break;
            case Func::distinct_count:
                if (fa->json)
                    value = "count(DISTINCT CASE " + fa->type +
                            " WHEN 'true' THEN x'01' WHEN 'false' THEN x'00' WHEN 'integer' THEN " +
                            fa->v + " WHEN 'real' THEN " + fa->v + " WHEN 'text' THEN " + fa->v +
                            " END)";
                else
                    value = "count(DISTINCT " + fa->v + ")";
                break;
            default:
                break;
        }
        Access v;
        v.v = value;
        v.present = value + " IS NOT NULL";
        v.is_number = v.present;
        v.is_string = "0";
        v.is_true = "0";
        v.is_false = "0";
        if (a.func == Func::min || a.func == Func::max) {
            // Missing without numeric values: the condition is false then, and for profiles
            // without rows.
            std::string c = cond(pr.op, pr.values, v);
            if (c == "0") return Set::empty();
            return positive("SELECT profile_id" + from + group +
                            (c == "1" ? "1" : "coalesce(" + c + ", 0)"));
        }
        // count, sum, distinct_count: never missing; 0 for profiles without rows.
        json zero = 0;
        bool zero_matches = apply_predicate(pr.op, {&zero}, pr.values);
        std::string c = cond(pr.op, pr.values, v);
        if (c == "1" || (c == "0" && zero_matches)) return Set::all();
        if (c == "0") return Set::empty();
        if (!zero_matches)
            return positive("SELECT profile_id" + from + group + "coalesce(" + c + ", 0)");
        return {true,
                Query{"SELECT profile_id" + from + group + "NOT coalesce(" + c + ", 0)", false}};
    }

    // What aggregates group by. Plain profile_id lets SQLite walk the per-profile index
    // (events_by_profile, orders_by_profile) to avoid sorting, which is only good when that
    // index covers everything the aggregate reads and there is no window:
    // - rows arrive in time order, so their rowids follow time; reading other columns
    //   (properties, amounts) in profile order fetches rows at random (56 s instead of a few
    //   seconds for last(track.properties.plan) over 8M events);
    // - with a window, reading that range of events_by_name / orders_by_time and sorting it beats
    //   scanning the whole per-profile index, which SQLite prefers once ANALYZE statistics show
    //   few distinct event names (5x slower on 8M events).
    // +profile_id is the same value, but no index can provide its order.
    static std::string group_key(const Aggregate& a) {
        return a.within || reads_uncovered(a) ? "+profile_id" : "profile_id";
    }

    // Whether the aggregate reads a column that the per-profile index does not hold: it holds
    // profile_id, occurred_at (and event, for events) besides the row id.
    static bool reads_uncovered(const Aggregate& a) {
        auto covered = [&](const Operand& f) {
            return f.name == "occurred_at" || (a.source == Source::track && f.name == "event");
        };
        if (a.field && !covered(*a.field)) return true;
        if (!a.where) return false;
        std::vector<const Expr*> todo = {a.where.get()};
        while (!todo.empty()) {
            const Expr* e = todo.back();
            todo.pop_back();
            for (const auto& c : e->children) todo.push_back(&c);
            if (e->kind == Expr::Kind::predicate && !covered(e->predicate.operand)) return true;
        }
        return false;
    }

    // first / last: the field's value on the earliest / latest row (by occurred_at, id) among
    // the rows where it is present.
    Set pick(const Predicate& pr, const Aggregate& a, const Rows& r) {
        Access fa = field_access(a.source, *a.field);
        std::string where = conj(r.filter, fa.present == "1" ? "1" : paren(fa.present));
        std::string from = " FROM " + r.table + (where == "1" ? "" : " WHERE " + where);
        if (pr.op == Op::exists) {
            Set s = positive("SELECT profile_id" + from);
            s.base->distinct = false;
            return s;
        }
        // Read the value (and JSON type) once per row in a subquery, then test the winner.
        Access inner;
        if (fa.json) {
            inner.json = true;
            inner.type = "ty";
            inner.v = "v";
            inner.present = "1";
            inner.is_string = "ty = 'text'";
            inner.is_number = "ty IN ('integer', 'real')";
            inner.is_true = "ty = 'true'";
            inner.is_false = "ty = 'false'";
        } else {
            inner = constant_types("v", "1", *field_type(a.source, a.field->name));
        }
        std::string c = cond(pr.op, pr.values, inner);
        if (c == "0") return Set::empty();
        std::string dir = a.func == Func::first ? "ASC" : "DESC";
        std::string sub = "SELECT profile_id, " + fa.v + " AS v, " + (fa.json ? fa.type : "NULL") +
                          " AS ty, row_number() OVER (PARTITION BY " + group_key(a) +
                          " ORDER BY occurred_at " + dir + ", id " + dir + ") AS rn" + from;
        return positive("SELECT profile_id FROM (" + sub + ") WHERE rn = 1" +
                        (c == "1" ? "" : " AND coalesce(" + c + ", 0)"));
    }

    const Context& ctx_;
    std::map<SqlValue, int> index_;
    std::vector<std::string> ctes_;
};

}  // namespace

CompiledSql compile_sql(const Expr& expr, const Context& context) {
    Compiler c(context);
    Set s = c.expr(expr);
    return c.finish(s);
}

}  // namespace cdphub::segment

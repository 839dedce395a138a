#include "segment/evaluator.hpp"

#include <set>
#include <string>
#include <vector>

#include "segment/values.hpp"

namespace cdphub::segment {

namespace {

using nlohmann::json;

// The value at `path` inside `root` (object keys only), or nullptr; JSON null counts as missing.
const json* walk(const json* root, const std::vector<std::string>& path) {
    const json* cur = root;
    for (const auto& k : path) {
        if (cur == nullptr || !cur->is_object()) return nullptr;
        auto it = cur->find(k);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    if (cur != nullptr && cur->is_null()) return nullptr;
    return cur;
}

// One event or order row.
struct Row {
    const profile::EventFact* event = nullptr;
    const profile::OrderFact* order = nullptr;

    const std::string& occurred_at() const {
        return event ? event->occurred_at : order->occurred_at;
    }
    std::int64_t id() const { return event ? event->id : order->id; }
};

// A row field's value: points into the row (properties) or holds a copy (columns).
struct FieldValue {
    const json* ptr = nullptr;
    json owned;

    const json* get() const { return ptr; }
};

FieldValue field_value(const Row& row, const Operand& f) {
    FieldValue out;
    auto set = [&](json v) {
        out.owned = std::move(v);
        out.ptr = &out.owned;
    };
    if (row.event) {
        const auto& e = *row.event;
        if (f.name == "properties")
            out.ptr = walk(&e.properties, f.path);
        else if (f.name == "event")
            set(e.event);
        else if (f.name == "source")
            set(e.source);
        else if (f.name == "occurred_at")
            set(e.occurred_at);
        else
            throw EvalError("unknown field '" + f.name + "' of track rows");
        return out;
    }
    const auto& o = *row.order;
    if (f.name == "order_id")
        set(o.order_id);
    else if (f.name == "source")
        set(o.source);
    else if (f.name == "occurred_at")
        set(o.occurred_at);
    else if (f.name == "currency")
        set(o.currency);
    else if (f.name == "status") {
        if (o.status) set(*o.status);
    } else if (f.name == "total_minor")
        set(o.total_minor);
    else if (f.name == "tax_minor") {
        if (o.tax_minor) set(*o.tax_minor);
    } else if (f.name == "discount_minor") {
        if (o.discount_minor) set(*o.discount_minor);
    } else
        throw EvalError("unknown field '" + f.name + "' of orders rows");
    return out;
}

bool eval_row(const Expr& e, const Row& row) {
    switch (e.kind) {
        case Expr::Kind::and_:
            for (const auto& c : e.children)
                if (!eval_row(c, row)) return false;
            return true;
        case Expr::Kind::or_:
            for (const auto& c : e.children)
                if (eval_row(c, row)) return true;
            return false;
        case Expr::Kind::not_:
            return !eval_row(e.children.at(0), row);
        case Expr::Kind::predicate:
            break;
    }
    const auto& p = e.predicate;
    if (p.operand.kind != Operand::Kind::field)
        throw EvalError("inside where, only row fields can be tested (found " + to_text(p.operand) +
                        ")");
    FieldValue v = field_value(row, p.operand);
    std::vector<const json*> vals;
    if (v.get()) vals.push_back(v.get());
    return apply_predicate(p.op, vals, p.values);
}

// Orders distinct_count values: numbers (numerically: 1 and 1.0 are one value), then strings
// (byte-wise), then booleans.
struct DistinctLess {
    static int cls(const json& j) { return j.is_number() ? 0 : j.is_string() ? 1 : 2; }
    bool operator()(const json& a, const json& b) const {
        int ca = cls(a), cb = cls(b);
        if (ca != cb) return ca < cb;
        if (ca == 0) return compare_numbers(a, b) < 0;
        if (ca == 1) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
        return !a.get<bool>() && b.get<bool>();
    }
};

bool later(const Row& a, const Row& b) {
    int c = a.occurred_at().compare(b.occurred_at());
    if (c != 0) return c > 0;
    return a.id() > b.id();
}

}  // namespace

std::optional<json> evaluate_aggregate(const Aggregate& a, const profile::ProfileSnapshot& p,
                                       const Context& ctx) {
    std::string cutoff;
    if (a.within) {
        try {
            cutoff = window_cutoff(ctx.now, *a.within);
        } catch (const std::invalid_argument& e) {
            throw EvalError(std::string("cannot compute the window: ") + e.what());
        }
    }
    if (a.func != Func::count && !a.field)
        throw EvalError(std::string(to_string(a.func)) + " needs a field");

    std::int64_t count = 0;
    ExactSum sum;
    std::optional<json> best;  // min / max
    std::optional<Row> pick;   // first / last
    json pick_value;
    std::set<json, DistinctLess> distinct;

    auto visit = [&](const Row& row) {
        if (!cutoff.empty() && row.occurred_at() < cutoff) return;
        if (a.where && !eval_row(*a.where, row)) return;
        if (!a.field) {
            ++count;
            return;
        }
        FieldValue fv = field_value(row, *a.field);
        const json* v = fv.get();
        if (v == nullptr) return;
        switch (a.func) {
            case Func::count:
                ++count;
                break;
            case Func::sum:
                sum.add(*v);
                break;
            case Func::min:
            case Func::max:
                if (!v->is_number()) break;
                if (!best) {
                    best = *v;
                } else {
                    int c = compare_numbers(*v, *best);
                    if ((a.func == Func::min && c < 0) || (a.func == Func::max && c > 0)) best = *v;
                }
                break;
            case Func::first:
            case Func::last:
                if (!pick || (a.func == Func::last ? later(row, *pick) : later(*pick, row))) {
                    pick = row;
                    pick_value = *v;
                }
                break;
            case Func::distinct_count:
                if (v->is_number() || v->is_string() || v->is_boolean()) distinct.insert(*v);
                break;
        }
    };

    if (a.source == Source::track) {
        for (const auto& e : p.events) {
            if (a.event && e.event != *a.event) continue;
            Row r;
            r.event = &e;
            visit(r);
        }
    } else {
        if (a.event) throw EvalError("an event name only applies to track");
        for (const auto& o : p.orders) {
            Row r;
            r.order = &o;
            visit(r);
        }
    }

    switch (a.func) {
        case Func::count:
            return json(count);
        case Func::sum:
            return sum.result();
        case Func::min:
        case Func::max:
            return best;
        case Func::first:
        case Func::last:
            if (!pick) return std::nullopt;
            return pick_value;
        case Func::distinct_count:
            return json(static_cast<std::int64_t>(distinct.size()));
    }
    return std::nullopt;
}

namespace {

const Aggregate& resolve_computed(const Operand& o, const Context& ctx) {
    if (ctx.computed != nullptr) {
        auto it = ctx.computed->find(o.name);
        if (it != ctx.computed->end()) return it->second;
    }
    throw EvalError("unknown computed trait '" + o.name + "'");
}

// The operand's present values, for the predicate rules.
struct Values {
    std::vector<const json*> ptrs;
    std::vector<json> owned;  // reserved up front: ptrs point into it
};

void operand_values(const Operand& o, const profile::ProfileSnapshot& p, const Context& ctx,
                    Values& out) {
    switch (o.kind) {
        case Operand::Kind::trait: {
            auto it = p.traits.find(o.name);
            if (it == p.traits.end()) return;
            const json* v = walk(&it->second, o.path);
            if (v) out.ptrs.push_back(v);
            return;
        }
        case Operand::Kind::identifier: {
            auto it = p.identifiers.find(o.name);
            if (it == p.identifiers.end()) return;
            out.owned.reserve(it->second.size());
            for (const auto& s : it->second) out.owned.emplace_back(s);
            for (const auto& j : out.owned) out.ptrs.push_back(&j);
            return;
        }
        case Operand::Kind::consent: {
            auto it = p.consent.find(o.name);
            if (it == p.consent.end()) return;
            out.owned.reserve(1);
            out.owned.emplace_back(it->second.granted);
            out.ptrs.push_back(&out.owned.back());
            return;
        }
        case Operand::Kind::computed:
        case Operand::Kind::aggregate: {
            const Aggregate& a =
                o.kind == Operand::Kind::computed ? resolve_computed(o, ctx) : *o.aggregate;
            auto v = evaluate_aggregate(a, p, ctx);
            if (!v || v->is_null()) return;
            out.owned.reserve(1);
            out.owned.push_back(std::move(*v));
            out.ptrs.push_back(&out.owned.back());
            return;
        }
        case Operand::Kind::field:
            throw EvalError("the field " + o.name + " only exists inside an aggregate");
    }
}

}  // namespace

std::optional<json> evaluate_operand(const Operand& o, const profile::ProfileSnapshot& p,
                                     const Context& ctx) {
    if (o.kind == Operand::Kind::aggregate && !o.aggregate)
        throw EvalError("an aggregate operand without its aggregate");
    Values v;
    operand_values(o, p, ctx, v);
    if (v.ptrs.empty()) return std::nullopt;
    if (o.kind == Operand::Kind::identifier) {
        json arr = json::array();
        for (const auto* x : v.ptrs) arr.push_back(*x);
        return arr;
    }
    return *v.ptrs.front();
}

bool evaluate(const Expr& e, const profile::ProfileSnapshot& p, const Context& ctx) {
    switch (e.kind) {
        case Expr::Kind::and_:
            for (const auto& c : e.children)
                if (!evaluate(c, p, ctx)) return false;
            return true;
        case Expr::Kind::or_:
            for (const auto& c : e.children)
                if (evaluate(c, p, ctx)) return true;
            return false;
        case Expr::Kind::not_:
            if (e.children.size() != 1) throw EvalError("not needs exactly one condition");
            return !evaluate(e.children.front(), p, ctx);
        case Expr::Kind::predicate:
            break;
    }
    const auto& pr = e.predicate;
    if (pr.operand.kind == Operand::Kind::aggregate && !pr.operand.aggregate)
        throw EvalError("an aggregate operand without its aggregate");
    Values v;
    operand_values(pr.operand, p, ctx, v);
    return apply_predicate(pr.op, v.ptrs, pr.values);
}

}  // namespace cdphub::segment

#include "manifest/schema_check.hpp"

#if !VALIJSON_USE_EXCEPTIONS
#error "valijson must report invalid schemas with exceptions (link the valijson CMake target)"
#endif

#include <algorithm>
#include <set>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "manifest/json_util.hpp"
#include "manifest/schema_explain.hpp"
#include "manifest/schema_walk.hpp"

namespace cdphub::manifest::detail {
namespace {

using Tokens = std::vector<std::string>;

// Bounds the re-validation of oneOf/anyOf branches nested in each other.
constexpr int kMaxBranchDepth = 8;

bool starts_with(const Tokens& tokens, const Tokens& prefix) {
    return tokens.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), tokens.begin());
}

Tokens concat(Tokens a, const Tokens& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// "string or object", "a, b or c"; empty and repeated forms left out.
std::string join_or(const std::vector<std::string>& forms) {
    std::vector<std::string> distinct;
    for (const auto& f : forms) {
        if (!f.empty() && std::find(distinct.begin(), distinct.end(), f) == distinct.end()) {
            distinct.push_back(f);
        }
    }
    std::string out;
    for (size_t i = 0; i < distinct.size(); ++i) {
        if (i > 0) out += i + 1 == distinct.size() ? " or " : ", ";
        out += distinct[i];
    }
    return out;
}

struct RawError {
    Tokens tokens;  // relative to the validated value
    std::string description;
    ErrorKind kind;
};

std::vector<RawError> run_valijson(const valijson::Schema& schema, const Json& value) {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(value);
    if (validator.validate(schema, adapter, &results)) return {};
    std::vector<RawError> out;
    for (const auto& e : results) {
        Tokens tokens;
        // Contexts look like {"<root>", "[config]", "[0]"}; keys may contain brackets themselves,
        // so strip exactly one on each side.
        for (size_t i = 1; i < e.context.size(); ++i) {
            const auto& c = e.context[i];
            tokens.push_back(c.size() >= 2 ? c.substr(1, c.size() - 2) : c);
        }
        out.push_back({std::move(tokens), e.description, classify(e.description)});
    }
    if (out.empty()) out.push_back({{}, "", ErrorKind::other});  // e.g. a `false` schema
    return out;
}

class Explainer {
  public:
    Explainer(const Json& schema, const CheckTarget& target)
        : schema_(schema), walker_(schema), target_(target) {}

    // Validates `value` (at `base` in the checked document) against the subschema at
    // `schema_pointer`, compiled as `compiled`. `overall` describes every allowed form when
    // `value` was reached through a oneOf/anyOf: it is what a problem at `base` itself expected.
    void run(const valijson::Schema& compiled, const std::string& schema_pointer, const Json& value,
             const Tokens& base, const std::string& overall, int depth) {
        auto errors = run_valijson(compiled, value);
        if (errors.empty()) return;
        size_t first = out_.size();
        Explain ex{walker_, schema_pointer, value, base, overall};

        // Failed oneOf/anyOf: their branches' errors are replaced by an explanation of the one
        // branch that fits. Only the outermost ones count; inner ones are inside that branch.
        std::vector<Tokens> combos;
        for (const auto& e : errors) {
            if (!is_combinator(e.kind)) continue;
            bool inner = std::any_of(combos.begin(), combos.end(),
                                     [&](const Tokens& c) { return starts_with(e.tokens, c); });
            if (inner) continue;
            std::erase_if(combos, [&](const Tokens& c) { return starts_with(c, e.tokens); });
            combos.push_back(e.tokens);
        }
        auto in_combo = [&](const Tokens& t) {
            return std::any_of(combos.begin(), combos.end(),
                               [&](const Tokens& c) { return starts_with(t, c); });
        };

        std::set<Tokens> explained;
        std::vector<Tokens> wrapped;  // targets of "failed to validate property x" errors
        for (const auto& e : errors) {
            if (e.kind == ErrorKind::wrapper) {
                auto t = wrapper_target(e.tokens, e.description);
                if (!in_combo(t)) wrapped.push_back(std::move(t));
            } else if (is_combinator(e.kind)) {
                bool outermost = std::find(combos.begin(), combos.end(), e.tokens) != combos.end();
                if (outermost && explained.insert(e.tokens).second) combinator(ex, e, depth);
            } else if (!in_combo(e.tokens)) {
                for (auto& f : ex.leaf(e.kind, e.tokens, e.description)) add(std::move(f));
            }
        }
        // Failures that valijson reported only through their parent (a `false` subschema, an
        // "if"/"then" branch) still deserve one diagnostic each.
        wrapped.push_back({});
        for (const auto& t : wrapped) {
            if (covered(first, concat(base, t))) continue;
            add(ex.generic(t));
        }
    }

    Diagnostics finish() {
        // A value of the wrong type makes every other complaint about it moot.
        std::vector<std::string> mistyped;
        for (const auto& f : out_) {
            if (f.kind == ErrorKind::type) mistyped.push_back(f.d.pointer);
        }
        Diagnostics out;
        for (auto& f : out_) {
            bool moot = f.kind != ErrorKind::type &&
                        std::find(mistyped.begin(), mistyped.end(), f.d.pointer) != mistyped.end();
            bool dup = std::any_of(out.begin(), out.end(), [&](const Diagnostic& d) {
                return d.pointer == f.d.pointer && d.message == f.d.message;
            });
            if (!moot && !dup) out.push_back(std::move(f.d));
        }
        return out;
    }

  private:
    struct Item {
        Diagnostic d;
        ErrorKind kind;
        Tokens tokens;
    };

    void add(Finding f) {
        Diagnostic d;
        d.file = target_.file;
        d.pointer = target_.prefix + pointer_of(f.tokens);
        if (target_.locator != nullptr) {
            std::tie(d.line, d.column) = f.at_key ? target_.locator->locate_key(d.pointer)
                                                  : target_.locator->locate(d.pointer);
        }
        d.message = std::move(f.message);
        d.expected = std::move(f.expected);
        if (f.found != nullptr) {
            std::string hidden = target_.hidden ? target_.hidden(d.pointer, *f.found) : "";
            d.found = hidden.empty() ? describe_found(*f.found) : hidden;
        }
        d.hint = std::move(f.hint);
        out_.push_back({std::move(d), f.kind, std::move(f.tokens)});
    }

    bool covered(size_t first, const Tokens& t) const {
        return std::any_of(out_.begin() + static_cast<std::ptrdiff_t>(first), out_.end(),
                           [&](const Item& i) { return starts_with(i.tokens, t); });
    }

    void combinator(const Explain& ex, const RawError& e, int depth) {
        size_t first = out_.size();
        const char* word = nullptr;
        auto at = walker_.at(ex.schema_pointer, ex.value, e.tokens);
        const Json* node = nullptr;
        std::string node_pointer;
        for (const auto& p : at) {
            const Json* n = walker_.node(p);
            for (const char* w : {"oneOf", "anyOf"}) {
                if (node == nullptr && n != nullptr && n->is_object() && n->contains(w) &&
                    (*n)[w].is_array()) {
                    node = n;
                    node_pointer = p;
                    word = w;
                }
            }
        }
        const Json* value = value_at(ex.value, e.tokens);
        if (node == nullptr || value == nullptr) {
            add(ex.generic(e.tokens));
            return;
        }
        std::vector<std::string> branches, forms;
        for (size_t i = 0; i < (*node)[word].size(); ++i) {
            branches.push_back(node_pointer + "/" + word + "/" + std::to_string(i));
            forms.push_back(walker_.describe(branches.back()));
        }
        std::string overall = expected_words(node);
        if (overall.empty()) overall = join_or(forms);
        Tokens full = concat(ex.base, e.tokens);
        if (e.kind == ErrorKind::combinator_many) {
            add(finding(e.kind, full, "matches more than one of the allowed forms", overall,
                        value));
            return;
        }
        std::vector<std::string> fitting;
        for (const auto& b : branches) {
            if (walker_.accepts_type(b, *value)) fitting.push_back(b);
        }
        if (fitting.size() == 1 && depth < kMaxBranchDepth) {
            try {
                // Validate against the branch alone: the whole schema with "$ref" to the branch,
                // so that the branch's own references still resolve.
                Json doc = schema_;
                doc["$ref"] = "#" + fitting.front();
                auto compiled = compile_schema(doc);
                run(*compiled, fitting.front(), *value, full, overall, depth + 1);
            } catch (const std::exception&) {
                // Could not isolate the branch: fall through to the generic explanation.
            }
            if (covered(first, full)) return;
        }
        if (fitting.empty()) {
            add(finding(ErrorKind::type, full, "wrong type", overall, value));
        } else {
            add(finding(e.kind, full, "does not match any of the allowed forms", overall, value));
        }
    }

    const Json& schema_;
    SchemaWalker walker_;
    const CheckTarget& target_;
    std::vector<Item> out_;
};

}  // namespace

std::unique_ptr<valijson::Schema> compile_schema(const Json& schema) {
    auto compiled = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, *compiled);
    return compiled;
}

SchemaChecker::SchemaChecker(Json schema)
    : schema_(std::move(schema)), compiled_(compile_schema(schema_)) {}

SchemaChecker::~SchemaChecker() = default;

Diagnostics SchemaChecker::check(const Json& doc, const CheckTarget& target) const {
    Explainer explainer(schema_, target);
    explainer.run(*compiled_, "", doc, {}, "", 0);
    auto out = explainer.finish();
    std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.line, a.column, a.pointer) < std::tie(b.line, b.column, b.pointer);
    });
    return out;
}

}  // namespace cdphub::manifest::detail

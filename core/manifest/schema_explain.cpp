#include "manifest/schema_explain.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "manifest/json_util.hpp"

namespace cdphub::manifest::detail {
namespace {

using Tokens = std::vector<std::string>;

struct Rule {
    std::string_view prefix;
    ErrorKind kind;
};

// The fixed beginnings of valijson's (1.0) descriptions. An unknown one still gets reported, with
// valijson's own words.
constexpr Rule kRules[] = {
    {"Failed to validate against schema associated with", ErrorKind::wrapper},
    {"Failed to validate item #", ErrorKind::wrapper},
    {"Failed to validate against child schema #", ErrorKind::wrapper},
    {"Failed to validate against additional properties schema", ErrorKind::wrapper},
    {"Failed to validate against dependent schema", ErrorKind::wrapper},
    {"Failed to validate against a conditional schema", ErrorKind::wrapper},
    {"Failed to validate against any child schemas allowed by oneOf", ErrorKind::combinator_none},
    {"Failed to validate against any schemas allowed by anyOf", ErrorKind::combinator_none},
    {"Failed to validate against exactly one child schema", ErrorKind::combinator_many},
    {"Value type not permitted", ErrorKind::type},
    {"Failed to match against any enum values", ErrorKind::enum_value},
    {"Failed to match expected value set by 'const'", ErrorKind::const_value},
    {"Failed to match regex", ErrorKind::pattern},
    {"String should be a valid", ErrorKind::format},
    {"String should be no fewer than", ErrorKind::min_length},
    {"String should be no more than", ErrorKind::max_length},
    {"Expected number greater than", ErrorKind::minimum},
    {"Expected number less than", ErrorKind::maximum},
    {"Array should contain no fewer than", ErrorKind::min_items},
    {"Array should contain no more than", ErrorKind::max_items},
    {"Array contains more items than allowed", ErrorKind::max_items},
    {"Cannot validate item #", ErrorKind::max_items},
    {"Object should have no fewer than", ErrorKind::min_properties},
    {"Object should have no more than", ErrorKind::max_properties},
    {"Value should be a multiple of", ErrorKind::multiple_of},
    {"Value could not be converted", ErrorKind::multiple_of},
    {"Missing required property '", ErrorKind::required},
    {"Object contains a property that could not be validated", ErrorKind::unknown_key},
    {"Elements at indexes #", ErrorKind::unique},
    {"Target should not validate", ErrorKind::not_allowed},
    {"Missing dependency '", ErrorKind::dependency},
    {"Failed to any values against subschema in 'contains'", ErrorKind::contains},
};

// The text between `open` and the last `close` of a description: a key name, which may itself
// contain quotes.
std::string between(std::string_view s, std::string_view open, std::string_view close) {
    auto a = s.find(open);
    auto b = s.rfind(close);
    if (a == std::string_view::npos || b == std::string_view::npos || b < a + open.size())
        return "";
    return std::string(s.substr(a + open.size(), b - a - open.size()));
}

// The number after the first '#' following `after` ("item #3", "indexes #0 and #2").
std::string number_after(std::string_view s, std::string_view after) {
    auto at = s.find(after);
    if (at == std::string_view::npos) return "";
    at = s.find('#', at);
    if (at == std::string_view::npos) return "";
    size_t end = at + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    return std::string(s.substr(at + 1, end - at - 1));
}

std::string count(const Json& n, const char* one, const char* many) {
    if (!n.is_number_unsigned() && !n.is_number_integer()) return n.dump() + " " + many;
    return n.dump() + " " + (n.get<int64_t>() == 1 ? one : many);
}

Tokens plus(Tokens t, std::string token) {
    t.push_back(std::move(token));
    return t;
}

// valijson names only the first unknown key of an object; the admin wants them all.
std::vector<Finding> unknown_keys(const SchemaWalker& walker, const Tokens& full, const Json* v,
                                  const std::vector<std::string>& at) {
    std::vector<Finding> out;
    if (v == nullptr || !v->is_object()) return out;
    std::set<std::string> reported;
    for (const auto& c : at) {
        const Json* n = walker.node(c);
        if (n == nullptr || !n->is_object()) continue;
        auto extra = n->find("additionalProperties");
        if (extra == n->end() || !extra->is_boolean() || extra->get<bool>()) continue;
        std::vector<std::string> known;
        if (auto props = n->find("properties"); props != n->end() && props->is_object()) {
            for (const auto& p : props->items()) known.push_back(p.key());
        }
        std::vector<std::string> patterns;
        if (auto pp = n->find("patternProperties"); pp != n->end() && pp->is_object()) {
            for (const auto& p : pp->items()) patterns.push_back(p.key());
        }
        for (const auto& member : v->items()) {
            const std::string& key = member.key();
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            if (std::any_of(patterns.begin(), patterns.end(),
                            [&](const std::string& p) { return pattern_matches(p, key); })) {
                continue;
            }
            if (!reported.insert(key).second) continue;
            auto f = finding(ErrorKind::unknown_key, plus(full, key), "unknown key '" + key + "'");
            f.at_key = true;
            auto near = did_you_mean(key, known);
            f.hint = !near.empty()   ? "did you mean '" + near + "'?"
                     : known.empty() ? "no keys are allowed here"
                                     : "known keys: " + join_list(known);
            out.push_back(std::move(f));
        }
    }
    return out;
}

}  // namespace

ErrorKind classify(std::string_view description) {
    for (const auto& r : kRules) {
        if (description.starts_with(r.prefix)) return r.kind;
    }
    return ErrorKind::other;
}

bool is_combinator(ErrorKind kind) {
    return kind == ErrorKind::combinator_none || kind == ErrorKind::combinator_many;
}

Tokens wrapper_target(const Tokens& tokens, std::string_view description) {
    if (description.starts_with("Failed to validate against schema associated with property")) {
        return plus(tokens, between(description, "property name '", "'."));
    }
    if (description.starts_with("Failed to validate item #") &&
        description.find("corresponding item schema") == std::string_view::npos) {
        return plus(tokens, number_after(description, "item"));
    }
    return tokens;
}

std::vector<Finding> Explain::leaf(ErrorKind kind, const Tokens& tokens,
                                   const std::string& description) const {
    Tokens full = base;
    full.insert(full.end(), tokens.begin(), tokens.end());
    const Json* v = value_at(value, tokens);
    auto at = walker.at(schema_pointer, value, tokens);
    auto f = finding(kind, full, "", "", v);
    // The subschema that holds `keyword`, and its "x-cdphub-expected" wording if it has one.
    auto find = [&](const char* keyword) -> std::pair<const Json*, std::string> {
        const Json* n = walker.with(at, keyword);
        return {n, expected_words(n)};
    };
    auto bound = [&](const char* keyword, const char* one, const char* many, std::string lead) {
        auto [n, words] = find(keyword);
        if (!words.empty()) return words;
        return n == nullptr ? "" : lead + count((*n)[keyword], one, many);
    };

    switch (kind) {
        case ErrorKind::type: {
            auto [n, words] = find("type");
            f.message = "wrong type";
            f.expected = n != nullptr ? type_phrase((*n)["type"]) : "";
            break;
        }
        case ErrorKind::enum_value: {
            auto [n, words] = find("enum");
            f.message = "not one of the allowed values";
            f.expected = words;
            if (words.empty() && n != nullptr && (*n)["enum"].is_array()) {
                std::vector<std::string> values;
                for (const auto& x : (*n)["enum"]) values.push_back(literal(x));
                f.expected = "one of: " + join_list(values);
            }
            break;
        }
        case ErrorKind::const_value: {
            auto [n, words] = find("const");
            f.message = "not the allowed value";
            f.expected = !words.empty() ? words : n != nullptr ? literal((*n)["const"]) : "";
            break;
        }
        case ErrorKind::pattern: {
            auto [n, words] = find("pattern");
            f.message = "invalid format";
            f.expected = !words.empty() ? words
                         : n != nullptr ? "a string matching " + literal((*n)["pattern"])
                                        : "";
            break;
        }
        case ErrorKind::format: {
            auto [n, words] = find("format");
            std::string format = n != nullptr ? (*n)["format"].dump() : "value";
            f.message = "not a valid " + format;
            f.expected = !words.empty() ? words : "a " + format + " string";
            break;
        }
        case ErrorKind::min_length:
            f.message = "too short";
            f.expected = bound("minLength", "character", "characters", "at least ");
            break;
        case ErrorKind::max_length:
            f.message = "too long";
            f.expected = bound("maxLength", "character", "characters", "at most ");
            break;
        case ErrorKind::minimum: {
            bool inclusive = description.find("or equal") != std::string::npos;
            auto [n, words] = find(inclusive ? "minimum" : "exclusiveMinimum");
            if (n == nullptr) std::tie(n, words) = find("minimum");
            f.message = "too small";
            f.expected = !words.empty() ? words : "";
            if (words.empty() && n != nullptr) {
                const Json& b =
                    (*n)[inclusive || !(*n)["exclusiveMinimum"].is_number() ? "minimum"
                                                                            : "exclusiveMinimum"];
                f.expected = (inclusive ? "at least " : "more than ") + b.dump();
            }
            break;
        }
        case ErrorKind::maximum: {
            bool inclusive = description.find("or equal") != std::string::npos;
            auto [n, words] = find(inclusive ? "maximum" : "exclusiveMaximum");
            if (n == nullptr) std::tie(n, words) = find("maximum");
            f.message = "too large";
            f.expected = !words.empty() ? words : "";
            if (words.empty() && n != nullptr) {
                const Json& b =
                    (*n)[inclusive || !(*n)["exclusiveMaximum"].is_number() ? "maximum"
                                                                            : "exclusiveMaximum"];
                f.expected = (inclusive ? "at most " : "less than ") + b.dump();
            }
            break;
        }
        case ErrorKind::min_items:
            f.message = "too few items";
            f.expected = bound("minItems", "item", "items", "at least ");
            break;
        case ErrorKind::max_items:
            f.message = "too many items";
            f.expected = bound("maxItems", "item", "items", "at most ");
            break;
        case ErrorKind::min_properties:
            f.message = "too few keys";
            f.expected = bound("minProperties", "key", "keys", "at least ");
            break;
        case ErrorKind::max_properties:
            f.message = "too many keys";
            f.expected = bound("maxProperties", "key", "keys", "at most ");
            break;
        case ErrorKind::multiple_of: {
            auto [n, words] = find("multipleOf");
            f.message = "not an allowed step";
            f.expected = !words.empty() ? words
                         : n != nullptr ? "a multiple of " + (*n)["multipleOf"].dump()
                                        : "";
            break;
        }
        case ErrorKind::required: {
            std::string name = between(description, "property '", "'.");
            f.tokens.push_back(name);
            f.message = "missing required key '" + name + "'";
            f.found = nullptr;
            for (const auto& c : at) {
                const Json* props = walker.node(c + "/properties");
                if (props != nullptr && props->is_object() && props->contains(name)) {
                    f.expected = walker.describe(c + "/properties/" + escape_token(name));
                    break;
                }
            }
            return {f};
        }
        case ErrorKind::unknown_key: {
            auto found = unknown_keys(walker, full, v, at);
            if (found.empty()) found.push_back(generic(tokens));
            return found;
        }
        case ErrorKind::unique: {
            std::string first = number_after(description, "indexes");
            std::string second = number_after(description, " and ");
            f.tokens.push_back(second);
            f.found = value_at(value, plus(tokens, second));
            f.message = "duplicate item (same as item " + first + ")";
            f.expected = "items that all differ";
            return {f};
        }
        case ErrorKind::not_allowed:
            f.message = "a value of this form is not allowed here";
            break;
        case ErrorKind::dependency:
            f.message = "missing key '" + between(description, "dependency '", "'.") +
                        "', which another key here requires";
            f.found = nullptr;
            return {f};
        case ErrorKind::contains:
            f.message = "no item has the required form";
            if (const Json* n = walker.with(at, "contains"); n != nullptr) {
                for (const auto& c : at) {
                    if (walker.node(c) == n) f.expected = walker.describe(c + "/contains");
                }
            }
            break;
        default:
            f.message = description.empty() ? "not allowed here" : description;
    }
    if (tokens.empty() && !overall.empty()) f.expected = overall;
    return {f};
}

Finding Explain::generic(const Tokens& tokens) const {
    Tokens full = base;
    full.insert(full.end(), tokens.begin(), tokens.end());
    std::string expected = tokens.empty() ? overall : "";
    if (expected.empty()) {
        for (const auto& p : walker.at(schema_pointer, value, tokens)) {
            expected = walker.describe(p);
            if (!expected.empty()) break;
        }
    }
    return finding(ErrorKind::other, full, "not allowed here", expected, value_at(value, tokens));
}

}  // namespace cdphub::manifest::detail

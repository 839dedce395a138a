#include "manifest/schema_walk.hpp"

#include <charconv>
#include <regex>

#include "manifest/json_util.hpp"

namespace cdphub::manifest::detail {
namespace {

// Bounds "$ref"/"allOf" chains: a schema may refer to itself.
constexpr int kMaxExpandDepth = 16;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "$ref" values are URI fragments: "#/definitions/a%20b".
std::string percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
            hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool type_matches(const std::string& type, const Json& v) {
    if (type == "number") return v.is_number();
    if (type == "integer") return v.is_number_integer();
    return type == type_name(v);
}

void append(std::vector<std::string>& to, std::vector<std::string> from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

const Json* SchemaWalker::node(const std::string& pointer) const {
    return node_at(root_, pointer);
}

std::vector<std::string> SchemaWalker::expand(const std::string& pointer, int depth) const {
    const Json* n = node(pointer);
    if (n == nullptr || depth > kMaxExpandDepth) return {};
    if (n->is_object()) {
        auto ref = n->find("$ref");
        if (ref != n->end()) {
            // Draft 7: "$ref" replaces its siblings. Only local references can be followed.
            if (!ref->is_string() || !ref->get<std::string>().starts_with("#")) return {};
            return expand(percent_decode(ref->get<std::string>().substr(1)), depth + 1);
        }
    }
    std::vector<std::string> out{pointer};
    if (n->is_object()) {
        auto all = n->find("allOf");
        if (all != n->end() && all->is_array()) {
            for (size_t i = 0; i < all->size(); ++i) {
                append(out, expand(pointer + "/allOf/" + std::to_string(i), depth + 1));
            }
        }
    }
    return out;
}

std::vector<std::string> SchemaWalker::at(const std::string& start, const Json& value,
                                          const std::vector<std::string>& tokens) const {
    std::vector<std::string> current = expand(start);
    const Json* v = &value;
    for (const auto& token : tokens) {
        std::vector<std::string> next;
        for (const auto& c : current) {
            const Json* n = node(c);
            if (n == nullptr || !n->is_object()) continue;
            if (v->is_object()) {
                bool matched = false;
                auto props = n->find("properties");
                if (props != n->end() && props->is_object() && props->contains(token)) {
                    append(next, expand(c + "/properties/" + escape_token(token)));
                    matched = true;
                }
                auto patterns = n->find("patternProperties");
                if (patterns != n->end() && patterns->is_object()) {
                    for (const auto& p : patterns->items()) {
                        if (!pattern_matches(p.key(), token)) continue;
                        append(next, expand(c + "/patternProperties/" + escape_token(p.key())));
                        matched = true;
                    }
                }
                auto extra = n->find("additionalProperties");
                if (!matched && extra != n->end() && extra->is_object()) {
                    append(next, expand(c + "/additionalProperties"));
                }
            } else if (v->is_array()) {
                size_t index = 0;
                std::from_chars(token.data(), token.data() + token.size(), index);
                auto items = n->find("items");
                if (items == n->end()) continue;
                if (items->is_object()) {
                    append(next, expand(c + "/items"));
                } else if (items->is_array() && index < items->size()) {
                    append(next, expand(c + "/items/" + std::to_string(index)));
                } else if (n->contains("additionalItems") && (*n)["additionalItems"].is_object()) {
                    append(next, expand(c + "/additionalItems"));
                }
            }
        }
        current = std::move(next);
        v = value_at(*v, {token});
        if (v == nullptr) break;
    }
    return current;
}

const Json* SchemaWalker::with(const std::vector<std::string>& pointers,
                               const char* keyword) const {
    for (const auto& p : pointers) {
        const Json* n = node(p);
        if (n != nullptr && n->is_object() && n->contains(keyword)) return n;
    }
    return nullptr;
}

bool SchemaWalker::accepts_type(const std::string& pointer, const Json& value) const {
    for (const auto& p : expand(pointer)) {
        const Json* n = node(p);
        if (n == nullptr) continue;
        if (n->is_boolean() && !n->get<bool>()) return false;
        if (!n->is_object()) continue;
        if (auto t = n->find("type"); t != n->end()) {
            bool any = false;
            if (t->is_string()) any = type_matches(t->get<std::string>(), value);
            if (t->is_array()) {
                for (const auto& x : *t) {
                    any = any || (x.is_string() && type_matches(x.get<std::string>(), value));
                }
            }
            if (!any) return false;
        }
        if (auto c = n->find("const"); c != n->end() && !type_matches(type_name(*c), value)) {
            return false;
        }
        if (auto e = n->find("enum"); e != n->end() && e->is_array()) {
            bool any = false;
            for (const auto& x : *e) any = any || type_matches(type_name(x), value);
            if (!any) return false;
        }
    }
    return true;
}

std::string SchemaWalker::describe(const std::string& pointer) const {
    auto pointers = expand(pointer);
    for (const auto& p : pointers) {
        auto words = expected_words(node(p));
        if (!words.empty()) return words;
    }
    if (const Json* n = with(pointers, "const")) return literal((*n)["const"]);
    if (const Json* n = with(pointers, "enum"); n != nullptr && (*n)["enum"].is_array()) {
        std::vector<std::string> values;
        for (const auto& v : (*n)["enum"]) values.push_back(literal(v));
        return "one of: " + join_list(values);
    }
    if (const Json* n = with(pointers, "type")) return type_phrase((*n)["type"]);
    return "";
}

std::string type_phrase(const Json& type) {
    if (type.is_string()) return type.get<std::string>();
    std::string out;
    if (type.is_array()) {
        for (size_t i = 0; i < type.size(); ++i) {
            if (i > 0) out += i + 1 == type.size() ? " or " : ", ";
            out += type[i].is_string() ? type[i].get<std::string>() : type[i].dump();
        }
    }
    return out;
}

bool pattern_matches(const std::string& pattern, const std::string& s) {
    try {
        return std::regex_search(s, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
        return false;  // valijson reports the bad pattern itself
    }
}

std::string expected_words(const Json* schema) {
    if (schema == nullptr || !schema->is_object()) return "";
    auto it = schema->find(kExpectedKeyword);
    return it != schema->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace cdphub::manifest::detail

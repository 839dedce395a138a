#include "manifest/json_util.hpp"

#include "manifest/manifest.hpp"
#include "secrets/secrets.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace cdphub::manifest::detail {
namespace {

// Long strings are cut so that one diagnostic stays one readable line.
constexpr size_t kMaxShownChars = 40;
constexpr size_t kMaxShownKeys = 4;

std::string shorten(const std::string& s) {
    if (s.size() <= kMaxShownChars) return s;
    size_t cut = kMaxShownChars;
    // Never cut inside a UTF-8 sequence: the result is printed.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "...";
}

std::string quoted(const std::string& s) {
    // dump() escapes quotes and control characters, so the rendering is unambiguous.
    return Json(shorten(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string escape_token(std::string_view token) {
    std::string out;
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string unescape_token(std::string_view token) {
    std::string out;
    for (size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() &&
            (token[i + 1] == '0' || token[i + 1] == '1')) {
            out += token[i + 1] == '0' ? '~' : '/';
            ++i;
        } else {
            out += token[i];
        }
    }
    return out;
}

std::string pointer_join(std::string_view parent, std::string_view token) {
    return std::string(parent) + "/" + escape_token(token);
}

std::string pointer_of(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) out = pointer_join(out, t);
    return out;
}

bool pointer_within(std::string_view pointer, std::string_view base) {
    if (!pointer.starts_with(base)) return false;
    return pointer.size() == base.size() || pointer[base.size()] == '/';
}

const Json* value_at(const Json& root, const std::vector<std::string>& tokens) {
    const Json* cur = &root;
    for (const auto& t : tokens) {
        if (cur->is_object()) {
            auto it = cur->find(t);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        } else if (cur->is_array()) {
            size_t index = 0;
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), index);
            if (ec != std::errc() || end != t.data() + t.size() || index >= cur->size()) {
                return nullptr;
            }
            cur = &(*cur)[index];
        } else {
            return nullptr;
        }
    }
    return cur;
}

const Json* node_at(const Json& root, std::string_view pointer) {
    if (pointer.empty()) return &root;
    if (pointer.front() != '/') return nullptr;
    std::vector<std::string> tokens;
    size_t start = 1;
    while (true) {
        size_t end = pointer.find('/', start);
        tokens.push_back(unescape_token(pointer.substr(start, end - start)));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return value_at(root, tokens);
}

std::string type_name(const Json& v) {
    switch (v.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return "boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "integer";
        case Json::value_t::number_float:
            return "number";
        case Json::value_t::string:
            return "string";
        case Json::value_t::array:
            return "array";
        case Json::value_t::object:
            return "object";
        default:
            return "value";
    }
}

std::string a_type(const Json& v) {
    auto t = type_name(v);
    if (t == "null") return t;
    return (t == "object" || t == "array" || t == "integer" ? "an " : "a ") + t;
}

std::string describe_found(const Json& v) {
    if (v.is_string()) return "string " + quoted(v.get<std::string>());
    if (v.is_null()) return "null";
    if (v.is_primitive()) return type_name(v) + " " + v.dump();
    if (v.is_array()) {
        if (v.empty()) return "empty array";
        return "array of " + std::to_string(v.size()) + (v.size() == 1 ? " item" : " items");
    }
    if (v.empty()) return "empty object";
    // Keys only: values may be anything, including text that should not be echoed.
    std::vector<std::string> keys;
    for (const auto& item : v.items()) keys.push_back(quoted(item.key()));
    return "object with " + std::string(keys.size() == 1 ? "key " : "keys ") +
           join_list(keys, kMaxShownKeys);
}

std::string literal(const Json& v) {
    if (v.is_string()) return quoted(v.get<std::string>());
    return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string join_list(const std::vector<std::string>& items, size_t max) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < max; ++i) {
        if (i > 0) out += ", ";
        out += items[i];
    }
    if (items.size() > max) out += ", ... (" + std::to_string(items.size() - max) + " more)";
    return out;
}

void redact_all(Diagnostics& diagnostics) {
    for (auto& d : diagnostics) {
        for (auto* field : {&d.file, &d.pointer, &d.message, &d.expected, &d.found, &d.hint}) {
            *field = secrets::redact(*field);
        }
    }
}

size_t edit_distance(std::string_view a, std::string_view b) {
    // Levenshtein distance with one row: keys are short.
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = 3;
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        // A distance as large as the shorter word means nothing in common ("x" vs "id").
        if (d >= std::min(word.size(), c.size())) continue;
        if (d < best_distance || (d == best_distance && c < best)) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace cdphub::manifest::detail

namespace cdphub::manifest {

void sort_diagnostics(Diagnostics& diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::tie(a.file, a.line, a.column, a.pointer, a.message) <
                                std::tie(b.file, b.line, b.column, b.pointer, b.message);
                     });
}

}  // namespace cdphub::manifest

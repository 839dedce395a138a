// Checking the expressions of a manifest set with a parser the caller supplies (the segment
// engine's), and pointing each of its errors at the right character of the right JSON string.
#include <algorithm>

#include "manifest/json_util.hpp"
#include "manifest/load_util.hpp"
#include "manifest/manifest.hpp"

namespace cdphub::manifest {
namespace {

// Byte offset in `text` of the character at 1-based `line`:`column` (columns count code points),
// clamped to the text: a line past the last is the last, a column past the end of its line is
// the end of the line.
size_t offset_of(std::string_view text, int line, int column) {
    size_t at = 0;
    for (int l = 1; l < line; ++l) {
        size_t nl = text.find('\n', at);
        if (nl == std::string_view::npos) break;
        at = nl + 1;
    }
    for (int c = 1; c < column && at < text.size() && text[at] != '\n'; ++c) {
        ++at;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    }
    return at;
}

struct Site {
    std::string pointer;  // of the JSON string
    size_t offset;        // in its value
};

// Which of the expression's strings holds byte `offset` of the joined text, and where in it.
Site site_of(const Expression& e, size_t offset) {
    size_t start = 0;
    for (size_t i = 0; i < e.lines.size(); ++i) {
        size_t end = start + e.lines[i].size();
        if (offset <= end || i + 1 == e.lines.size()) {
            std::string pointer = e.is_array ? e.pointer + "/" + std::to_string(i) : e.pointer;
            return {std::move(pointer), std::min(offset, end) - start};
        }
        start = end + 1;  // the "\n" that joins two lines
    }
    return {e.pointer, 0};
}

struct Target {
    const std::filesystem::path* file;
    const JsonLocator* locator;
    ExpressionKind kind;
    std::string prefix;  // of every message
};

void check_one(const Target& t, const Expression& e, const ExpressionChecker& check,
               Diagnostics& out) {
    auto at = [&](const Site& s, std::string message) {
        auto d = detail::problem(t.file->string(), std::move(message));
        d.pointer = s.pointer;
        if (t.locator != nullptr) {
            std::tie(d.line, d.column) = t.locator->locate_in_string(s.pointer, s.offset);
        }
        return d;
    };
    std::vector<ExpressionError> errors;
    try {
        errors = check(e.text, t.kind);
    } catch (const std::exception& ex) {
        out.push_back(
            at(site_of(e, 0), std::string("the expression checker failed: ") + ex.what()));
        return;
    }
    for (const auto& err : errors) {
        // Line 0: unknown, the start of the expression; column 0: the start of the line.
        Site s = err.line > 0 ? site_of(e, offset_of(e.text, err.line, std::max(err.column, 1)))
                              : site_of(e, 0);
        out.push_back(at(s, t.prefix + err.message));
    }
}

}  // namespace

Diagnostics validate_expressions(const ManifestSet& set, const ExpressionChecker& check) {
    Diagnostics out;
    if (!check) return out;
    for (const auto& s : set.segments) {
        Target t{&s.file, s.locator.get(), ExpressionKind::segment, "invalid expression: "};
        check_one(t, s.expression, check, out);
    }
    for (const auto& c : set.computed_traits) {
        Target t{&c.file, c.locator.get(), ExpressionKind::aggregate, "invalid expression: "};
        check_one(t, c.expression, check, out);
    }
    for (const auto& a : set.activations) {
        Target t{&a.file, a.locator.get(), ExpressionKind::operand, "invalid operand: "};
        for (const auto& [field, operand] : a.mapping) {
            Expression e;
            e.text = operand;
            e.lines = {operand};
            e.pointer = detail::pointer_join("/mapping", field);
            check_one(t, e, check, out);
        }
    }
    sort_diagnostics(out);
    detail::redact_all(out);
    return out;
}

}  // namespace cdphub::manifest

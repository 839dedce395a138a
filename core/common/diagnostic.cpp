#include "common/diagnostic.hpp"

#include <algorithm>

namespace cdphub {

std::string Diagnostic::to_string() const {
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
        out += ": ";
    }
    out += severity == Severity::error ? "error: " : "warning: ";
    if (!pointer.empty()) out += pointer + ": ";
    out += message;
    if (!expected.empty() || !found.empty()) {
        out += " (";
        if (!expected.empty()) out += "expected " + expected;
        if (!expected.empty() && !found.empty()) out += ", ";
        if (!found.empty()) out += "found " + found;
        out += ")";
    }
    if (!hint.empty()) out += "; " + hint;
    return out;
}

bool has_errors(const Diagnostics& d) {
    return std::any_of(d.begin(), d.end(), [](const Diagnostic& x) { return x.is_error(); });
}

}  // namespace cdphub

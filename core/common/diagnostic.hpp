// A problem found in admin input (a manifest, a plugin's answer), reported to the admin with
// enough context to fix it: where (file, JSON pointer, line:column), what was expected, what was
// found, and what to do.
#pragma once

#include <string>
#include <vector>

namespace cdphub {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::string file;      // path as the admin gave it; empty if not from a file
    std::string pointer;   // JSON pointer inside the file ("" for the whole document)
    int line = 0;          // 1-based; 0 if unknown
    int column = 0;        // 1-based; 0 if unknown
    std::string message;   // what is wrong, in one sentence
    std::string expected;  // optional: what would be valid
    std::string found;     // optional: what is there (never a secret value)
    std::string hint;      // optional: what to do

    bool is_error() const { return severity == Severity::error; }
    // "file:line:col: error: /pointer: message (expected X, found Y); hint"
    std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& d);

}  // namespace cdphub

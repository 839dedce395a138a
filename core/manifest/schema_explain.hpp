// Wording of schema failures: from one valijson error (where, and valijson's description) to what
// the admin reads (message, expected, found, hint). Internal to core/manifest.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/schema_walk.hpp"

namespace cdphub::manifest::detail {

enum class ErrorKind {
    wrapper,          // "failed to validate property x": its cause is reported separately
    combinator_none,  // no branch of a oneOf/anyOf matched
    combinator_many,  // several branches of a oneOf matched
    type,
    enum_value,
    const_value,
    pattern,
    format,
    min_length,
    max_length,
    minimum,
    maximum,
    min_items,
    max_items,
    min_properties,
    max_properties,
    multiple_of,
    required,
    unknown_key,
    unique,
    not_allowed,
    dependency,
    contains,
    other,
};

// valijson describes failures only in English sentences; their fixed beginnings tell the kind.
ErrorKind classify(std::string_view description);
bool is_combinator(ErrorKind kind);
// For a wrapper error at `tokens`, where its cause lies ("property name 'x'" -> tokens + x).
std::vector<std::string> wrapper_target(const std::vector<std::string>& tokens,
                                        std::string_view description);

struct Finding {
    ErrorKind kind = ErrorKind::other;
    std::vector<std::string> tokens;  // in the checked document
    std::string message;
    std::string expected;
    const nlohmann::json* found = nullptr;  // the value to describe, if any
    std::string hint;
    bool at_key = false;  // point at the member's key rather than its value
};

inline Finding finding(ErrorKind kind, std::vector<std::string> tokens, std::string message = "",
                       std::string expected = "", const nlohmann::json* found = nullptr) {
    Finding f;
    f.kind = kind;
    f.tokens = std::move(tokens);
    f.message = std::move(message);
    f.expected = std::move(expected);
    f.found = found;
    return f;
}

// One validation run: `value` sits at `base` in the checked document and was checked against
// the subschema at `schema_pointer`.
struct Explain {
    const SchemaWalker& walker;
    std::string schema_pointer;
    const nlohmann::json& value;
    std::vector<std::string> base;
    std::string overall;  // what a problem at `base` itself expected ("" to work it out)

    // The findings for one error at `tokens` (relative to `value`); several for unknown keys.
    std::vector<Finding> leaf(ErrorKind kind, const std::vector<std::string>& tokens,
                              const std::string& description) const;
    // "not allowed here" for failures valijson did not detail.
    Finding generic(const std::vector<std::string>& tokens) const;
};

}  // namespace cdphub::manifest::detail

// Finding the subschemas that apply to a value inside a document, and describing a schema in words.
// valijson tells where a document failed but not which part of the schema said so; diagnostics
// need that part to say what was expected. Internal to core/manifest.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cdphub::manifest::detail {

using Json = nlohmann::json;

inline constexpr const char* kExpectedKeyword = "x-cdphub-expected";

class SchemaWalker {
  public:
    explicit SchemaWalker(const Json& root) : root_(root) {}

    // Pointers (into the schema) of the subschemas that apply to the value at `tokens` below
    // `value`, when `value` is checked against the subschema at `start`. Follows local "$ref",
    // "allOf", "properties", "patternProperties", "additionalProperties" and "items"; not the
    // branches of "oneOf"/"anyOf" (the checker picks one) nor "if"/"then"/"else".
    std::vector<std::string> at(const std::string& start, const Json& value,
                                const std::vector<std::string>& tokens) const;

    // The subschema itself and those it stands for: its "$ref" target, its "allOf" members.
    std::vector<std::string> expand(const std::string& pointer, int depth = 0) const;

    // The first of `pointers` whose subschema has `keyword`, or nullptr.
    const Json* with(const std::vector<std::string>& pointers, const char* keyword) const;

    const Json* node(const std::string& pointer) const;

    // Whether a value of this JSON type could satisfy the subschema (by "type", "const", "enum").
    bool accepts_type(const std::string& pointer, const Json& value) const;

    // A short description of what the subschema accepts: its "x-cdphub-expected", its constant, its
    // allowed values, its type, in that order of preference.
    std::string describe(const std::string& pointer) const;

  private:
    const Json& root_;
};

// "string", "string or integer".
std::string type_phrase(const Json& type);
// ECMAScript regex search, as valijson does; false for an invalid pattern.
bool pattern_matches(const std::string& pattern, const std::string& s);
// "x-cdphub-expected" of a subschema, or "".
std::string expected_words(const Json* schema);

}  // namespace cdphub::manifest::detail

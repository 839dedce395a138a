// Small helpers shared by the manifest checks: JSON pointers, short renderings of values for
// "found ...", and "did you mean" suggestions. Internal to core/manifest.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"

namespace cdphub::manifest::detail {

using Json = nlohmann::json;

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string escape_token(std::string_view token);
// The reverse: "~1" -> "/", "~0" -> "~".
std::string unescape_token(std::string_view token);
std::string pointer_join(std::string_view parent, std::string_view token);
std::string pointer_of(const std::vector<std::string>& tokens);
// True if `pointer` is `base` or lies below it.
bool pointer_within(std::string_view pointer, std::string_view base);

// The value at `tokens` below `root`, or nullptr.
const Json* value_at(const Json& root, const std::vector<std::string>& tokens);
// The node at an RFC 6901 pointer, or nullptr (never throws, whatever the pointer).
const Json* node_at(const Json& root, std::string_view pointer);

// "string", "integer", "number", "boolean", "object", "array", "null".
std::string type_name(const Json& v);
// "a string", "an object", "null": for values that are described but not shown.
std::string a_type(const Json& v);
// What an admin is shown as "found": the type and a short rendering, e.g. string "15x",
// integer 80, object with keys "a", "b". Never call it for secret values.
std::string describe_found(const Json& v);
// A short JSON rendering of a schema literal (enum or const values), e.g. "manual" or 3.
std::string literal(const Json& v);

// "a, b, c", cut after `max` items ("a, b, ... (3 more)") so that a hint stays one line.
std::string join_list(const std::vector<std::string>& items, size_t max = 12);

// Passes every text field through the secrets Redactor: a secret value the admin pasted into a
// field that is not marked secret is still masked once the hub has resolved it anywhere.
void redact_all(Diagnostics& diagnostics);

size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` within edit distance 2 (ties: alphabetical), or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace cdphub::manifest::detail

// The profile engine's manifests, as loaded from a manifest folder (see docs/manifests.md):
//
//   identity.json          identity resolution rules (optional: defaults() applies without it)
//   traits/*.json          computed traits, one per file
//   segments/*.json        segments, one per file
//   activations/*.json     segment x destination bindings, one per file
//
// load() (manifest.hpp) fills them into ManifestSet with the same diagnostics as connectors.
// Expressions are not parsed here: validate_expressions() runs a parser that the caller supplies
// over every expression and maps its errors to positions in the files.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"
#include "manifest/pattern_matcher.hpp"
#include "manifest/schedule.hpp"

namespace cdphub::manifest {

class JsonLocator;
struct ManifestSet;

// ---- identity.json -------------------------------------------------------------------------

// One ranked identifier type.
struct IdentifierRule {
    std::string type;     // e.g. "email"
    int priority = 0;     // 1 = highest; unique across the list
    int limit = 1;        // most values of this type one profile may hold (resolved: always set)
    bool unique = false;  // identifies one person: limit 1, dropped last in a conflict
    std::string pointer;  // where in identity.json ("/identifiers/2"); "" for a default
};

// Values that stay on records but never link profiles (placeholders such as "unknown").
struct BlockedValue {
    // A regular expression as written, matched against the whole value: the common syntax RE2
    // reads; ECMAScript-only features (backreferences, lookahead) work too, matched by std::regex
    // more slowly (validation warns about that).
    std::string pattern;
    std::vector<std::string> types;  // identifier types it applies to; empty: every type
    bool case_insensitive = true;
    std::string description;
    // `pattern` compiled (case-insensitive unless told otherwise), shared so that copies are cheap
    // and the engine need not compile again. Never null in a loaded set.
    std::shared_ptr<const PatternMatcher> regex;
    std::string pointer;  // where in identity.json ("/blocked_values/0"); "" for a default

    bool applies_to(std::string_view type) const;
    // Whether this entry blocks `value` (a cleansed value) of identifier type `type`.
    bool blocks(std::string_view type, const std::string& value) const;
};

enum class TraitStrategy { most_recent, first_seen, most_filled, source_priority };

// "most_recent", "first_seen", "most_filled", "source_priority".
std::string_view to_string(TraitStrategy strategy);

// Which observation of a trait a profile keeps.
struct TraitRule {
    TraitStrategy strategy = TraitStrategy::most_recent;
    std::vector<std::string> sources;  // source_priority: connector instance ids, highest first
};

struct IdentityRules {
    std::filesystem::path file;  // empty when there is no identity.json (defaults apply)
    // Ranked types, by priority (highest first). Types not listed are ranked after them, by name,
    // and may hold default_limit values.
    std::vector<IdentifierRule> identifiers;
    int default_limit = 5;
    std::vector<BlockedValue> blocked_values;  // checked in this order
    TraitRule default_trait_rule;              // for traits without a rule of their own
    std::map<std::string, TraitRule, std::less<>> trait_rules;  // trait name -> rule
    std::shared_ptr<const JsonLocator> locator;  // positions in `file`; null without a file

    // The rules that apply without identity.json (documented in docs/manifests.md).
    static IdentityRules defaults();
    // The default list of blocked values: one case-insensitive pattern for placeholders.
    static std::vector<BlockedValue> default_blocked_values();
    static std::vector<IdentifierRule> default_identifiers();

    const IdentifierRule* find(std::string_view type) const;
    int limit(std::string_view type) const;  // the rule's limit, else default_limit
    bool unique(std::string_view type) const;
    // Orders identifier types from most to least important: listed types by priority, then the
    // others by name. A strict weak order.
    bool ranks_before(std::string_view a, std::string_view b) const;
    // The first entry that blocks `value` (cleansed) of type `type`, or nullptr.
    const BlockedValue* blocked(std::string_view type, const std::string& value) const;
    const TraitRule& trait_rule(std::string_view trait) const;
};

// ---- traits/, segments/, activations/ ------------------------------------------------------

// An expression as the admin wrote it: one JSON string, or an array of strings (lines) for
// readability.
struct Expression {
    std::string text;                // the lines joined with "\n": what a parser reads
    std::vector<std::string> lines;  // the JSON strings as written: one for a string
    bool is_array = false;           // written as an array of lines
    std::string pointer;             // where in the file: "/expression"
};

struct ComputedTraitManifest {
    std::filesystem::path file;
    std::string name;  // unique among computed traits; computed.<name> in segments and mappings
    std::string description;
    Expression expression;  // an aggregate, e.g. count(orders within 90d)
    std::shared_ptr<const JsonLocator> locator;
};

struct SegmentManifest {
    std::filesystem::path file;
    std::string name;  // unique among segments
    std::string description;
    Expression expression;  // a condition, e.g. traits.country == "DE"
    bool enabled = true;
    std::shared_ptr<const JsonLocator> locator;
};

struct ActivationManifest {
    std::filesystem::path file;
    std::string name;  // unique among activations
    std::string description;
    std::string segment;      // names a segment of the set
    std::string destination;  // names a connector instance of the set
    bool enabled = true;
    std::optional<std::string> purpose;  // consent purpose a profile must have granted
    // Destination field name -> operand path ("identifiers.email", "traits.first_name",
    // "computed.ltv", "consent.email_marketing"); at least one entry.
    std::map<std::string, std::string> mapping;
    Schedule schedule;
    bool realtime = false;  // also planned after each ingest API batch that changed profiles
    std::shared_ptr<const JsonLocator> locator;
};

// ---- expression checks ---------------------------------------------------------------------

enum class ExpressionKind {
    segment,    // a segment's condition
    aggregate,  // a computed trait's expression
    operand,    // an activation mapping's value
};

// A problem in an expression, where the checker found it: line and column are 1-based, within the
// expression text (line = array element index + 1 when the expression is an array of lines).
// Columns count characters (UTF-8 code points), as editors do; for ASCII text that is bytes.
// Line 0 means "unknown" (the diagnostic points at the start of the expression), column 0 the
// start of the line; positions past the end of a line or of the text point at its end.
struct ExpressionError {
    int line = 0;
    int column = 0;
    std::string message;  // shown after "invalid expression: " or "invalid operand: "
};

// Parses `text` (the expression's lines joined with "\n") as an expression of `kind` and returns
// its problems, none if it is valid. Should not throw; an exception is reported as a diagnostic.
using ExpressionChecker =
    std::function<std::vector<ExpressionError>(std::string_view text, ExpressionKind kind)>;

// Runs `check` over every segment expression, computed trait expression and mapping operand of
// `set`, and turns each error into a Diagnostic: the file, the JSON pointer of the string (of the
// array item, for an expression written as lines) and the line:column of the error in the file,
// escapes in the JSON string taken into account. Sorted like load()'s diagnostics.
Diagnostics validate_expressions(const ManifestSet& set, const ExpressionChecker& check);

}  // namespace cdphub::manifest

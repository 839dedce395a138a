// Loading the profile engine's manifests: identity.json, traits/, segments/ and activations/.
// Each file is checked against its embedded schema, then for what a schema cannot say (regular
// expressions that do not compile, priorities given twice, names used by two files, references to
// segments and connectors that do not exist). Like loader.cpp, every problem becomes a Diagnostic
// and loading goes on.
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <regex>
#include <system_error>
#include <tuple>

#include "manifest/json_util.hpp"
#include "manifest/load_util.hpp"
#include "manifest/manifest.hpp"
#include "manifest/parse.hpp"
#include "manifest/schemas.hpp"

namespace cdphub::manifest {

namespace {

// Placeholders that forms, SDKs and exports put where a value is missing; each would link every
// customer who left the field empty into one profile. Matched against the whole cleansed value,
// ignoring case (docs/manifests.md lists them in words).
constexpr const char* kDefaultBlockedPattern =
    "null|nil|none|undefined|anonymous|unknown|n/?a|nan|-1|\\+?0+|\\(null\\)|\\[object object\\]|"
    "test@test\\.com|"
    "(no|none|null|nil|unknown|no[-_.]?e?[-_]?mail|no[-_]?reply|do[-_]?not[-_]?reply)@.*|"
    ".*@(.+\\.)?example\\.(com|org|net)";

constexpr const char* kDefaultBlockedDescription =
    "placeholders: null, nil, none, undefined, anonymous, unknown, n/a, na, nan, -1, 0 and other "
    "all-zero values, (null), [object Object], test@test.com, no-email/no-reply style addresses, "
    "and addresses at example.com, example.org and example.net";

}  // namespace

std::string_view to_string(TraitStrategy strategy) {
    switch (strategy) {
        case TraitStrategy::most_recent:
            return "most_recent";
        case TraitStrategy::first_seen:
            return "first_seen";
        case TraitStrategy::most_filled:
            return "most_filled";
        case TraitStrategy::source_priority:
            return "source_priority";
    }
    return "most_recent";
}

bool BlockedValue::applies_to(std::string_view type) const {
    return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

bool BlockedValue::blocks(std::string_view type, const std::string& value) const {
    return regex && applies_to(type) && regex->full_match(value);
}

std::vector<IdentifierRule> IdentityRules::default_identifiers() {
    return {
        {"user_id", 1, 1, true, ""},          {"email", 2, 5, false, ""},
        {"phone", 3, 5, false, ""},           {"crm_id", 4, 1, false, ""},
        {"pos_customer_id", 5, 1, false, ""}, {"email_sha256", 6, 5, false, ""},
        {"phone_sha256", 7, 5, false, ""},    {"anonymous_id", 8, 10, false, ""},
    };
}

std::vector<BlockedValue> IdentityRules::default_blocked_values() {
    BlockedValue b;
    b.pattern = kDefaultBlockedPattern;
    b.description = kDefaultBlockedDescription;
    b.regex = PatternMatcher::compile(b.pattern, true);
    return {std::move(b)};
}

IdentityRules IdentityRules::defaults() {
    IdentityRules r;
    r.identifiers = default_identifiers();
    r.blocked_values = default_blocked_values();
    return r;
}

const IdentifierRule* IdentityRules::find(std::string_view type) const {
    for (const auto& i : identifiers) {
        if (i.type == type) return &i;
    }
    return nullptr;
}

int IdentityRules::limit(std::string_view type) const {
    const auto* rule = find(type);
    if (rule == nullptr) return default_limit;
    return rule->unique ? 1 : rule->limit;
}

bool IdentityRules::unique(std::string_view type) const {
    const auto* rule = find(type);
    return rule != nullptr && rule->unique;
}

bool IdentityRules::ranks_before(std::string_view a, std::string_view b) const {
    auto key = [&](std::string_view t) {
        const auto* rule = find(t);
        return std::make_tuple(rule != nullptr ? 0 : 1, rule != nullptr ? rule->priority : 0, t);
    };
    return key(a) < key(b);
}

const BlockedValue* IdentityRules::blocked(std::string_view type, const std::string& value) const {
    for (const auto& b : blocked_values) {
        if (b.blocks(type, value)) return &b;
    }
    return nullptr;
}

const TraitRule& IdentityRules::trait_rule(std::string_view trait) const {
    auto it = trait_rules.find(trait);
    return it == trait_rules.end() ? default_trait_rule : it->second;
}

const ComputedTraitManifest* ManifestSet::find_computed_trait(std::string_view name) const {
    for (const auto& t : computed_traits) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

const SegmentManifest* ManifestSet::find_segment(std::string_view name) const {
    for (const auto& s : segments) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

const ActivationManifest* ManifestSet::find_activation(std::string_view name) const {
    for (const auto& a : activations) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

namespace detail {
namespace {

namespace fs = std::filesystem;
using Declared = std::map<std::string, fs::path>;  // name -> the file that declares it first

// The identifier types the normalizer knows (docs/canonical-record.md); any other valid name is a
// custom type, so these only feed "did you mean".
constexpr std::array<const char*, 8> kBuiltinTypes = {
    "user_id",         "email",        "phone",        "crm_id",
    "pos_customer_id", "email_sha256", "phone_sha256", "anonymous_id"};

// Values no placeholder pattern should block: a pattern that blocks all of them blocks
// everything, and nothing would ever link.
constexpr std::array<const char*, 4> kOrdinaryValues = {"ann.smith@gmail.com", "+4930123456", "42",
                                                        "u-7f3a9c"};

std::vector<std::string> keys_of(const Declared& declared) {
    std::vector<std::string> out;
    for (const auto& [name, file] : declared) out.push_back(name);
    return out;
}

std::string regex_problem(const std::regex_error& e) {
    namespace rc = std::regex_constants;
    switch (e.code()) {
        case rc::error_collate:
            return "invalid collating element name";
        case rc::error_ctype:
            return "invalid character class name";
        case rc::error_escape:
            return "invalid escape or trailing backslash";
        case rc::error_backref:
            return "back-reference to a group that does not exist";
        case rc::error_brack:
            return "unmatched '[' or ']'";
        case rc::error_paren:
            return "unmatched '(' or ')'";
        case rc::error_brace:
            return "unmatched '{' or '}'";
        case rc::error_badbrace:
            return "invalid repeat count in '{}'";
        case rc::error_range:
            return "invalid character range, such as [z-a]";
        case rc::error_space:
            return "too large to compile";
        case rc::error_badrepeat:
            return "'*', '+', '?' or '{' with nothing before it to repeat";
        case rc::error_complexity:
        case rc::error_stack:
            return "too complex";
        default:
            return e.what();
    }
}

// One file being read: where diagnostics go and how they are positioned.
struct FileContext {
    std::string shown;
    const JsonLocator* locator;
    Diagnostics& diags;  // this file's, merged into the set's at the end

    Diagnostic& error(std::string pointer, std::string message, bool key = false) {
        diags.push_back(problem_at(shown, locator, std::move(pointer), std::move(message), key));
        return diags.back();
    }
    Diagnostic& warn(std::string pointer, std::string message, bool key = false) {
        auto& d = error(std::move(pointer), std::move(message), key);
        d.severity = Diagnostic::Severity::warning;
        return d;
    }
    // Present in the document and without a problem of its own.
    bool ok(const Json& doc, std::string_view pointer) const {
        return node_at(doc, pointer) != nullptr && !has_error_at(diags, pointer);
    }
};

// ---- identity.json ----

void read_identifiers(const Json& list, FileContext& f, IdentityRules& rules) {
    rules.identifiers.clear();
    std::map<std::string, std::string> type_at;                      // type -> pointer
    std::map<int, std::pair<std::string, std::string>> priority_at;  // -> type, pointer
    for (size_t i = 0; i < list.size(); ++i) {
        std::string p = "/identifiers/" + std::to_string(i);
        if (has_error_at(f.diags, p)) continue;
        const Json& e = list[i];
        IdentifierRule r;
        r.pointer = p;
        r.type = e["type"].get<std::string>();
        r.priority = e["priority"].get<int>();
        r.unique = e.value("unique", false);
        r.limit = e.contains("limit") ? e["limit"].get<int>() : r.unique ? 1 : rules.default_limit;
        if (auto [it, fresh] = type_at.emplace(r.type, p); !fresh) {
            auto& d = f.error(p + "/type", "identifier type '" + r.type + "' is listed twice");
            d.found = describe_found(e["type"]);
            d.hint = "it is also at " + it->second + "; list each type once";
            continue;
        }
        if (auto [it, fresh] = priority_at.emplace(r.priority, std::pair{r.type, p}); !fresh) {
            auto& d = f.error(p + "/priority", "priority " + std::to_string(r.priority) +
                                                   " is also given to '" + it->second.first +
                                                   "' (" + it->second.second + ")");
            d.expected = "a priority no other listed type has";
            d.found = describe_found(e["priority"]);
            d.hint = "priorities rank the types (1 = highest): give each type its own";
        }
        if (r.unique && r.limit != 1) {
            auto& d = f.error(p + "/limit",
                              "a unique identifier type holds one value per profile, so its limit "
                              "is 1");
            d.expected = "1, or no limit";
            d.found = describe_found(e["limit"]);
            d.hint = "remove \"limit\", or remove \"unique\" if a person can have several '" +
                     r.type + "' values";
            r.limit = 1;
        }
        rules.identifiers.push_back(std::move(r));
    }
    std::stable_sort(
        rules.identifiers.begin(), rules.identifiers.end(),
        [](const IdentifierRule& a, const IdentifierRule& b) { return a.priority < b.priority; });
}

std::vector<std::string> known_types(const IdentityRules& rules) {
    std::vector<std::string> out(kBuiltinTypes.begin(), kBuiltinTypes.end());
    for (const auto& r : rules.identifiers) {
        if (std::find(out.begin(), out.end(), r.type) == out.end()) out.push_back(r.type);
    }
    return out;
}

// A type that is neither listed nor built in is a custom type, which is fine, unless it is one
// typo away from a known one.
void check_type_spelling(const std::string& type, const std::string& pointer,
                         const std::vector<std::string>& known, FileContext& f) {
    if (std::find(known.begin(), known.end(), type) != known.end()) return;
    auto near = did_you_mean(type, known);
    if (near.empty()) return;
    auto& d = f.warn(pointer, "identifier type '" + type +
                                  "' is neither listed in identifiers nor one the hub knows");
    d.hint = "did you mean '" + near + "'?";
}

void read_blocked_values(const Json& list, FileContext& f, IdentityRules& rules) {
    rules.blocked_values.clear();
    auto known = known_types(rules);
    for (size_t i = 0; i < list.size(); ++i) {
        std::string p = "/blocked_values/" + std::to_string(i);
        if (has_error_at(f.diags, p)) continue;
        const Json& e = list[i];
        BlockedValue b;
        b.pointer = p;
        b.pattern = e["pattern"].get<std::string>();
        b.case_insensitive = e.value("case_insensitive", true);
        b.description = e.value("description", "");
        if (e.contains("types")) {
            for (size_t j = 0; j < e["types"].size(); ++j) {
                b.types.push_back(e["types"][j].get<std::string>());
                check_type_spelling(b.types.back(), p + "/types/" + std::to_string(j), known, f);
            }
        }
        try {
            b.regex = PatternMatcher::compile(b.pattern, b.case_insensitive);
        } catch (const std::regex_error& ex) {
            auto& d = f.error(p + "/pattern", "invalid regular expression: " + regex_problem(ex));
            d.expected = "an ECMAScript regular expression";
            d.found = describe_found(e["pattern"]);
            continue;
        } catch (const std::exception& ex) {
            auto& d =
                f.error(p + "/pattern", std::string("invalid regular expression: ") + ex.what());
            d.found = describe_found(e["pattern"]);
            continue;
        }
        bool blocks_all = std::all_of(kOrdinaryValues.begin(), kOrdinaryValues.end(),
                                      [&](const char* v) { return b.regex->full_match(v); });
        if (blocks_all) {
            auto& d = f.warn(p + "/pattern", "the pattern blocks ordinary values too");
            d.found = describe_found(e["pattern"]);
            d.hint =
                "it matches \"42\" and \"ann.smith@gmail.com\": blocked values never link "
                "profiles, so make it match placeholders only";
        }
        if (b.regex->engine() == PatternMatcher::Engine::ecmascript) {
            // Still valid, but every identifier of every import pays for the backtracking engine.
            auto& d = f.warn(p + "/pattern",
                             "the pattern uses features the fast matcher lacks and is matched "
                             "with the slower engine");
            d.found = describe_found(e["pattern"]);
            d.hint = "RE2 says \"" + b.regex->re2_error() +
                     "\": backreferences and lookahead need std::regex, which slows down every "
                     "import, so write the pattern without them if you can";
        }
        rules.blocked_values.push_back(std::move(b));
    }
}

void check_sources(const Json& sources, const std::string& pointer, const Declared& connectors,
                   FileContext& f) {
    auto ids = keys_of(connectors);
    for (size_t j = 0; j < sources.size(); ++j) {
        auto source = sources[j].get<std::string>();
        if (connectors.count(source) != 0) continue;
        auto& d = f.warn(pointer + "/" + std::to_string(j),
                         "'" + source + "' is not a connector instance in connectors/");
        if (!ids.empty()) d.expected = "one of: " + join_list(ids);
        d.found = describe_found(sources[j]);
        auto near = did_you_mean(source, ids);
        d.hint = (near.empty() ? "" : "did you mean '" + near + "'? ") +
                 "(a warning only: records can also arrive through the ingest API under other "
                 "source names)";
    }
}

std::optional<TraitRule> read_strategy(const Json& doc, const std::string& pointer,
                                       const Declared& connectors, FileContext& f) {
    if (!f.ok(doc, pointer)) return std::nullopt;
    const Json& v = *node_at(doc, pointer);
    auto strategy_of = [](const std::string& name) {
        for (auto s : {TraitStrategy::most_recent, TraitStrategy::first_seen,
                       TraitStrategy::most_filled, TraitStrategy::source_priority}) {
            if (to_string(s) == name) return s;
        }
        return TraitStrategy::most_recent;
    };
    TraitRule rule;
    if (v.is_string()) {
        rule.strategy = strategy_of(v.get<std::string>());
        return rule;
    }
    rule.strategy = strategy_of(v["strategy"].get<std::string>());
    bool has_sources = v.contains("sources");
    if (rule.strategy == TraitStrategy::source_priority && !has_sources) {
        auto& d = f.error(pointer + "/sources", "missing required key 'sources'");
        d.expected = "the connector instance ids to prefer, highest first, like [\"crm-main\"]";
        d.hint = "source_priority keeps the value from the highest-ranked source";
        return std::nullopt;
    }
    if (!has_sources) return rule;
    if (rule.strategy != TraitStrategy::source_priority) {
        auto& d = f.warn(pointer + "/sources",
                         "ignored: 'sources' is read only with the source_priority strategy", true);
        d.hint = "remove it, or set \"strategy\": \"source_priority\"";
        return rule;
    }
    for (const auto& s : v["sources"]) rule.sources.push_back(s.get<std::string>());
    check_sources(v["sources"], pointer + "/sources", connectors, f);
    return rule;
}

void read_traits(const Json& doc, const Declared& connectors, FileContext& f,
                 IdentityRules& rules) {
    if (auto r = read_strategy(doc, "/traits/default", connectors, f)) {
        rules.default_trait_rule = std::move(*r);
    }
    const Json* list = node_at(doc, "/traits/rules");
    if (list == nullptr || !list->is_object()) return;
    for (const auto& [trait, value] : list->items()) {
        if (auto r = read_strategy(doc, pointer_join("/traits/rules", trait), connectors, f)) {
            rules.trait_rules[trait] = std::move(*r);
        }
    }
}

IdentityRules load_identity(const fs::path& root, const Declared& connectors, Diagnostics& out) {
    IdentityRules rules = IdentityRules::defaults();
    fs::path file = root / "identity.json";
    std::error_code ec;
    auto status = fs::status(file, ec);
    if (!fs::exists(status)) return rules;
    auto shown = file.string();
    rules.file = file;
    if (fs::is_directory(status)) {
        out.push_back(problem(shown, "identity.json is a folder", "it must be a JSON file"));
        return rules;
    }
    auto parsed = read_json_file(file, shown, out);
    rules.locator = parsed.locator;
    if (!parsed.doc) return rules;
    auto diags = check_file(identity_schema(), parsed, shown);
    FileContext f{shown, parsed.locator.get(), diags};
    const Json& doc = *parsed.doc;
    if (doc.is_object()) {
        if (f.ok(doc, "/default_limit")) rules.default_limit = doc["default_limit"].get<int>();
        // Without "identifiers" the default list stays, with its own limits: default_limit then
        // applies to unlisted types only.
        // Lists are read item by item: an item with a problem is left out, the others are used.
        if (doc.contains("identifiers") && doc["identifiers"].is_array()) {
            read_identifiers(doc["identifiers"], f, rules);
        }
        if (doc.contains("blocked_values") && doc["blocked_values"].is_array()) {
            read_blocked_values(doc["blocked_values"], f, rules);
        }
        read_traits(doc, connectors, f, rules);
    }
    out.insert(out.end(), diags.begin(), diags.end());
    return rules;
}

// ---- traits/, segments/, activations/ ----

std::optional<Expression> read_expression(const Json& doc, FileContext& f) {
    const std::string pointer = "/expression";
    if (!f.ok(doc, pointer)) return std::nullopt;
    const Json& v = doc["expression"];
    Expression e;
    e.pointer = pointer;
    e.is_array = v.is_array();
    if (e.is_array) {
        for (const auto& line : v) e.lines.push_back(line.get<std::string>());
    } else {
        e.lines.push_back(v.get<std::string>());
    }
    for (size_t i = 0; i < e.lines.size(); ++i) {
        if (i > 0) e.text += '\n';
        e.text += e.lines[i];
    }
    if (e.text.find_first_not_of(" \t\r\n") == std::string::npos) {
        auto& d = f.error(pointer, "the expression is empty");
        d.found = describe_found(v);
        return std::nullopt;
    }
    return e;
}

struct NamedKind {
    const char* folder;  // "segments"
    const char* shown;   // "segments/", in messages
    const char* noun;    // "segment"
    const SchemaChecker& (*schema)();
};

constexpr NamedKind kTraits{"traits", "traits/", "computed trait", computed_trait_schema};
constexpr NamedKind kSegments{"segments", "segments/", "segment", segment_schema};
constexpr NamedKind kActivations{"activations", "activations/", "activation", activation_schema};

// Loads every file of one folder: schema check, the kind's own reading (`read` fills the manifest
// and returns whether it is usable), names unique across files. `declared` gets every valid name.
template <class Manifest, class Read>
void load_named(const fs::path& root, const NamedKind& kind, std::vector<Manifest>& dest,
                Declared& declared, Diagnostics& out, Read read) {
    auto files = list_manifest_folder(root / kind.folder, kind.shown, "", "", out);
    for (const auto& file : files) {
        auto shown = file.string();
        auto parsed = read_json_file(file, shown, out);
        if (!parsed.doc) continue;
        const Json& doc = *parsed.doc;
        auto diags = check_file(kind.schema(), parsed, shown);
        FileContext f{shown, parsed.locator.get(), diags};
        bool usable = doc.is_object() && f.ok(doc, "/name");
        if (usable) {
            auto name = doc["name"].get<std::string>();
            auto [it, fresh] = declared.emplace(name, file);
            if (!fresh) {
                auto& d = f.error("/name", std::string(kind.noun) + " name '" + name +
                                               "' is also used by " + it->second.string());
                d.hint = std::string(kind.noun) + " names must be unique in the manifest folder; " +
                         "rename one";
                usable = false;
            }
        }
        Manifest m;
        if (usable) {
            m.file = file;
            m.locator = parsed.locator;
            m.name = doc["name"].get<std::string>();
            if (f.ok(doc, "/description")) m.description = doc["description"].get<std::string>();
            usable = read(doc, f, m);
        }
        out.insert(out.end(), diags.begin(), diags.end());
        if (usable) dest.push_back(std::move(m));
    }
}

bool read_activation(const Json& doc, FileContext& f, ActivationManifest& a) {
    for (const char* key : {"/segment", "/destination", "/mapping"}) {
        if (!f.ok(doc, key)) return false;
    }
    a.segment = doc["segment"].get<std::string>();
    a.destination = doc["destination"].get<std::string>();
    if (f.ok(doc, "/enabled")) a.enabled = doc["enabled"].get<bool>();
    if (f.ok(doc, "/purpose")) a.purpose = doc["purpose"].get<std::string>();
    if (f.ok(doc, "/schedule")) a.schedule = parse_schedule(doc["schedule"]);
    if (f.ok(doc, "/realtime")) a.realtime = doc["realtime"].get<bool>();
    bool usable = true;
    for (const auto& [field, operand] : doc["mapping"].items()) {
        if (field.empty()) {
            auto& d =
                f.error(pointer_join("/mapping", field), "empty destination field name", true);
            d.expected = "the name of a field of the destination, like \"email\"";
            usable = false;
            continue;
        }
        a.mapping.emplace(field, operand.get<std::string>());
    }
    return usable;
}

// Where a mapping operand points: "computed.ltv" -> {"computed", "ltv"}. Only the first two
// segments matter here; the expression checker judges the whole.
std::pair<std::string, std::string> operand_root(const std::string& operand) {
    auto dot = operand.find('.');
    if (dot == std::string::npos) return {};
    size_t end = dot + 1;
    while (end < operand.size() &&
           (std::islower(static_cast<unsigned char>(operand[end])) != 0 ||
            std::isdigit(static_cast<unsigned char>(operand[end])) != 0 || operand[end] == '_')) {
        ++end;
    }
    if (end < operand.size() && operand[end] != '.' && operand[end] != '[') return {};
    return {operand.substr(0, dot), operand.substr(dot + 1, end - dot - 1)};
}

std::string known_list(const std::vector<std::string>& names, const std::string& none) {
    return names.empty() ? none : "one of: " + join_list(names);
}

// References from activations to segments and connectors, and identifier types in mappings.
void check_activations(const ManifestSet& set, const Declared& segments, const Declared& connectors,
                       Diagnostics& out) {
    auto segment_names = keys_of(segments);
    auto connector_ids = keys_of(connectors);
    auto types = known_types(set.identity);
    for (const auto& a : set.activations) {
        Diagnostics diags;
        FileContext f{a.file.string(), a.locator.get(), diags};
        if (segments.count(a.segment) == 0) {
            auto& d = f.error("/segment", "unknown segment '" + a.segment + "'");
            d.expected = known_list(segment_names, "a segment defined in segments/ (none is)");
            d.found = describe_found(a.segment);
            auto near = did_you_mean(a.segment, segment_names);
            d.hint = !near.empty() ? "did you mean '" + near + "'?"
                                   : "define it in segments/, or fix the name";
        } else if (const auto* s = set.find_segment(a.segment); s && !s->enabled && a.enabled) {
            auto& d = f.warn("/segment", "segment '" + a.segment + "' is disabled");
            d.hint =
                "this activation sends nothing until it is enabled (in " + s->file.string() + ")";
        }
        if (connectors.count(a.destination) == 0) {
            auto& d = f.error("/destination", "unknown connector instance '" + a.destination + "'");
            d.expected =
                known_list(connector_ids, "a connector instance defined in connectors/ (none is)");
            d.found = describe_found(a.destination);
            auto near = did_you_mean(a.destination, connector_ids);
            d.hint = !near.empty() ? "did you mean '" + near + "'?"
                                   : "the destination is a connector instance: define it in "
                                     "connectors/, or fix the id";
        } else if (const auto* c = set.find(a.destination); c && !c->enabled && a.enabled) {
            auto& d =
                f.warn("/destination", "connector instance '" + a.destination + "' is disabled");
            d.hint = "changes for it wait in the outbox until it is enabled (in " +
                     c->file.string() + ")";
        }
        for (const auto& [field, operand] : a.mapping) {
            auto [root, name] = operand_root(operand);
            auto pointer = pointer_join("/mapping", field);
            // computed.<name> is checked by the expression checker (validate_expressions), which
            // knows the computed traits: reporting it here too would say it twice.
            if (root == "identifiers" && !name.empty() &&
                std::find(types.begin(), types.end(), name) == types.end()) {
                auto near = did_you_mean(name, types);
                if (near.empty()) continue;  // a custom type
                auto& d = f.warn(pointer, "identifier type '" + name +
                                              "' is neither listed in identity.json nor one the "
                                              "hub knows");
                d.found = describe_found(operand);
                d.hint = "did you mean 'identifiers." + near + "'?";
            }
        }
        out.insert(out.end(), diags.begin(), diags.end());
    }
}

}  // namespace

void load_profile_manifests(const fs::path& root, const Declared& connector_ids, ManifestSet& set) {
    auto& out = set.diagnostics;
    set.identity = load_identity(root, connector_ids, out);

    Declared traits, segments, activations;
    load_named(root, kTraits, set.computed_traits, traits, out,
               [](const Json& doc, FileContext& f, ComputedTraitManifest& t) {
                   auto e = read_expression(doc, f);
                   if (e) t.expression = std::move(*e);
                   return e.has_value();
               });
    load_named(root, kSegments, set.segments, segments, out,
               [](const Json& doc, FileContext& f, SegmentManifest& s) {
                   if (f.ok(doc, "/enabled")) s.enabled = doc["enabled"].get<bool>();
                   auto e = read_expression(doc, f);
                   if (e) s.expression = std::move(*e);
                   return e.has_value();
               });
    load_named(root, kActivations, set.activations, activations, out, read_activation);
    check_activations(set, segments, connector_ids, out);
}

}  // namespace detail
}  // namespace cdphub::manifest

// Checking each connector's config against its plugin's own spec (a JSON Schema the plugin
// declares), with the manifest's secret references taken into account: a secret field must come
// from a reference, and a reference stands in for the field when checking "required".
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "manifest/json_util.hpp"
#include "manifest/manifest.hpp"
#include "manifest/schema_check.hpp"
#include "manifest/schema_walk.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::manifest {
namespace {

using detail::Json;

constexpr const char* kHiddenSecret = "a value (hidden: secret field)";
// Config values are searched this deep for secret fields; configs are shallow in practice.
constexpr size_t kMaxSecretDepth = 32;

Diagnostic at(const ConnectorManifest& c, const std::string& pointer, bool key = false) {
    Diagnostic d;
    d.file = c.file.string();
    d.pointer = pointer;
    if (c.locator) {
        std::tie(d.line, d.column) =
            key ? c.locator->locate_key(pointer) : c.locator->locate(pointer);
    }
    return d;
}

// What the hub knows about one plugin's spec, computed once per plugin.
struct PluginCheck {
    std::unique_ptr<detail::SchemaChecker> checker;
    std::set<std::string> fields;         // top-level config fields the spec declares
    std::set<std::string> secret_fields;  // those of them marked "writeOnly"
    bool open = false;                    // the spec explicitly allows keys it does not list
};

bool is_write_only(const detail::SchemaWalker& walker, const std::string& pointer) {
    for (const auto& p : walker.expand(pointer)) {
        const Json* n = walker.node(p);
        if (n == nullptr || !n->is_object()) continue;
        auto w = n->find("writeOnly");
        if (w != n->end() && w->is_boolean() && w->get<bool>()) return true;
    }
    return false;
}

void collect_fields(const detail::SchemaWalker& walker, PluginCheck& out) {
    for (const auto& p : walker.expand("")) {
        const Json* props = walker.node(p + "/properties");
        if (props == nullptr || !props->is_object()) continue;
        for (const auto& item : props->items()) {
            out.fields.insert(item.key());
            auto sp = p + "/properties/" + detail::escape_token(item.key());
            if (is_write_only(walker, sp)) out.secret_fields.insert(item.key());
        }
    }
}

// The values in `config` that sit at secret fields, as "/config/..." pointers. Walks the data
// rather than the spec, so that secrets under "items", "patternProperties" or a recursive "$ref"
// are found too, and a recursive spec cannot make the walk endless.
void find_secrets(const detail::SchemaWalker& walker, const Json& config,
                  std::vector<std::string>& tokens, std::set<std::string>& out) {
    if (tokens.size() > kMaxSecretDepth) return;
    auto visit = [&](const std::string& token, const Json& child) {
        tokens.push_back(token);
        bool secret = false;
        for (const auto& p : walker.at("", config, tokens))
            secret = secret || is_write_only(walker, p);
        if (secret) {
            out.insert("/config" + detail::pointer_of(tokens));
        } else if (child.is_structured()) {
            find_secrets(walker, config, tokens, out);
        }
        tokens.pop_back();
    };
    const Json* v = detail::value_at(config, tokens);
    if (v == nullptr) return;
    if (v->is_object()) {
        for (const auto& item : v->items()) visit(item.key(), item.value());
    } else if (v->is_array()) {
        for (size_t i = 0; i < v->size(); ++i) visit(std::to_string(i), (*v)[i]);
    }
}

std::set<std::string> secrets_in(const PluginCheck& pc, const Json& config) {
    detail::SchemaWalker walker(pc.checker->schema());
    std::vector<std::string> tokens;
    std::set<std::string> out;
    find_secrets(walker, config, tokens, out);
    return out;
}

PluginCheck prepare(const Json& spec) {
    PluginCheck pc;
    Json effective = spec;
    if (effective.is_object()) {
        auto extra = effective.find("additionalProperties");
        pc.open = extra != effective.end() && !(extra->is_boolean() && !extra->get<bool>());
        // Standard JSON Schema allows unlisted keys by default; a manifest should not: an unknown
        // key is almost always a typo that would silently leave a setting at its default.
        if (extra == effective.end()) effective["additionalProperties"] = false;
    }
    pc.checker = std::make_unique<detail::SchemaChecker>(std::move(effective));
    collect_fields(detail::SchemaWalker(pc.checker->schema()), pc);
    return pc;
}

Diagnostic invalid_spec(const std::string& plugin, const std::string& why,
                        const std::vector<std::string>& files) {
    Diagnostic d;
    d.message = "plugin '" + plugin + "' declares an invalid config spec: " + why;
    d.hint =
        "this is a defect in the plugin, not in the manifest: upgrade the plugin or tell its "
        "vendor; its connectors' config cannot be checked (" +
        detail::join_list(files, 4) + ")";
    return d;
}

void unknown_plugin(const ConnectorManifest& c, std::vector<std::string> known, Diagnostics& out) {
    std::sort(known.begin(), known.end());
    auto d = at(c, "/plugin");
    d.message = "unknown plugin '" + c.plugin + "'";
    d.expected = known.empty() ? "an installed plugin (none was found in the plugin folders)"
                               : "one of: " + detail::join_list(known);
    d.found = detail::describe_found(Json(c.plugin));
    auto near = detail::did_you_mean(c.plugin, known);
    d.hint = !near.empty() ? "did you mean '" + near + "'?"
                           : "install the plugin in a plugin folder (hub.json \"plugin_dirs\") or "
                             "correct the id";
    out.push_back(std::move(d));
}

void check_secret_refs(const ConnectorManifest& c, const PluginCheck& pc, const std::string& plugin,
                       Diagnostics& out) {
    std::vector<std::string> names(pc.fields.begin(), pc.fields.end());
    for (const auto& [field, ref] : c.secrets) {
        if (pc.fields.contains(field) || pc.open) continue;
        auto d = at(c, detail::pointer_join("/secrets", field), true);
        d.message = "plugin '" + plugin + "' has no config field '" + field + "'";
        auto near = detail::did_you_mean(field, names);
        d.hint = !near.empty()   ? "did you mean '" + near + "'?"
                 : names.empty() ? "the plugin takes no config fields"
                                 : "its fields: " + detail::join_list(names);
        out.push_back(std::move(d));
    }
    for (const auto& pointer : secrets_in(pc, c.config)) {
        std::string field = pointer.substr(std::string_view("/config/").size());
        bool top = field.find('/') == std::string::npos;
        field = top ? detail::unescape_token(field) : field;
        if (top && c.secrets.contains(field)) continue;  // the loader reported "given twice"
        auto d = at(c, pointer);
        d.message = "secret field '" + field + "' is given in clear text";
        d.expected = "a reference in \"secrets\"";
        d.found = kHiddenSecret;
        d.hint = top ? "move it to \"secrets\": {\"" + field + "\": {\"env\": \"VAR\"}} or {\"" +
                           field + "\": {\"file\": \"path\"}}; manifests must not hold secrets"
                     : "secret references supply top-level fields only, and this one is nested: "
                       "ask the plugin's vendor to make it a top-level field";
        out.push_back(std::move(d));
    }
}

// Checks the config as the plugin will see it: secret references stand for their fields.
void check_config(const ConnectorManifest& c, const PluginCheck& pc, Diagnostics& out) {
    Json merged = c.config;
    // Pointers whose value here is not the real one: secret references, and secrets given in
    // clear text (reported as such; what else is wrong with them no longer matters).
    std::set<std::string> stand_ins = secrets_in(pc, c.config);
    std::set<std::string> secret = stand_ins;
    for (const auto& [field, ref] : c.secrets) {
        if (!pc.fields.contains(field) && !pc.open) continue;
        merged[field] = "(secret)";
        stand_ins.insert(detail::pointer_join("/config", field));
    }
    for (const auto& field : pc.secret_fields)
        secret.insert(detail::pointer_join("/config", field));
    auto secret_at = [&](std::string_view pointer) {
        return std::any_of(secret.begin(), secret.end(), [&](const std::string& s) {
            return detail::pointer_within(pointer, s);
        });
    };
    detail::CheckTarget target{c.file.string(), c.locator.get(), "/config",
                               [&](std::string_view pointer, const Json&) -> std::string {
                                   return secret_at(pointer) ? kHiddenSecret : "";
                               }};
    for (auto& d : pc.checker->check(merged, target)) {
        bool stand_in = std::any_of(stand_ins.begin(), stand_ins.end(), [&](const std::string& s) {
            return detail::pointer_within(d.pointer, s);
        });
        if (stand_in) continue;  // a stand-in's own problems are not the admin's
        if (secret_at(d.pointer) && d.message.starts_with("missing required key")) {
            d.hint =
                "it is a secret field: give it in \"secrets\" with {\"env\": \"VAR\"} or "
                "{\"file\": \"path\"}";
        }
        out.push_back(std::move(d));
    }
}

// Unresolvable references are warnings: validation often runs where the secrets are not (CI).
void resolve_secrets(const ManifestSet& set, const ConnectorManifest& c, Diagnostics& out) {
    if (!c.enabled) return;  // a disabled instance needs no secrets
    for (const auto& [field, ref] : c.secrets) {
        auto r = secrets::resolve(ref, set.root);
        if (r.value) continue;
        auto pointer = detail::pointer_join("/secrets", field) +
                       (ref.source == SecretRef::Source::env ? "/env" : "/file");
        auto d = at(c, pointer);
        d.severity = Diagnostic::Severity::warning;
        d.message = "secret '" + field + "' cannot be resolved here: " + r.error;
        d.hint = "the hub needs it where it runs";
        out.push_back(std::move(d));
    }
}

}  // namespace

Diagnostics validate_configs(const ManifestSet& set, const PluginLookup& lookup,
                             const std::vector<std::string>& known_plugin_ids) {
    Diagnostics out;
    std::map<std::string, PluginCheck> plugins;
    std::map<std::string, std::string> broken;  // plugin id -> why its spec is unusable
    std::map<std::string, std::vector<std::string>> broken_files;
    for (const auto& c : set.connectors) {
        resolve_secrets(set, c, out);
        auto spec = lookup ? lookup(c.plugin) : std::nullopt;
        if (!spec || spec->config_spec == nullptr) {
            unknown_plugin(c, known_plugin_ids, out);
            continue;
        }
        if (c.delivery && !spec->destination) {
            auto d = at(c, "/delivery", true);
            d.severity = Diagnostic::Severity::warning;
            d.message = "connector '" + c.id + "': 'delivery' has no effect: plugin '" + c.plugin +
                        "' is not a destination";
            d.hint = "remove 'delivery', or use a destination plugin";
            out.push_back(std::move(d));
        }
        if (!plugins.contains(c.plugin) && !broken.contains(c.plugin)) {
            try {
                plugins.emplace(c.plugin, prepare(*spec->config_spec));
            } catch (const std::exception& e) {
                broken.emplace(c.plugin, e.what());
            }
        }
        if (!broken.contains(c.plugin)) {
            const auto& pc = plugins.at(c.plugin);
            try {
                Diagnostics found;
                check_config(c, pc, found);
                check_secret_refs(c, pc, c.plugin, found);
                out.insert(out.end(), found.begin(), found.end());
            } catch (const std::exception& e) {
                // e.g. an invalid regular expression, which valijson only compiles when used.
                broken.emplace(c.plugin, e.what());
            }
        }
        if (broken.contains(c.plugin)) broken_files[c.plugin].push_back(c.file.string());
    }
    for (const auto& [plugin, why] : broken)
        out.push_back(invalid_spec(plugin, why, broken_files[plugin]));
    sort_diagnostics(out);
    detail::redact_all(out);
    return out;
}

}  // namespace cdphub::manifest

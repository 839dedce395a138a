// Loading a manifest folder: hub.json and connectors/*.json, each checked against the embedded
// schema, then turned into HubConfig and ConnectorManifest; the profile engine's manifests are
// loaded by profile_loader.cpp. Every problem becomes a Diagnostic and loading goes on, so that
// one run shows the admin everything to fix.
#include <algorithm>
#include <cctype>
#include <system_error>

#include "manifest/json_util.hpp"
#include "manifest/load_util.hpp"
#include "manifest/manifest.hpp"
#include "manifest/parse.hpp"
#include "manifest/schemas.hpp"

namespace cdphub::manifest {

namespace detail {

namespace fs = std::filesystem;

Diagnostic problem(std::string file, std::string message, std::string hint) {
    Diagnostic d;
    d.file = std::move(file);
    d.message = std::move(message);
    d.hint = std::move(hint);
    return d;
}

Diagnostic warning(std::string file, std::string message, std::string hint) {
    auto d = problem(std::move(file), std::move(message), std::move(hint));
    d.severity = Diagnostic::Severity::warning;
    return d;
}

Diagnostic problem_at(const std::string& file, const JsonLocator* locator, std::string pointer,
                      std::string message, bool key) {
    auto d = problem(file, std::move(message));
    d.pointer = std::move(pointer);
    if (locator != nullptr) {
        std::tie(d.line, d.column) =
            key ? locator->locate_key(d.pointer) : locator->locate(d.pointer);
    }
    return d;
}

bool has_error_at(const Diagnostics& diags, std::string_view pointer) {
    return std::any_of(diags.begin(), diags.end(), [&](const Diagnostic& d) {
        return d.is_error() && pointer_within(d.pointer, pointer);
    });
}

fs::path resolve(const fs::path& root, const std::string& p) {
    fs::path path(p);
    return (path.is_relative() ? root / path : path).lexically_normal();
}

std::chrono::milliseconds parse_duration(std::string_view s) {
    size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])) != 0) ++digits;
    int64_t n = std::stoll(std::string(s.substr(0, digits)));
    std::string_view unit = s.substr(digits);
    int64_t scale = unit == "ms"  ? 1
                    : unit == "s" ? 1000
                    : unit == "m" ? 60'000
                    : unit == "h" ? 3'600'000
                                  : 86'400'000;
    return std::chrono::milliseconds(n * scale);
}

Schedule parse_schedule(const Json& value) {
    Schedule s;
    if (value.is_object()) {
        s.kind = Schedule::Kind::interval;
        s.every = std::chrono::duration_cast<std::chrono::seconds>(
            parse_duration(value["every"].get<std::string>()));
    }
    return s;
}

Diagnostics check_file(const SchemaChecker& schema, const ParsedFile& parsed,
                       const std::string& shown, HideFn hidden) {
    CheckTarget target{shown, parsed.locator.get(), "", std::move(hidden)};
    auto out = schema.check(*parsed.doc, target);
    for (const auto& pointer : parsed.locator->duplicate_keys()) {
        Diagnostic d =
            problem(shown, "", "the JSON parser keeps only the last one; remove the other");
        d.pointer = pointer;
        auto key = unescape_token(pointer.substr(pointer.rfind('/') + 1));
        d.message = "key '" + key + "' appears more than once in the same object";
        std::tie(d.line, d.column) = parsed.locator->locate_key(pointer);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<fs::path> list_manifest_folder(const fs::path& dir, std::string_view what,
                                           const std::string& missing,
                                           const std::string& missing_hint, Diagnostics& out) {
    std::string name(what.substr(0, what.find('/')));
    std::error_code ec;
    auto status = fs::status(dir, ec);
    if (!fs::exists(status)) {
        if (!missing.empty()) out.push_back(warning(dir.string(), missing, missing_hint));
        return {};
    }
    if (!fs::is_directory(status)) {
        out.push_back(problem(dir.string(), name + " is not a folder"));
        return {};
    }
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        entries.push_back(*it);
    }
    if (ec) {
        out.push_back(problem(dir.string(), "cannot list the folder: " + ec.message()));
        return {};
    }
    std::sort(entries.begin(), entries.end());
    std::vector<fs::path> files;
    for (const auto& entry : entries) {
        auto filename = entry.path().filename().string();
        if (filename.starts_with(".")) continue;  // editor and VCS files
        if (entry.is_directory(ec)) {
            out.push_back(warning(entry.path().string(),
                                  "ignored: subfolders of " + std::string(what) + " are not read"));
            continue;
        }
        if (entry.path().extension() != ".json") {
            out.push_back(warning(
                entry.path().string(), "ignored: only .json files are read in " + std::string(what),
                "rename it to end in .json, or move it out of " + std::string(what)));
            continue;
        }
        files.push_back(entry.path());
    }
    return files;
}

}  // namespace detail

namespace {

namespace fs = std::filesystem;
using detail::has_error_at;
using detail::Json;
using detail::parse_duration;
using detail::problem;
using detail::resolve;
using detail::warning;

// Secret references are not secrets, but a mistyped one may hold the secret itself (a value
// pasted where the variable name belongs), so diagnostics never echo them; nor a config that is
// not an object, which could be anything.
std::string hide_in_connector(std::string_view pointer, const Json& value) {
    if (detail::pointer_within(pointer, "/secrets")) {
        return detail::a_type(value) + " (not shown: secret references are never echoed)";
    }
    if (pointer == "/config") return detail::a_type(value) + " (not shown)";
    return "";
}

std::string hide_in_hub(std::string_view pointer, const Json& value) {
    if (detail::pointer_within(pointer, "/ingest_api/sources") ||
        detail::pointer_within(pointer, "/admin_api/token"))
        return detail::a_type(value) + " (not shown: secret references are never echoed)";
    return "";
}

IngestApiConfig read_ingest_api(const Json& j, const Diagnostics& diags) {
    IngestApiConfig c;
    auto ok = [&](const char* key) {
        return j.contains(key) && !has_error_at(diags, std::string("/ingest_api/") + key);
    };
    if (ok("listen")) {
        auto listen = j["listen"].get<std::string>();
        auto colon = listen.rfind(':');
        auto host = listen.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
        c.address = host == "localhost" ? "127.0.0.1" : host;
        c.port = std::stoi(listen.substr(colon + 1));
    }
    if (ok("sources")) {
        for (const auto& [source, entry] : j["sources"].items()) {
            const auto& ref = entry["write_key"];
            SecretRef r;
            r.source = ref.contains("env") ? SecretRef::Source::env : SecretRef::Source::file;
            r.location = ref.begin()->get<std::string>();
            c.write_keys.emplace(source, std::move(r));
        }
    }
    if (ok("threads")) c.threads = j["threads"].get<int>();
    if (ok("durability")) c.durability_full = j["durability"].get<std::string>() == "full";
    if (ok("max_queued_events")) c.max_queued_events = j["max_queued_events"].get<std::int64_t>();
    if (ok("max_backlog_events"))
        c.max_backlog_events = j["max_backlog_events"].get<std::int64_t>();
    if (ok("read_timeout")) c.read_timeout = parse_duration(j["read_timeout"].get<std::string>());
    if (ok("retry_after")) c.retry_after_seconds = j["retry_after"].get<int>();
    return c;
}

HubConfig load_hub(const fs::path& root, const fs::path& abs_root, Diagnostics& out) {
    HubConfig hub;
    hub.data_dir = resolve(abs_root, "../var");
    fs::path file = root / "hub.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) return hub;
    hub.file = file;
    auto shown = file.string();
    auto parsed = detail::read_json_file(file, shown, out);
    if (!parsed.doc) return hub;
    auto diags = detail::check_file(detail::hub_schema(), parsed, shown, hide_in_hub);
    const Json& doc = *parsed.doc;
    if (doc.is_object()) {
        if (doc.contains("plugin_dirs") && !has_error_at(diags, "/plugin_dirs")) {
            for (size_t i = 0; i < doc["plugin_dirs"].size(); ++i) {
                auto dir = resolve(abs_root, doc["plugin_dirs"][i].get<std::string>());
                if (!fs::is_directory(dir, ec)) {
                    auto d = warning(shown, "plugin folder " + dir.string() + " does not exist");
                    d.pointer = "/plugin_dirs/" + std::to_string(i);
                    std::tie(d.line, d.column) = parsed.locator->locate(d.pointer);
                    diags.push_back(std::move(d));
                }
                hub.plugin_dirs.push_back(std::move(dir));
            }
        }
        if (doc.contains("data_dir") && !has_error_at(diags, "/data_dir")) {
            hub.data_dir = resolve(abs_root, doc["data_dir"].get<std::string>());
        }
        if (doc.contains("log") && !has_error_at(diags, "/log")) {
            hub.log_level = doc["log"].value("level", "");
            hub.log_format = doc["log"].value("format", "");
        }
        if (doc.contains("ingest_api") && doc["ingest_api"].is_object() &&
            !has_error_at(diags, "/ingest_api"))
            hub.ingest_api = read_ingest_api(doc["ingest_api"], diags);
        if (doc.contains("cleansing") && doc["cleansing"].is_object() &&
            !has_error_at(diags, "/cleansing")) {
            const auto& c = doc["cleansing"];
            hub.default_phone_region = c.value("default_phone_region", hub.default_phone_region);
            hub.strict_phone_validation =
                c.value("strict_phone_validation", hub.strict_phone_validation);
        }
        if (doc.contains("admin_api") && doc["admin_api"].is_object() &&
            !has_error_at(diags, "/admin_api")) {
            const auto& a = doc["admin_api"];
            AdminApiConfig c;
            const auto& ref = a["token"];
            c.token.source = ref.contains("env") ? SecretRef::Source::env : SecretRef::Source::file;
            c.token.location = ref.begin()->get<std::string>();
            if (a.contains("metrics"))
                c.metrics_public = a["metrics"].get<std::string>() == "public";
            hub.admin_api = c;
        }
    }
    out.insert(out.end(), diags.begin(), diags.end());
    return hub;
}

void read_connector_fields(const Json& doc, const Diagnostics& diags, const fs::path& abs_root,
                           ConnectorManifest& c) {
    auto ok = [&](const char* key) {
        return doc.contains(key) && !has_error_at(diags, std::string("/") + key);
    };
    c.id = doc["id"].get<std::string>();
    c.plugin = doc["plugin"].get<std::string>();
    if (doc.contains("config")) c.config = doc["config"];
    if (ok("enabled")) c.enabled = doc["enabled"].get<bool>();
    if (ok("description")) c.description = doc["description"].get<std::string>();
    if (doc.contains("secrets") && doc["secrets"].is_object()) {
        for (const auto& [field, ref] : doc["secrets"].items()) {
            if (has_error_at(diags, detail::pointer_join("/secrets", field))) continue;
            SecretRef r;
            r.source = ref.contains("env") ? SecretRef::Source::env : SecretRef::Source::file;
            r.location = ref.begin()->get<std::string>();
            c.secrets.emplace(field, std::move(r));
        }
    }
    if (ok("schedule")) c.schedule = detail::parse_schedule(doc["schedule"]);
    if (ok("plugin_sha256")) {
        std::string pin = doc["plugin_sha256"].get<std::string>();
        for (auto& ch : pin) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        c.plugin_sha256 = std::move(pin);
    }
    if (ok("plugin_file")) c.plugin_file = resolve(abs_root, doc["plugin_file"].get<std::string>());
    if (ok("rate_limit")) {
        RateLimitOverride r;
        r.requests = doc["rate_limit"]["requests"].get<int>();
        r.per = parse_duration(doc["rate_limit"]["per"].get<std::string>());
        c.rate_limit = r;
    }
    if (ok("delivery")) {
        const auto& d = doc["delivery"];
        DeliverySettings s;
        if (d.contains("max_attempts")) s.max_attempts = d["max_attempts"].get<int>();
        if (d.contains("breaker_after")) s.breaker_after = d["breaker_after"].get<int>();
        if (d.contains("batch_records")) s.batch_records = d["batch_records"].get<std::size_t>();
        if (d.contains("backoff")) {
            const auto& b = d["backoff"];
            if (b.contains("base")) s.backoff_base = parse_duration(b["base"].get<std::string>());
            if (b.contains("max")) s.backoff_max = parse_duration(b["max"].get<std::string>());
        }
        c.delivery = s;
    }
}

std::optional<ConnectorManifest> load_connector(const fs::path& file, const fs::path& abs_root,
                                                Diagnostics& out,
                                                std::map<std::string, fs::path>& declared) {
    auto shown = file.string();
    auto parsed = detail::read_json_file(file, shown, out);
    if (!parsed.doc) return std::nullopt;
    const Json& doc = *parsed.doc;
    auto diags = detail::check_file(detail::connector_schema(), parsed, shown, hide_in_connector);
    // A field given twice would have the secret silently override the clear text (or the
    // reverse, depending on who reads it): make the admin choose.
    if (doc.is_object() && doc.contains("config") && doc["config"].is_object() &&
        doc.contains("secrets") && doc["secrets"].is_object()) {
        for (const auto& [field, ref] : doc["secrets"].items()) {
            if (!doc["config"].contains(field)) continue;
            auto d = problem(shown, "field '" + field + "' is given both in config and in secrets",
                             "remove it from config; the secret reference supplies it");
            d.pointer = detail::pointer_join("/secrets", field);
            std::tie(d.line, d.column) = parsed.locator->locate_key(d.pointer);
            diags.push_back(std::move(d));
        }
    }
    // A backoff that starts above its ceiling would be clamped silently: say which one to change.
    if (doc.is_object() && doc.contains("delivery") && !has_error_at(diags, "/delivery")) {
        const auto& b = doc["delivery"].value("backoff", Json::object());
        if (b.contains("base") && b.contains("max") &&
            parse_duration(b["base"].get<std::string>()) >
                parse_duration(b["max"].get<std::string>())) {
            auto d = problem(shown, "delivery.backoff.base is longer than delivery.backoff.max",
                             "make base the first (shorter) delay and max the longest one");
            d.pointer = "/delivery/backoff/base";
            std::tie(d.line, d.column) = parsed.locator->locate_key(d.pointer);
            diags.push_back(std::move(d));
        }
    }
    out.insert(out.end(), diags.begin(), diags.end());
    if (doc.is_object() && doc.contains("id") && !has_error_at(diags, "/id")) {
        declared.emplace(doc["id"].get<std::string>(), file);
    }
    // Usable for the later checks as long as it says who it is and what to configure.
    if (!doc.is_object() || has_error_at(diags, "/id") || has_error_at(diags, "/plugin") ||
        has_error_at(diags, "/config")) {
        return std::nullopt;
    }
    ConnectorManifest c;
    c.file = file;
    c.locator = parsed.locator;
    read_connector_fields(doc, diags, abs_root, c);
    return c;
}

// Instance ids of every file that declares a valid one, even if the file has other problems (it
// is then left out of set.connectors), so that references to it are not reported as unknown.
std::map<std::string, fs::path> load_connectors(const fs::path& root, const fs::path& abs_root,
                                                ManifestSet& set) {
    auto& out = set.diagnostics;
    std::map<std::string, fs::path> declared;
    auto files =
        detail::list_manifest_folder(root / "connectors", "connectors/",
                                     "no connectors folder: no connector instances are defined",
                                     "create connectors/ with one .json file per instance", out);
    std::map<std::string, fs::path> first_file;  // instance id -> where it was declared first
    for (const auto& file : files) {
        auto c = load_connector(file, abs_root, out, declared);
        if (!c) continue;
        auto [it, fresh] = first_file.emplace(c->id, c->file);
        if (!fresh) {
            auto d = problem(c->file.string(),
                             "instance id '" + c->id + "' is also used by " + it->second.string(),
                             "instance ids must be unique in the manifest folder; rename one");
            d.pointer = "/id";
            std::tie(d.line, d.column) = c->locator->locate("/id");
            out.push_back(std::move(d));
            continue;
        }
        set.connectors.push_back(std::move(*c));
    }
    return declared;
}

// What the top of a manifest folder may hold. Anything else is left alone (a README, secrets/),
// but a near miss ("segment/", "identity.jsn") is most likely a mistake: warn about it. schema/
// and secrets/ are listed so that their own near misses ("schemas/") are not taken for others.
constexpr const char* kKnownEntries[] = {"hub.json", "identity.json", "connectors", "traits",
                                         "segments", "activations",   "schema",     "secrets"};

void warn_about_near_misses(const fs::path& root, Diagnostics& out) {
    std::error_code ec;
    std::vector<std::string> known(std::begin(kKnownEntries), std::end(kKnownEntries));
    std::vector<fs::path> names;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        names.push_back(it->path());
    }
    std::sort(names.begin(), names.end());
    for (const auto& path : names) {
        auto name = path.filename().string();
        if (name.starts_with(".") || std::find(known.begin(), known.end(), name) != known.end()) {
            continue;
        }
        auto near = detail::did_you_mean(name, known);
        if (near.empty() || near == "schema" || near == "secrets") continue;
        out.push_back(warning(path.string(), "ignored: the hub does not read '" + name + "'",
                              "did you mean '" + near + "'?"));
    }
}

}  // namespace

const ConnectorManifest* ManifestSet::find(std::string_view instance_id) const {
    for (const auto& c : connectors) {
        if (c.id == instance_id) return &c;
    }
    return nullptr;
}

ManifestSet load(const fs::path& root) {
    ManifestSet set;
    set.root = root;
    set.identity = IdentityRules::defaults();  // also when the folder cannot be read
    std::error_code ec;
    auto status = fs::status(root, ec);
    if (!fs::exists(status)) {
        set.diagnostics.push_back(problem(root.string(), "manifest folder not found",
                                          "pass the folder that holds hub.json and connectors/"));
        return set;
    }
    if (!fs::is_directory(status)) {
        set.diagnostics.push_back(problem(root.string(), "not a folder",
                                          "pass the folder that holds hub.json and connectors/"));
        return set;
    }
    fs::path abs_root = fs::absolute(root, ec).lexically_normal();
    if (!abs_root.has_filename() && abs_root.has_parent_path()) abs_root = abs_root.parent_path();
    set.hub = load_hub(root, abs_root, set.diagnostics);
    auto connector_ids = load_connectors(root, abs_root, set);
    detail::load_profile_manifests(root, connector_ids, set);
    warn_about_near_misses(root, set.diagnostics);
    sort_diagnostics(set.diagnostics);
    detail::redact_all(set.diagnostics);
    return set;
}

}  // namespace cdphub::manifest

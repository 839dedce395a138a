#include "admin/admin_api.hpp"

#include <cdphub/json_depth.hpp>

#include <openssl/crypto.h>

#include <cdphub_plugins/web.hpp>
#include <charconv>
#include <map>

#include "admin/json_views.hpp"
#include "admin/metrics.hpp"
#include "delivery/sqlite_delivery_store.hpp"
#include "logging/logging.hpp"
#include "manifest/diagnostic_json.hpp"
#include "pipeline/rejected_replay.hpp"
#include "secrets/secrets.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::admin {

using nlohmann::json;
using server::WebhookReply;

// A request, taken apart: method, path segments after /admin/v1, query parameters, body.
struct AdminApi::Request {
    std::string method;
    std::vector<std::string> parts;
    std::map<std::string, std::string, std::less<>> query;
    std::string body;

    std::string param(std::string_view key, std::string fallback = {}) const {
        auto it = query.find(key);
        return it == query.end() ? fallback : it->second;
    }
};

namespace {

// Thrown by handlers for an answer other than 200; turned into the error body.
struct HttpError {
    int status;
    std::string code;
    std::string message;
};

WebhookReply reply_json(int status, const json& body) {
    return {status, "application/json", body.dump() + "\n"};
}

WebhookReply error_reply(int status, std::string_view code, std::string message) {
    return reply_json(status, {{"error", {{"code", code}, {"message", std::move(message)}}}});
}

std::size_t limit_param(const AdminApi::Request& r, std::size_t fallback, std::size_t max) {
    auto text = r.param("limit");
    if (text.empty()) return fallback;
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v == 0 || v > max)
        throw HttpError{400, "bad_parameter",
                        "limit must be a whole number from 1 to " + std::to_string(max) +
                            ", not '" + text + "'"};
    return v;
}

std::int64_t int_param(const AdminApi::Request& r, std::string_view key, std::int64_t fallback) {
    auto text = r.param(key);
    if (text.empty()) return fallback;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size())
        throw HttpError{400, "bad_parameter",
                        std::string(key) + " must be a whole number, not '" + text + "'"};
    return v;
}

json body_object(const AdminApi::Request& r) {
    if (r.body.empty()) return json::object();
    if (json_text::exceeds_depth(r.body))
        throw HttpError{400, "bad_body",
                        "the request body nests deeper than " +
                            std::to_string(json_text::kMaxDepth) + " levels"};
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw HttpError{400, "bad_body", "the request body must be a JSON object"};
    return j;
}

void require_method(const AdminApi::Request& r, std::string_view method) {
    if (r.method != method)
        throw HttpError{405, "method_not_allowed", "use " + std::string(method) + " here"};
}

bool token_matches(std::string_view given, std::string_view token) {
    // Constant time in the token's content, so the answer's timing tells nothing about it.
    return given.size() == token.size() &&
           CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

std::string bearer(const plugin_host::WebhookRequest& r) {
    for (const auto& [k, v] : r.headers) {
        if (k.size() != 13 || strncasecmp(k.c_str(), "authorization", 13) != 0) continue;
        if (v.size() > 7 && strncasecmp(v.c_str(), "Bearer ", 7) == 0) return v.substr(7);
    }
    return {};
}

}  // namespace

AdminApi::AdminApi(AdminDeps deps, std::string token, bool metrics_public)
    : deps_(deps),
      token_(std::make_shared<const std::string>(std::move(token))),
      metrics_public_(metrics_public) {}

void AdminApi::set_credentials(std::string token, bool metrics_public) {
    token_.store(std::make_shared<const std::string>(std::move(token)));
    metrics_public_.store(metrics_public);
}

WebhookReply AdminApi::handle(const plugin_host::WebhookRequest& http) {
    const bool metrics = http.path == "/metrics";
    if (!(metrics && metrics_public_.load()) && !token_matches(bearer(http), *token_.load())) {
        auto r = error_reply(401, "unauthorized",
                             "send the admin token (hub.json admin_api.token) as "
                             "'Authorization: Bearer <token>'");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cdphub admin\"");
        return r;
    }
    try {
        if (metrics) {
            if (http.method != "GET" && http.method != "HEAD")
                return error_reply(405, "method_not_allowed", "use GET here");
            return {200, "text/plain; version=0.0.4; charset=utf-8",
                    render_metrics(deps_.hub, deps_.store)};
        }
        Request r;
        r.method = http.method;
        r.body = http.body;
        std::string_view path(http.path);
        if (!path.starts_with("/admin/v1/") && path != "/admin/v1")
            throw HttpError{404, "not_found", "the admin API lives under /admin/v1/"};
        path.remove_prefix(std::min<std::size_t>(path.size(), 10));
        while (!path.empty()) {
            auto slash = path.find('/');
            auto part = path.substr(0, slash);
            if (!part.empty()) r.parts.push_back(plugins::url_decode(part));
            if (slash == std::string_view::npos) break;
            path.remove_prefix(slash + 1);
        }
        for (auto& [k, v] : plugins::form_pairs(http.query)) r.query[k] = v;
        return route(r);
    } catch (const HttpError& e) {
        return error_reply(e.status, e.code, e.message);
    } catch (const std::exception& e) {
        logging::get("admin-api")
            ->error("{} {}: {}", http.method, http.path, secrets::redact(e.what()));
        return error_reply(500, "internal", secrets::redact(e.what()));
    }
}

namespace {

json connector_json(const ConnectorInfo& c, const std::vector<scheduler::TaskStatus>& tasks,
                    store::SqliteProfileStore& store) {
    json out = {{"id", c.id},
                {"plugin", c.plugin},
                {"plugin_version", c.plugin_version},
                {"source", c.source},
                {"destination", c.destination},
                {"schedule", c.schedule},
                {"description", c.description},
                {"sync", nullptr}};
    for (const auto& t : tasks)
        if (t.name == c.id) out["sync"] = to_json(t);
    if (c.source) {
        auto cursor = store.cursor(c.id);
        auto parsed = cursor ? json::parse(*cursor, nullptr, false) : json(nullptr);
        out["cursor"] = parsed.is_discarded() ? json(*cursor) : parsed;
        out["records"] = store.counts(c.id).records;
        out["rejected"] = store.counts(c.id).rejected_records;
    }
    return out;
}

}  // namespace

WebhookReply AdminApi::route(const Request& r) {
    const auto& p = r.parts;
    const auto n = p.size();
    auto& store = deps_.store;
    auto is = [&](std::initializer_list<std::string_view> shape) {
        if (shape.size() != n) return false;
        std::size_t i = 0;
        for (auto s : shape) {
            if (s != "*" && s != p[i]) return false;
            ++i;
        }
        return true;
    };

    if (is({"status"})) {
        require_method(r, "GET");
        auto c = store.profile_counts();
        auto sc = store.counts();
        return reply_json(200, {{"schema_version", store.schema_version()},
                                {"profiles",
                                 {{"live", c.live},
                                  {"merged", c.merged},
                                  {"identifiers", c.identifiers},
                                  {"merges", c.merges},
                                  {"unmerges", c.unmerges}}},
                                {"records", sc.records},
                                {"rejected_records", sc.rejected_records},
                                {"connectors", deps_.hub.connectors().size()}});
    }

    // Connectors and their sync runs.
    if (is({"connectors"})) {
        require_method(r, "GET");
        auto tasks = deps_.hub.tasks();
        json out = json::array();
        for (const auto& c : deps_.hub.connectors()) out.push_back(connector_json(c, tasks, store));
        return reply_json(200, {{"connectors", out}});
    }
    if (is({"connectors", "*"}) || is({"connectors", "*", "sync"})) {
        const ConnectorInfo* found = nullptr;
        auto all = deps_.hub.connectors();
        for (const auto& c : all)
            if (c.id == p[1]) found = &c;
        if (found == nullptr)
            throw HttpError{404, "not_found",
                            "no enabled connector instance '" + p[1] +
                                "' (GET /admin/v1/connectors lists them)"};
        if (n == 2) {
            require_method(r, "GET");
            auto out = connector_json(*found, deps_.hub.tasks(), store);
            out["recent_runs"] = json::array();
            for (const auto& run : store::SqliteOperations(store).sync_runs(p[1], 10))
                out["recent_runs"].push_back(to_json(run));
            return reply_json(200, out);
        }
        require_method(r, "POST");
        if (!found->source || !deps_.hub.run_now(found->id))
            throw HttpError{409, "not_a_source",
                            "'" + p[1] + "' is not a source the hub can read on demand"};
        return reply_json(
            202,
            {{"queued", true}, {"connector", p[1]}, {"see", "/admin/v1/sync-runs?source=" + p[1]}});
    }
    if (is({"sync-runs"})) {
        require_method(r, "GET");
        auto source = r.param("source");
        json out = json::array();
        for (const auto& run : store::SqliteOperations(store).sync_runs(
                 source.empty() ? std::nullopt : std::optional<std::string_view>(source),
                 limit_param(r, 50, 1000)))
            out.push_back(to_json(run));
        return reply_json(200, {{"runs", out}});
    }

    // Profiles: by id or by any identifier.
    if (is({"profiles"}) || is({"profiles", "*"})) {
        require_method(r, "GET");
        std::optional<store::ProfileId> id;
        if (n == 2) {
            std::int64_t v = 0;
            auto [q, ec] = std::from_chars(p[1].data(), p[1].data() + p[1].size(), v);
            if (ec != std::errc() || q != p[1].data() + p[1].size())
                throw HttpError{400, "bad_parameter",
                                "a profile id is a number; to look up by identifier use "
                                "/admin/v1/profiles?identifier=TYPE:VALUE"};
            id = v;
        } else {
            auto who = r.param("identifier");
            auto colon = who.find(':');
            if (colon == std::string::npos || colon == 0)
                throw HttpError{400, "bad_parameter",
                                "give identifier=TYPE:VALUE (e.g. email:ann@shop.io), "
                                "URL-encoded"};
            std::string type = who.substr(0, colon), value = who.substr(colon + 1);
            if (auto stored = deps_.normalizer.lookup_form(type, value))
                std::tie(type, value) = *stored;
            id = store.find_profile(type, value);
            if (!id) throw HttpError{404, "not_found", "no profile holds " + type + ":" + value};
        }
        auto d = store.profile_details(*id);
        if (!d) throw HttpError{404, "not_found", "there is no profile " + std::to_string(*id)};
        return reply_json(200, to_json(*d));
    }

    // Segments.
    if (is({"segments"})) {
        require_method(r, "GET");
        json out = json::array();
        for (const auto& s : store.segments())
            out.push_back({{"name", s.name},
                           {"expression", s.expression},
                           {"members", store.members(s.name).size()}});
        return reply_json(200, {{"segments", out}});
    }
    if (is({"segments", "preview"})) {
        require_method(r, "POST");
        auto b = body_object(r);
        if (!b.contains("expression") || !b["expression"].is_string())
            throw HttpError{400, "bad_body",
                            R"(give {"expression": "<segment expression>", "limit": 20})"};
        std::size_t limit = 20;
        if (b.contains("limit")) {
            if (!b["limit"].is_number_unsigned() || b["limit"].get<std::size_t>() > 1000)
                throw HttpError{400, "bad_body", "limit must be a whole number up to 1000"};
            limit = b["limit"].get<std::size_t>();
        }
        try {
            std::lock_guard lock(engine_mu_);
            auto res =
                deps_.segments.preview(b["expression"].get<std::string>(), limit,
                                       store::format_timestamp(std::chrono::system_clock::now()));
            return reply_json(200, {{"count", res.count},
                                    {"of_live_profiles", store.profile_counts().live},
                                    {"sample", res.sample},
                                    {"saved", false}});
        } catch (const pipeline::DefinitionError& e) {
            throw HttpError{400, "bad_expression", e.what()};
        }
    }
    if (is({"segments", "*"})) {
        require_method(r, "GET");
        for (const auto& s : store.segments()) {
            if (s.name != p[1]) continue;
            auto members = store.members(s.name);
            const auto limit = limit_param(r, 100, 10000);
            json sample = json::array();
            for (std::size_t i = 0; i < members.size() && i < limit; ++i)
                sample.push_back(members[i]);
            return reply_json(200, {{"name", s.name},
                                    {"expression", s.expression},
                                    {"members", members.size()},
                                    {"sample", sample}});
        }
        throw HttpError{404, "not_found", "no segment '" + p[1] + "'"};
    }

    // Activations: status, run now, dead letters and their replay.
    if (is({"activations"})) {
        require_method(r, "GET");
        delivery::SqliteDeliveryStore ds(store);
        json bindings = json::array(), destinations = json::object();
        for (const auto& b : ds.binding_status()) {
            bindings.push_back(to_json(b));
            const auto& d = b.counts.destination;
            if (!destinations.contains(d)) destinations[d] = to_json(ds.destination_status(d));
        }
        return reply_json(200, {{"activations", bindings}, {"destinations", destinations}});
    }
    if (is({"activations", "*", "sync"})) {
        require_method(r, "POST");
        if (deps_.hub.run_now("activation " + p[1]))
            return reply_json(202, {{"queued", true}, {"activation", p[1]}});
        try {
            // No schedule for it in the daemon (manual): plan the diff here; the destination's
            // delivery worker sends what it queues.
            auto d = store.plan_diff(p[1]);
            return reply_json(202, {{"queued", true},
                                    {"activation", p[1]},
                                    {"diff",
                                     {{"id", d.diff_id},
                                      {"entered", d.entered},
                                      {"exited", d.exited},
                                      {"changed", d.changed}}}});
        } catch (const store::UnknownName& e) {
            throw HttpError{404, "not_found", e.what()};
        }
    }
    if (is({"activations", "*", "failures"}) || is({"activations", "*", "replay"})) {
        delivery::SqliteDeliveryStore ds(store);
        try {
            if (p[2] == "failures") {
                require_method(r, "GET");
                json out = json::array();
                for (const auto& f : ds.failures(p[1], limit_param(r, 100, 10000)))
                    out.push_back(to_json(f));
                return reply_json(200, {{"failures", out}});
            }
            require_method(r, "POST");
            auto res = ds.replay_dead(p[1]);
            return reply_json(200, {{"requeued", res.requeued}, {"superseded", res.superseded}});
        } catch (const store::UnknownName& e) {
            throw HttpError{404, "not_found", e.what()};
        }
    }

    // Rejected records and their replay.
    if (is({"rejected"})) {
        require_method(r, "GET");
        auto source = r.param("source");
        auto list = store.list_rejected(
            source.empty() ? std::nullopt : std::optional<std::string_view>(source),
            int_param(r, "after", 0), limit_param(r, 100, 10000));
        std::vector<std::int64_t> ids;
        for (const auto& x : list) ids.push_back(x.id);
        std::map<std::int64_t, json> marks;
        for (auto& m : store::SqliteOperations(store).replay_marks(ids))
            marks[m.rejection_id] = {{"outcome", m.outcome}, {"at", m.at}};
        json out = json::array();
        for (const auto& x : list) {
            auto j = to_json(x);
            j["replayed"] = marks.contains(x.id) ? marks[x.id] : json(nullptr);
            out.push_back(std::move(j));
        }
        return reply_json(200, {{"rejected", out},
                                {"next_after", list.empty() ? json(nullptr) : json(ids.back())}});
    }
    if (is({"rejected", "replay"})) {
        require_method(r, "POST");
        auto b = body_object(r);
        std::optional<std::string> source;
        std::vector<std::int64_t> ids;
        if (b.contains("source")) {
            if (!b["source"].is_string())
                throw HttpError{400, "bad_body", "source must be a string"};
            source = b["source"].get<std::string>();
        }
        if (b.contains("ids")) {
            if (!b["ids"].is_array() || b["ids"].empty())
                throw HttpError{400, "bad_body", "ids must be a non-empty array of numbers"};
            for (const auto& v : b["ids"]) {
                if (!v.is_number_integer())
                    throw HttpError{400, "bad_body", "ids must be a non-empty array of numbers"};
                ids.push_back(v.get<std::int64_t>());
            }
        }
        std::size_t limit = 1000;
        if (b.contains("limit")) {
            if (!b["limit"].is_number_unsigned())
                throw HttpError{400, "bad_body", "limit must be a whole number"};
            limit = std::min<std::size_t>(b["limit"].get<std::size_t>(), 100000);
        }
        std::lock_guard lock(engine_mu_);
        store::SqliteOperations ops(store);
        auto res = pipeline::replay_rejected(deps_.ingestor, ops, source, ids, limit);
        if (!res.changed_profiles.empty())
            deps_.segments.on_changed(res.changed_profiles,
                                      store::format_timestamp(std::chrono::system_clock::now()));
        return reply_json(200, {{"considered", res.considered},
                                {"accepted", res.accepted},
                                {"duplicates", res.duplicates},
                                {"still_rejected", res.still_rejected}});
    }

    if (is({"manifests", "validate"})) {
        require_method(r, "POST");
        auto diags = deps_.hub.validate_manifests();
        json out = json::array();
        for (const auto& d : diags) out.push_back(manifest::diagnostic_json(d));
        return reply_json(200, {{"valid", !has_errors(diags)}, {"problems", out}});
    }

    throw HttpError{404, "not_found", "no such admin route; see docs/admin-api.yaml for the list"};
}

}  // namespace cdphub::admin

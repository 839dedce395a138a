#include "plugin_host/connector.hpp"

#include "logging/logging.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::plugin_host {
namespace {

cdphub_string str(std::string_view s) {
    return cdphub_string{s.data(), s.size()};
}

}  // namespace

Connector::Connector(std::shared_ptr<const PluginLibrary> plugin, HostOptions options)
    : plugin_(std::move(plugin)) {
    context_.now_ms = std::move(options.now_ms);
    context_.http = std::make_unique<http::Client>(options.http);
}

Connector::~Connector() {
    if (instance_ == nullptr) return;
    try {
        plugin_->descriptor().destroy(instance_);
    } catch (...) {
        if (context_.log) context_.log->error("plugin threw from destroy(); ignored");
    }
}

// Runs one plugin function and turns whatever happens into a CallStatus.
template <class F>
CallStatus Connector::invoke(cdphub_call& call, const char* what, F&& f) {
    call.ctx = &context_;
    call.cancellation = &cancellation_;
    cdphub_status raw = CDPHUB_FATAL;
    try {
        raw = f();
    } catch (const std::exception& e) {
        return CallStatus{StatusCode::fatal, std::nullopt,
                          std::string("plugin '") + plugin_->info().id +
                              "' threw an exception from " + what +
                              " (a plugin bug: exceptions must not cross the C ABI): " + e.what()};
    } catch (...) {
        return CallStatus{StatusCode::fatal, std::nullopt,
                          std::string("plugin '") + plugin_->info().id +
                              "' threw an exception from " + what +
                              " (a plugin bug: exceptions must not cross the C ABI)"};
    }
    CallStatus st;
    st.code = status_from_abi(raw);
    if (call.status_set) {
        st.retry_after = call.status.retry_after;
        st.message = call.status.message;
        // The return value is the status (plugin.h), except that a fault the host found (a bad
        // emit, a failed store) outranks an OK the plugin returned regardless.
        if (st.code == StatusCode::ok) {
            st = call.host_fault ? call.status : CallStatus{};
        }
    }
    if (st.code == StatusCode::fatal && static_cast<int32_t>(st.code) != raw && st.message.empty())
        st.message = "plugin returned unknown status " + std::to_string(raw);
    if (st.code == StatusCode::invalid_record && std::string_view(what) != "write") {
        // invalid_record only makes sense per record; as a call result it means fatal.
        st.code = StatusCode::fatal;
    }
    if (!st.ok() && st.message.empty())
        st.message = std::string(what) + " failed without a message (plugin '" +
                     plugin_->info().id + "' gave no detail)";
    return st;
}

Connector::CreateResult Connector::create(std::shared_ptr<const PluginLibrary> plugin,
                                          std::string instance_id, const nlohmann::json& config,
                                          std::map<std::string, std::string, std::less<>> secrets,
                                          HostOptions options) {
    if (!plugin) return CallStatus{StatusCode::config_error, std::nullopt, "no such plugin"};
    std::unique_ptr<Connector> c(new Connector(plugin, std::move(options)));
    c->context_.instance_id = instance_id;
    c->context_.log = logging::get("plugin." + instance_id);
    c->context_.secrets = std::move(secrets);
    // A plugin always receives a JSON object, even when the manifest gave no config.
    std::string text = config.is_object() ? config.dump() : "{}";
    cdphub_call call;
    cdphub_instance* inst = nullptr;
    auto st = c->invoke(call, "create", [&] {
        return plugin->descriptor().create(host_api(), &c->context_, &call, str(text), &inst);
    });
    if (!st.ok()) return st;
    if (inst == nullptr)
        return CallStatus{
            StatusCode::fatal, std::nullopt,
            "plugin '" + plugin->info().id +
                "' reported success from create but returned no instance (plugin bug)"};
    c->instance_ = inst;
    return c;
}

CallStatus Connector::check() {
    cdphub_call call;
    return invoke(call, "check", [&] { return plugin_->descriptor().check(instance_, &call); });
}

ReadResult Connector::read(RecordSink& sink) {
    if (plugin_->descriptor().read == nullptr)
        return {CallStatus{StatusCode::unsupported, std::nullopt, "plugin is not a source"}, 0};
    cdphub_call call;
    call.sink = &sink;
    auto st = invoke(call, "read", [&] { return plugin_->descriptor().read(instance_, &call); });
    return {st, call.records_emitted};
}

WriteResult Connector::write(const nlohmann::json& batch) {
    return write(batch.dump(), batch.is_array() ? batch.size() : 0);
}

WriteResult Connector::write(std::string_view batch_json, std::size_t records) {
    WriteResult result;
    if (plugin_->descriptor().write == nullptr) {
        result.status =
            CallStatus{StatusCode::unsupported, std::nullopt, "plugin is not a destination"};
        return result;
    }
    result.records.resize(records);
    cdphub_call call;
    call.outcomes = &result.records;
    result.status = invoke(call, "write", [&] {
        return plugin_->descriptor().write(instance_, &call, str(batch_json));
    });
    // Unreported records share the batch's fate.
    for (auto& r : result.records)
        if (!r.reported) r.status = result.status;
    return result;
}

WebhookResult Connector::receive(const WebhookRequest& request, RecordSink& sink) {
    WebhookResult result;
    if (plugin_->descriptor().receive == nullptr) {
        result.status =
            CallStatus{StatusCode::unsupported, std::nullopt, "plugin takes no webhooks"};
        result.response = {true, 404, "text/plain", "no webhook here\n"};
        return result;
    }
    std::vector<cdphub_http_header> headers;
    for (const auto& [n, v] : request.headers) headers.push_back({str(n), str(v)});
    cdphub_webhook_request r{};
    r.struct_size = sizeof(r);
    r.method = str(request.method);
    r.path = str(request.path);
    r.query = str(request.query);
    r.headers = headers.data();
    r.header_count = headers.size();
    r.body = str(request.body);
    r.remote_address = str(request.remote_address);
    cdphub_call call;
    call.sink = &sink;
    result.status = invoke(call, "receive",
                           [&] { return plugin_->descriptor().receive(instance_, &call, &r); });
    result.records = call.records_emitted;
    result.response = call.response;
    if (!result.response.set) {
        int code = result.status.ok()                             ? 200
                   : result.status.code == StatusCode::auth_error ? 401
                   : is_transient(result.status.code)             ? 503
                                                                  : 400;
        result.response = {true, code, "text/plain", result.status.ok() ? "ok\n" : "error\n"};
    }
    return result;
}

InstantiateResult instantiate(PluginCatalog& catalog, const manifest::ConnectorManifest& m,
                              const std::filesystem::path& manifest_root, HostOptions options) {
    auto fail = [&](std::string message, std::string hint, std::string pointer = "") {
        Diagnostic d;
        d.file = m.file.string();
        d.pointer = std::move(pointer);
        d.message = "connector '" + m.id + "': " + secrets::redact(message);
        d.hint = std::move(hint);
        return d;
    };
    std::shared_ptr<const PluginLibrary> plugin;
    if (m.plugin_file) {
        auto file = m.plugin_file->is_relative() ? manifest_root / *m.plugin_file : *m.plugin_file;
        if (!catalog.inside_plugin_dirs(file))
            return fail(
                "plugin_file " + file.string() + " is outside every plugin directory",
                "copy the plugin into a plugin directory; the hub loads plugins only from there",
                "/plugin_file");
        plugin = catalog.load_file(file);
        if (!plugin)
            return fail("plugin_file " + file.string() + " could not be loaded",
                        "see the plugin errors above", "/plugin_file");
        if (plugin->info().id != m.plugin)
            return fail(
                "plugin_file provides plugin '" + plugin->info().id + "', not '" + m.plugin + "'",
                "fix plugin or plugin_file", "/plugin");
    } else {
        plugin = catalog.find(m.plugin);
        if (!plugin)
            return fail("no plugin with id '" + m.plugin + "' was loaded",
                        "run 'cdphub plugins' to see the loaded plugins and any that failed",
                        "/plugin");
    }
    if (m.plugin_sha256 && *m.plugin_sha256 != plugin->info().sha256)
        return fail("plugin file " + plugin->info().path.string() + " has SHA-256 " +
                        plugin->info().sha256 + " but the manifest pins " + *m.plugin_sha256,
                    "the plugin binary changed: verify where it came from, then update "
                    "plugin_sha256 (or restore the pinned build)",
                    "/plugin_sha256");

    nlohmann::json config = m.config;
    // Fields the plugin marks as paths are relative to the manifest folder, as admins read them,
    // not to wherever the hub happens to be started.
    if (auto props = plugin->info().config_spec.find("properties");
        props != plugin->info().config_spec.end() && props->is_object()) {
        for (const auto& [field, schema] : props->items()) {
            if (!schema.is_object() || !schema.value("x-cdphub-path", false)) continue;
            auto it = config.find(field);
            if (it == config.end() || !it->is_string()) continue;
            std::filesystem::path p = it->get<std::string>();
            if (p.is_relative()) *it = (manifest_root / p).lexically_normal().string();
        }
    }
    std::map<std::string, std::string, std::less<>> resolved;
    for (const auto& [field, ref] : m.secrets) {
        auto r = secrets::resolve(ref, manifest_root);
        if (!r.value)
            return fail("secret '" + field + "' (" + secrets::describe(ref) + "): " + r.error,
                        "set it before starting the hub", "/secrets/" + field);
        config[field] = *r.value;
        resolved[field] = *r.value;
    }

    // Rate limit: the manifest's override, else what the plugin declares for its vendor.
    if (m.rate_limit) {
        options.http.rate_limit = {m.rate_limit->requests, m.rate_limit->per};
    } else if (auto rl = plugin->info().capabilities.find("rate_limit");
               rl != plugin->info().capabilities.end() && rl->is_object()) {
        int requests = rl->value("requests", 0);
        double per_seconds = rl->value("per_seconds", 1.0);
        if (requests > 0 && per_seconds > 0)
            options.http.rate_limit = {
                requests, std::chrono::milliseconds(static_cast<int64_t>(per_seconds * 1000))};
    }

    auto created = Connector::create(plugin, m.id, config, std::move(resolved), std::move(options));
    if (auto* st = std::get_if<CallStatus>(&created))
        return fail(
            "plugin '" + plugin->info().id + "' refused the configuration: " + st->to_string(),
            st->code == StatusCode::auth_error ? "check the credentials"
                                               : "fix the connector's config");
    return std::get<std::unique_ptr<Connector>>(std::move(created));
}

}  // namespace cdphub::plugin_host

// The host services table. Every function is noexcept in spirit: a plugin may call them with
// anything (null pointers, invalid JSON, out-of-range indices) and the hub answers with a status
// instead of crashing or throwing into plugin frames.
#include <cdphub/json_depth.hpp>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "plugin_host/call.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::plugin_host {
namespace {

std::string_view view(cdphub_string s) {
    return s.data == nullptr ? std::string_view{} : std::string_view(s.data, s.size);
}
cdphub_string str(std::string_view s) {
    return cdphub_string{s.data(), s.size()};
}

std::optional<std::chrono::milliseconds> retry_after(int64_t ms) {
    if (ms < 0) return std::nullopt;
    return std::chrono::milliseconds(ms);
}

// Details of a service failure the plugin was told about through a return value: it may recover
// (retry, skip), so this only supplies the message if the plugin then fails without its own.
void detail(cdphub_call* call, StatusCode code, std::string message) {
    if (call == nullptr) return;
    call->status_set = true;
    call->status = CallStatus{code, std::nullopt, std::move(message)};
}

// A fault in how the plugin used a service (a plugin bug) or a failure to store its records: the
// call fails whatever the plugin returns afterwards.
void host_fault(cdphub_call* call, StatusCode code, std::string message) {
    detail(call, code, std::move(message));
    if (call != nullptr) call->host_fault = true;
}

void h_log(cdphub_context* ctx, int32_t level, cdphub_string message) noexcept {
    if (ctx == nullptr || !ctx->log) return;
    try {
        auto lvl = level <= CDPHUB_LOG_TRACE   ? spdlog::level::trace
                   : level == CDPHUB_LOG_DEBUG ? spdlog::level::debug
                   : level == CDPHUB_LOG_INFO  ? spdlog::level::info
                   : level == CDPHUB_LOG_WARN  ? spdlog::level::warn
                                               : spdlog::level::err;
        ctx->log->log(lvl, "{}", view(message));  // the sink redacts secrets
    } catch (...) {
    }
}

void h_set_status(cdphub_call* call, cdphub_status status, int64_t retry_after_ms,
                  cdphub_string message) noexcept {
    if (call == nullptr) return;
    try {
        call->status_set = true;
        call->status = CallStatus{status_from_abi(status), retry_after(retry_after_ms),
                                  std::string(view(message))};
    } catch (...) {
    }
}

cdphub_status h_emit(cdphub_call* call, cdphub_string records_json,
                     cdphub_string cursor_json) noexcept {
    if (call == nullptr) return CDPHUB_FATAL;
    try {
        if (call->sink == nullptr) {
            host_fault(call, StatusCode::fatal, "emit called outside read or receive");
            return CDPHUB_FATAL;
        }
        if (call->cancellation != nullptr && call->cancellation->requested())
            return CDPHUB_CANCELLED;
        auto text = view(records_json);
        if (json_text::exceeds_depth(text)) {
            host_fault(call, StatusCode::fatal,
                       "emit: records nest deeper than " + std::to_string(json_text::kMaxDepth) +
                           " levels; the batch is refused (fix the source data or the plugin)");
            return CDPHUB_FATAL;
        }
        auto records =
            text.empty() ? nlohmann::json::array() : nlohmann::json::parse(text, nullptr, false);
        if (records.is_discarded() || !records.is_array()) {
            host_fault(call, StatusCode::fatal,
                       "emit: records must be a JSON array of canonical records (plugin bug)");
            return CDPHUB_FATAL;
        }
        std::optional<std::string> cursor;
        if (cursor_json.size > 0) {
            auto c = view(cursor_json);
            if (nlohmann::json::parse(c, nullptr, false).is_discarded()) {
                host_fault(call, StatusCode::fatal,
                           "emit: the cursor is not valid JSON (plugin bug)");
                return CDPHUB_FATAL;
            }
            cursor = std::string(c);
        }
        size_t n = records.size();
        auto st = call->sink->commit(std::move(records), cursor);
        if (!st.ok()) {
            call->status_set = true;
            call->host_fault = true;
            call->status = st;
            return static_cast<cdphub_status>(st.code);
        }
        call->records_emitted += n;
        if (cursor) {
            call->cursor = *cursor;
            call->cursor_loaded = true;
        }
        return CDPHUB_OK;
    } catch (const std::exception& e) {
        host_fault(call, StatusCode::fatal, std::string("storing the batch failed: ") + e.what());
        return CDPHUB_FATAL;
    }
}

cdphub_string h_cursor(cdphub_call* call) noexcept {
    if (call == nullptr || call->sink == nullptr) return cdphub_string{nullptr, 0};
    try {
        if (!call->cursor_loaded) {
            call->cursor = call->sink->cursor();
            call->cursor_loaded = true;
        }
        return str(call->cursor);
    } catch (...) {
        return cdphub_string{nullptr, 0};
    }
}

void h_report_record(cdphub_call* call, size_t index, cdphub_status status, int64_t retry_after_ms,
                     cdphub_string message) noexcept {
    if (call == nullptr || call->outcomes == nullptr) return;
    try {
        if (index >= call->outcomes->size()) {
            if (call->ctx && call->ctx->log)
                call->ctx->log->warn("plugin reported record {} of a batch of {}; ignored", index,
                                     call->outcomes->size());
            return;
        }
        auto& o = (*call->outcomes)[index];
        o.reported = true;
        o.status = CallStatus{status_from_abi(status), retry_after(retry_after_ms),
                              std::string(view(message))};
    } catch (...) {
    }
}

void h_respond(cdphub_call* call, int32_t http_status, cdphub_string content_type,
               cdphub_string body) noexcept {
    if (call == nullptr) return;
    try {
        call->response.set = true;
        call->response.status = (http_status >= 100 && http_status <= 599) ? http_status : 500;
        call->response.content_type = std::string(view(content_type));
        call->response.body = std::string(view(body));
    } catch (...) {
    }
}

cdphub_status h_secret(cdphub_call* call, cdphub_string name, cdphub_string* value) noexcept {
    if (call == nullptr || call->ctx == nullptr || value == nullptr) return CDPHUB_FATAL;
    try {
        *value = cdphub_string{nullptr, 0};
        auto it = call->ctx->secrets.find(view(name));
        if (it == call->ctx->secrets.end()) return CDPHUB_CONFIG_ERROR;
        call->borrowed.push_back(it->second);
        *value = str(call->borrowed.back());
        return CDPHUB_OK;
    } catch (...) {
        return CDPHUB_FATAL;
    }
}

cdphub_status h_http(cdphub_call* call, const cdphub_http_request* req,
                     cdphub_http_response** response) noexcept {
    if (response != nullptr) *response = nullptr;
    if (call == nullptr || call->ctx == nullptr || req == nullptr || response == nullptr)
        return CDPHUB_FATAL;
    if (req->struct_size < offsetof(cdphub_http_request, max_attempts) + sizeof(uint32_t)) {
        host_fault(call, StatusCode::fatal, "http: request struct_size too small (plugin bug)");
        return CDPHUB_FATAL;
    }
    try {
        http::Request r;
        r.method = std::string(view(req->method));
        r.url = std::string(view(req->url));
        r.body = std::string(view(req->body));
        for (size_t i = 0; req->headers != nullptr && i < req->header_count; ++i)
            r.headers.emplace_back(std::string(view(req->headers[i].name)),
                                   std::string(view(req->headers[i].value)));
        r.timeout = std::chrono::milliseconds(req->timeout_ms);
        r.max_attempts = static_cast<int>(req->max_attempts);
        r.retry_safe = (req->flags & CDPHUB_HTTP_RETRY_SAFE) != 0;
        r.rate_limited = (req->flags & CDPHUB_HTTP_NO_RATE_LIMIT) == 0;

        http::Control control;
        if (auto* c = call->cancellation) {
            control.cancelled = [c] { return c->requested(); };
            control.sleep = [c](std::chrono::milliseconds d) { return c->sleep_for(d); };
        }
        auto result = call->ctx->http->perform(r, control);
        if (result.ok()) {
            auto holder = std::make_unique<cdphub_http_response>();
            holder->response = std::move(result.response());
            *response = holder.release();  // freed by h_http_response_free
            return CDPHUB_OK;
        }
        const auto& err = result.error();
        switch (err.kind) {
            case http::ErrorKind::cancelled:
                detail(call, StatusCode::cancelled, err.message);
                return CDPHUB_CANCELLED;
            case http::ErrorKind::bad_request:
                detail(call, StatusCode::config_error, err.message);
                return CDPHUB_CONFIG_ERROR;
            case http::ErrorKind::too_large:
                // Repeating the request would fetch the same oversized answer: not transient.
                detail(call, StatusCode::fatal, err.message);
                return CDPHUB_FATAL;
            default:
                detail(call, StatusCode::retryable, err.message);
                return CDPHUB_RETRYABLE;
        }
    } catch (const std::exception& e) {
        detail(call, StatusCode::retryable, std::string("HTTP request failed: ") + e.what());
        return CDPHUB_RETRYABLE;
    }
}

int32_t h_http_status(const cdphub_http_response* r) noexcept {
    return r == nullptr ? 0 : static_cast<int32_t>(r->response.status);
}
cdphub_string h_http_body(const cdphub_http_response* r) noexcept {
    return r == nullptr ? cdphub_string{nullptr, 0} : str(r->response.body);
}
cdphub_string h_http_header(const cdphub_http_response* r, cdphub_string name) noexcept {
    if (r == nullptr) return cdphub_string{nullptr, 0};
    return str(r->response.header(view(name)));
}
int64_t h_http_retry_after_ms(const cdphub_http_response* r) noexcept {
    if (r == nullptr || !r->response.retry_after) return -1;
    return r->response.retry_after->count();
}
void h_http_response_free(cdphub_http_response* r) noexcept {
    std::unique_ptr<cdphub_http_response> owned(r);  // ownership returns from the plugin
}

int64_t h_now_ms(cdphub_context* ctx) noexcept {
    try {
        if (ctx != nullptr && ctx->now_ms) return ctx->now_ms();
    } catch (...) {
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int32_t h_cancelled(cdphub_call* call) noexcept {
    return call != nullptr && call->cancellation != nullptr && call->cancellation->requested() ? 1
                                                                                               : 0;
}

int32_t h_sleep_ms(cdphub_call* call, int64_t ms) noexcept {
    if (call == nullptr || call->cancellation == nullptr) return 1;
    if (ms <= 0) return h_cancelled(call);
    return call->cancellation->sleep_for(std::chrono::milliseconds(ms)) ? 0 : 1;
}

const cdphub_host_api kHostApi = {
    sizeof(cdphub_host_api),
    CDPHUB_ABI_MAJOR,
    CDPHUB_ABI_MINOR,
    &h_log,
    &h_set_status,
    &h_emit,
    &h_cursor,
    &h_report_record,
    &h_respond,
    &h_secret,
    &h_http,
    &h_http_status,
    &h_http_body,
    &h_http_header,
    &h_http_retry_after_ms,
    &h_http_response_free,
    &h_now_ms,
    &h_cancelled,
    &h_sleep_ms,
};

}  // namespace

const cdphub_host_api* host_api() {
    return &kHostApi;
}

}  // namespace cdphub::plugin_host

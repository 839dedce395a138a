#include "common/status.hpp"

namespace cdphub {

StatusCode status_from_abi(int32_t raw) {
    switch (raw) {
        case CDPHUB_OK:
        case CDPHUB_RETRYABLE:
        case CDPHUB_RATE_LIMITED:
        case CDPHUB_AUTH_ERROR:
        case CDPHUB_CONFIG_ERROR:
        case CDPHUB_INVALID_RECORD:
        case CDPHUB_FATAL:
        case CDPHUB_CANCELLED:
        case CDPHUB_UNSUPPORTED:
            return static_cast<StatusCode>(raw);
        default:
            return StatusCode::fatal;
    }
}

std::string_view to_string(StatusCode c) {
    switch (c) {
        case StatusCode::ok:
            return "ok";
        case StatusCode::retryable:
            return "retryable";
        case StatusCode::rate_limited:
            return "rate limited";
        case StatusCode::auth_error:
            return "authentication error";
        case StatusCode::config_error:
            return "configuration error";
        case StatusCode::invalid_record:
            return "invalid record";
        case StatusCode::fatal:
            return "fatal";
        case StatusCode::cancelled:
            return "cancelled";
        case StatusCode::unsupported:
            return "unsupported";
    }
    return "fatal";
}

bool is_transient(StatusCode c) {
    return c == StatusCode::retryable || c == StatusCode::rate_limited;
}

std::string CallStatus::to_string() const {
    std::string out(cdphub::to_string(code));
    if (!message.empty()) out += ": " + message;
    if (retry_after) out += " (retry after " + std::to_string(retry_after->count()) + " ms)";
    return out;
}

}  // namespace cdphub

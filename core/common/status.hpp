// The hub's view of a plugin call's outcome: the SDK status plus its details.
#pragma once

#include <cdphub/plugin.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub {

enum class StatusCode : int32_t {
    ok = CDPHUB_OK,
    retryable = CDPHUB_RETRYABLE,
    rate_limited = CDPHUB_RATE_LIMITED,
    auth_error = CDPHUB_AUTH_ERROR,
    config_error = CDPHUB_CONFIG_ERROR,
    invalid_record = CDPHUB_INVALID_RECORD,
    fatal = CDPHUB_FATAL,
    cancelled = CDPHUB_CANCELLED,
    unsupported = CDPHUB_UNSUPPORTED,
};

// Maps any int32 from a plugin to a known code: unknown values are fatal (ABI promise).
StatusCode status_from_abi(int32_t raw);
std::string_view to_string(StatusCode c);
// Whether the hub may try again later (as opposed to stopping the connector).
bool is_transient(StatusCode c);

struct CallStatus {
    StatusCode code = StatusCode::ok;
    std::optional<std::chrono::milliseconds> retry_after;
    std::string message;

    bool ok() const { return code == StatusCode::ok; }
    std::string to_string() const;
};

}  // namespace cdphub

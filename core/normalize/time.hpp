// Strict RFC 3339 timestamps: the only time format records may carry.
#pragma once

#include "normalize/record.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace cdphub::normalize {

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 'T' may also be 't' or a space and 'Z'
// may be 'z' (RFC 3339 section 5.6). Fractions of any length are truncated to milliseconds. A
// leap second (:60) is read as :59.999, since the system clock cannot represent it. A missing
// offset is an error: a local time without offset is ambiguous, and guessing one shifts events by
// hours. On failure returns a message naming the problem and the offending part.
std::variant<Timestamp, std::string> parse_rfc3339(std::string_view s);

// "2024-05-01T09:30:00.000Z": UTC, always with milliseconds, so values sort as strings.
std::string format_rfc3339(Timestamp t);

}  // namespace cdphub::normalize

// Timestamps as milliseconds since the Unix epoch, and their RFC 3339 spellings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::gen {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

struct Civil {
    int year;
    int month;  // 1-12
    int day;    // 1-31
    int hour, minute, second, millis;
};

int64_t days_from_civil(int y, int m, int d);
Civil civil_from_ms(int64_t ms);

// Appends `ms` as RFC 3339 in the local time of `offset_minutes`. zulu writes 'Z' (offset 0);
// otherwise +HH:MM / -HH:MM. millis adds ".mmm".
void append_rfc3339(std::string& o, int64_t ms, int offset_minutes, bool zulu, bool millis);
std::string format_rfc3339(int64_t ms);

// Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); nullopt if malformed or impossible.
std::optional<int64_t> parse_rfc3339(std::string_view s);

}  // namespace cdphub::gen

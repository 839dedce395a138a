#include "timefmt.hpp"

#include "json_out.hpp"

namespace cdphub::gen {

// Howard Hinnant's civil-date algorithms (proleptic Gregorian calendar).
int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

Civil civil_from_ms(int64_t ms) {
    int64_t days = ms / kDay;
    int64_t rem = ms % kDay;
    if (rem < 0) {
        rem += kDay;
        --days;
    }
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    const int y = static_cast<int>(yoe + era * 400 + (m <= 2));
    Civil c{};
    c.year = y;
    c.month = m;
    c.day = d;
    c.hour = static_cast<int>(rem / kHour);
    c.minute = static_cast<int>(rem / kMinute % 60);
    c.second = static_cast<int>(rem / kSecond % 60);
    c.millis = static_cast<int>(rem % kSecond);
    return c;
}

void append_rfc3339(std::string& o, int64_t ms, int offset_minutes, bool zulu, bool millis) {
    if (zulu) offset_minutes = 0;
    const Civil c = civil_from_ms(ms + offset_minutes * kMinute);
    char b[32];
    auto put2 = [](char* p, int v) {
        p[0] = static_cast<char>('0' + v / 10);
        p[1] = static_cast<char>('0' + v % 10);
    };
    put2(b, c.year / 100);
    put2(b + 2, c.year % 100);
    b[4] = '-';
    put2(b + 5, c.month);
    b[7] = '-';
    put2(b + 8, c.day);
    b[10] = 'T';
    put2(b + 11, c.hour);
    b[13] = ':';
    put2(b + 14, c.minute);
    b[16] = ':';
    put2(b + 17, c.second);
    size_t n = 19;
    if (millis) {
        b[n++] = '.';
        b[n++] = static_cast<char>('0' + c.millis / 100);
        put2(b + n, c.millis % 100);
        n += 2;
    }
    if (zulu) {
        b[n++] = 'Z';
    } else {
        const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
        b[n++] = offset_minutes < 0 ? '-' : '+';
        put2(b + n, a / 60);
        b[n + 2] = ':';
        put2(b + n + 3, a % 60);
        n += 5;
    }
    o.append(b, n);
}

std::string format_rfc3339(int64_t ms) {
    std::string s;
    append_rfc3339(s, ms, 0, true, ms % kSecond != 0);
    return s;
}

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

}  // namespace

std::optional<int64_t> parse_rfc3339(std::string_view s) {
    int y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se))
        return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return std::nullopt;
    if (d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0)) return std::nullopt;
    size_t pos = 19;
    int64_t millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int scale = 100, n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
            ++n;
        }
        if (n == 0) return std::nullopt;
    }
    int64_t offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (oh * 60 + om) * kMinute * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    return days_from_civil(y, mo, d) * kDay + h * kHour + mi * kMinute + se * kSecond + millis -
           offset;
}

}  // namespace cdphub::gen

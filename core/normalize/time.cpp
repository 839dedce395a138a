#include "normalize/time.hpp"

#include <cstdio>

namespace cdphub::normalize {
namespace {

using namespace std::chrono;

// Reads exactly `n` digits at `pos`; -1 if any is not a digit or the text is too short.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

std::string quoted(std::string_view s) {
    // Cap the echo: the raw record is stored anyway, the message only has to point at the problem.
    constexpr std::size_t kMax = 64;
    std::string out = "\"";
    out.append(s.substr(0, kMax));
    if (s.size() > kMax) out += "...";
    return out + "\"";
}

}  // namespace

std::variant<Timestamp, std::string> parse_rfc3339(std::string_view s) {
    const auto fail = [&](std::string_view what) {
        return std::string(what) + " in " + quoted(s) +
               "; expected RFC 3339 like \"2024-05-01T09:30:00Z\" or "
               "\"2024-05-01T11:30:00.250+02:00\"";
    };
    const int y = digits(s, 0, 4);
    if (y < 0 || s.size() < 5 || s[4] != '-') return fail("bad year");
    const int mo = digits(s, 5, 2);
    if (mo < 0 || s.size() < 8 || s[7] != '-') return fail("bad month");
    const int d = digits(s, 8, 2);
    if (d < 0) return fail("bad day");
    if (s.size() == 10) return fail("date without time and offset");
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return fail("'T' expected after the date");
    const int h = digits(s, 11, 2);
    if (h < 0 || s.size() < 14 || s[13] != ':') return fail("bad hour");
    const int mi = digits(s, 14, 2);
    if (mi < 0) return fail("bad minute");
    if (s.size() < 17 || s[16] != ':') return fail("seconds missing");
    int sec = digits(s, 17, 2);
    if (sec < 0) return fail("bad seconds");

    std::size_t pos = 19;
    int millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
            ++pos;
        }
        if (pos == start) return fail("digits expected after '.'");
        for (std::size_t n = pos - start; n < 3; ++n) millis *= 10;
    }

    int offset_minutes = 0;
    if (pos >= s.size()) return fail("UTC offset missing (add 'Z' or '+HH:MM')");
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        const int oh = digits(s, pos + 1, 2);
        if (oh < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') return fail("bad UTC offset");
        const int om = digits(s, pos + 4, 2);
        if (om < 0 || oh > 23 || om > 59) return fail("bad UTC offset");
        offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return fail("UTC offset missing (add 'Z' or '+HH:MM')");
    }
    if (pos != s.size()) return fail("unexpected text after the offset");

    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (y == 0 || !ymd.ok()) return fail("no such date");
    if (h > 23 || mi > 59 || sec > 60) return fail("no such time of day");
    if (sec == 60) {
        sec = 59;
        millis = 999;
    }
    const Timestamp local =
        sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{millis};
    return local - minutes{offset_minutes};
}

std::string format_rfc3339(Timestamp t) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()),
                  int(hms.subseconds().count()));
    return buf;
}

}  // namespace cdphub::normalize

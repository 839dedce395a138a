// Local dates and times from POS exports, to RFC 3339 instants.
//
// g++ 12's libstdc++ has no std::chrono::zoned_time, and setenv("TZ") + mktime is process-wide
// state, so zones are read from the system's TZif files (/usr/share/zoneinfo, RFC 8536) here.
// Debian ships them "fat" (explicit transitions up to 2037); after a zone's last transition its
// last offset holds.
//
// DST: a local time that falls twice (the autumn hour) is read as its first occurrence, as
// std::chrono::choose::earliest does; one that never happens (the spring gap) is an error, so
// the row is rejected with that reason rather than shifted by an hour.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace cdphub::csv {

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
inline int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

inline bool valid_date(int y, int m, int d) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// "YYYY-MM-DD" (iso), "MM/DD/YYYY" (us) or "DD/MM/YYYY" / "DD.MM.YYYY" (eu) -> local midnight
// as seconds since the epoch, or nullopt.
inline std::optional<int64_t> parse_date(const std::string& s, const std::string& format) {
    int a = 0, b = 0, c = 0;
    char s1 = 0, s2 = 0;
    int n = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c%d%n", &a, &s1, &b, &s2, &c, &n) != 5 ||
        static_cast<size_t>(n) != s.size() || s1 != s2)
        return std::nullopt;
    int y, m, d;
    if (format == "iso" && s1 == '-') {
        y = a, m = b, d = c;
    } else if (format == "us" && s1 == '/') {
        m = a, d = b, y = c;
    } else if (format == "eu" && (s1 == '/' || s1 == '.')) {
        d = a, m = b, y = c;
    } else {
        return std::nullopt;
    }
    if (y < 100) y += 2000;  // "05/01/24" exports
    if (!valid_date(y, m, d)) return std::nullopt;
    return days_from_civil(y, m, d) * 86400;
}

// "HH:MM", "HH:MM:SS", with optional "AM"/"PM" -> seconds into the day.
inline std::optional<int64_t> parse_time(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    int pm = -1;
    if (s.size() > 2) {
        std::string suf = s.substr(s.size() - 2);
        for (auto& ch : suf) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (suf == "AM" || suf == "PM") {
            pm = suf == "PM";
            s = s.substr(0, s.size() - 2);
            while (!s.empty() && s.back() == ' ') s.pop_back();
        }
    }
    int h = 0, m = 0, sec = 0, n = 0;
    if (std::sscanf(s.c_str(), "%d:%d:%d%n", &h, &m, &sec, &n) == 3 &&
        static_cast<size_t>(n) == s.size()) {
    } else if (sec = 0, std::sscanf(s.c_str(), "%d:%d%n", &h, &m, &n) == 2 &&
                            static_cast<size_t>(n) == s.size()) {
    } else {
        return std::nullopt;
    }
    if (pm >= 0) {
        if (h < 1 || h > 12) return std::nullopt;
        h = h % 12 + (pm ? 12 : 0);
    }
    if (h > 23 || m > 59 || sec > 59 || h < 0 || m < 0 || sec < 0) return std::nullopt;
    return h * 3600 + m * 60 + sec;
}

// "+02:00", "-0530", "Z", "UTC" -> offset seconds.
inline std::optional<int64_t> parse_fixed_offset(const std::string& s) {
    if (s == "Z" || s == "UTC" || s == "GMT") return 0;
    std::string t = s;
    if (t.rfind("UTC", 0) == 0 || t.rfind("GMT", 0) == 0) t = t.substr(3);
    if (t.size() < 3 || (t[0] != '+' && t[0] != '-')) return std::nullopt;
    int h = 0, m = 0, n = 0;
    if (!((std::sscanf(t.c_str() + 1, "%2d:%2d%n", &h, &m, &n) == 2 ||
           std::sscanf(t.c_str() + 1, "%2d%2d%n", &h, &m, &n) == 2 ||
           (m = 0, std::sscanf(t.c_str() + 1, "%2d%n", &h, &n) == 1)) &&
          static_cast<size_t>(n) + 1 == t.size()))
        return std::nullopt;
    if (h > 18 || m > 59) return std::nullopt;
    return (t[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

// One IANA zone from its TZif file: transitions and the UTC offset after each.
class TimeZone {
  public:
    // nullopt if the name is not a zone file under `dir` (names with ".." are refused).
    static std::optional<TimeZone> load(const std::string& name, const std::string& dir) {
        if (name.empty() || name.find("..") != std::string::npos || name[0] == '/')
            return std::nullopt;
        std::ifstream in(dir + "/" + name, std::ios::binary);
        if (!in) return std::nullopt;
        std::string d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        TimeZone z;
        if (!z.parse(d)) return std::nullopt;
        z.name_ = name;
        return z;
    }
    static TimeZone fixed(int64_t offset, std::string name) {
        TimeZone z;
        z.initial_ = offset;
        z.name_ = std::move(name);
        return z;
    }

    const std::string& name() const { return name_; }

    int64_t offset_at(int64_t utc) const {
        auto it = std::upper_bound(times_.begin(), times_.end(), utc);
        if (it == times_.begin()) return initial_;
        return offsets_[static_cast<size_t>(it - times_.begin() - 1)];
    }

    enum class Kind { unique, ambiguous, nonexistent };
    struct Local {
        Kind kind;
        int64_t utc;  // for unique and ambiguous (the earlier instant)
        int64_t offset;
    };
    // The instant of a local wall time given as seconds since the epoch "as if UTC".
    Local to_utc(int64_t local) const {
        // Transitions are months apart, so the offsets a day before and after cover both sides.
        const int64_t a = offset_at(local - 86400 * 2), b = offset_at(local + 86400 * 2);
        std::vector<std::pair<int64_t, int64_t>> hits;
        for (int64_t o : {a, b}) {
            const int64_t t = local - o;
            if (offset_at(t) == o &&
                std::none_of(hits.begin(), hits.end(), [&](auto& h) { return h.first == t; }))
                hits.emplace_back(t, o);
        }
        if (hits.empty()) return {Kind::nonexistent, 0, 0};
        std::sort(hits.begin(), hits.end());
        return {hits.size() > 1 ? Kind::ambiguous : Kind::unique, hits[0].first, hits[0].second};
    }

  private:
    static int64_t be(const std::string& d, size_t at, int bytes) {
        uint64_t v = 0;
        for (int k = 0; k < bytes; ++k) v = (v << 8) | static_cast<unsigned char>(d[at + k]);
        if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
        return static_cast<int64_t>(v);
    }

    bool parse(const std::string& d) {
        if (d.size() < 44 || d.compare(0, 4, "TZif") != 0) return false;
        auto counts = [&](size_t at, int64_t c[6]) {
            for (int k = 0; k < 6; ++k) c[k] = be(d, at + 20 + 4 * k, 4);
        };
        int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        counts(0, c);
        size_t at = 44;
        int tsize = 4;
        if (d[4] >= '2') {  // skip the 32-bit block; the 64-bit one follows with its own header
            at += static_cast<size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
            if (d.size() < at + 44 || d.compare(at, 4, "TZif") != 0) return false;
            counts(at, c);
            at += 44;
            tsize = 8;
        }
        const size_t timecnt = static_cast<size_t>(c[3]), typecnt = static_cast<size_t>(c[4]);
        if (typecnt == 0 || d.size() < at + timecnt * (tsize + 1) + typecnt * 6) return false;
        std::vector<int64_t> offs(typecnt);
        const size_t types_at = at + timecnt * static_cast<size_t>(tsize + 1);
        for (size_t k = 0; k < typecnt; ++k) offs[k] = be(d, types_at + k * 6, 4);
        for (size_t k = 0; k < timecnt; ++k) {
            times_.push_back(be(d, at + k * static_cast<size_t>(tsize), tsize));
            const auto idx = static_cast<unsigned char>(d[at + timecnt * tsize + k]);
            if (idx >= typecnt) return false;
            offsets_.push_back(offs[idx]);
        }
        initial_ = offs[0];
        return true;
    }

    std::string name_;
    std::vector<int64_t> times_;    // transition instants (UTC seconds), ascending
    std::vector<int64_t> offsets_;  // offset in effect from times_[i]
    int64_t initial_ = 0;           // before the first transition
};

// "2024-05-01T09:30:00+02:00" from UTC seconds and the offset in effect.
inline std::string format_rfc3339(int64_t utc, int64_t offset) {
    const int64_t local = utc + offset;
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    const int64_t secs = local - days * 86400;
    // civil_from_days (Hinnant)
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp + (mp < 10 ? 3 : -9);
    const int64_t y = yoe + era * 400 + (m <= 2);
    char buf[96];
    const int64_t ao = offset < 0 ? -offset : offset;
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld%c%02lld:%02lld",
                  static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), offset < 0 ? '-' : '+',
                  static_cast<long long>(ao / 3600), static_cast<long long>(ao / 60 % 60));
    return buf;
}

}  // namespace cdphub::csv

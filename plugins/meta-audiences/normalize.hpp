// Meta's normalisation of customer-list identifiers before SHA-256 (reference/vendor-wire-
// protocols.md, section 4): each schema key has its own rule, and a value normalised differently
// hashes to something Meta never matches. Values that already are SHA-256 digests pass through
// (lower-cased), so profiles known only by a hashed email still go out.
#pragma once

#include <cdphub_plugins/sha256.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::meta {

// The schema keys this plugin hashes, in Meta's spelling.
inline constexpr std::array<std::string_view, 10> kSchemaKeys{
    "EMAIL", "PHONE", "FN", "LN", "GEN", "DOBY", "CT", "ST", "ZIP", "COUNTRY"};

inline bool known_key(std::string_view k) {
    for (auto s : kSchemaKeys)
        if (s == k) return true;
    return false;
}

namespace detail {
inline char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline bool ascii_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline std::string lowered(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}
// Strips leading and trailing characters of `set` (Python's str.strip(chars)).
inline std::string_view strip(std::string_view s, std::string_view set) {
    const auto b = s.find_first_not_of(set);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(set) - b + 1);
}
// Lower-cased, with ASCII punctuation and whitespace removed; UTF-8 bytes of other scripts kept.
inline std::string letters_only(std::string_view s) {
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80 || ascii_alnum(c)) out += lower(c);
    }
    return out;
}
}  // namespace detail

// `value` normalised by Meta's rule for `key`; nullopt if nothing usable is left.
inline std::optional<std::string> normalize(std::string_view key, std::string_view value) {
    using namespace detail;
    std::string out;
    if (key == "EMAIL") {
        // Meta's SDK: strip " \t\r\n\0\x0B." at both ends, then lower-case.
        out = lowered(strip(value, std::string_view(" \t\r\n\0\x0B.", 7)));
        if (out.find('@') == std::string::npos) return std::nullopt;
    } else if (key == "PHONE") {
        // Digits only, country code included, no '+', no leading zeros ("0049..." -> "49...").
        for (char c : value)
            if (c >= '0' && c <= '9') out += c;
        const auto nz = out.find_first_not_of('0');
        out = nz == std::string::npos ? std::string() : out.substr(nz);
    } else if (key == "FN" || key == "LN" || key == "CT") {
        out = letters_only(value);
    } else if (key == "ST") {
        out = letters_only(value);  // two-letter code expected (ANSI for US states)
    } else if (key == "ZIP") {
        out = letters_only(value);
        // US ZIP+4: Meta wants the first five digits only.
        if (out.size() == 9 && out.find_first_not_of("0123456789") == std::string::npos)
            out.resize(5);
    } else if (key == "COUNTRY") {
        out = letters_only(value);
        if (out.size() != 2) return std::nullopt;  // ISO 3166-1 alpha-2
    } else if (key == "GEN") {
        const auto g = letters_only(value);
        if (g == "m" || g == "male") out = "m";
        if (g == "f" || g == "female") out = "f";
    } else if (key == "DOBY") {
        for (char c : value)
            if (c >= '0' && c <= '9') out += c;
        if (out.size() < 4) return std::nullopt;
        out.resize(4);  // "1984-05-01" -> "1984"
    } else {
        return std::nullopt;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// The value Meta receives for `key`: the digest of the normalised value, or a digest given as
// the value itself (lower-cased). nullopt: no usable value.
inline std::optional<std::string> hashed(std::string_view key, std::string_view value) {
    auto trimmed = detail::strip(value, " \t\r\n");
    if (trimmed.size() == 64) {
        auto low = detail::lowered(trimmed);
        if (plugins::is_sha256_hex(low)) return low;
    }
    auto n = normalize(key, value);
    if (!n) return std::nullopt;
    return plugins::sha256_hex(*n);
}

}  // namespace cdphub::meta

#include "normalize/currency.hpp"

#include <algorithm>
#include <cstdlib>
#include <iterator>

namespace cdphub::normalize {
namespace {

struct Currency {
    std::string_view code;
    int exponent;
};

// Active ISO-4217 codes with their minor units (ISO 4217 list one), sorted by code for binary
// search. Recently replaced codes still seen in old data (ANG next to XCG, SLL next to SLE, ZWL
// next to ZWG) are kept so historic imports still load; codes withdrawn long ago are not.
constexpr Currency kCurrencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
    {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2},
    {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
    {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
    {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0},
    {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

static_assert(std::is_sorted(std::begin(kCurrencies), std::end(kCurrencies),
                             [](const Currency& a, const Currency& b) { return a.code < b.code; }),
              "binary search needs the table sorted by code");

char upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

const Currency* find(std::string_view code) {
    if (code.size() != 3) return nullptr;
    char buf[3] = {upper(code[0]), upper(code[1]), upper(code[2])};
    std::string_view key(buf, 3);
    auto it = std::lower_bound(std::begin(kCurrencies), std::end(kCurrencies), key,
                               [](const Currency& c, std::string_view k) { return c.code < k; });
    if (it == std::end(kCurrencies) || it->code != key) return nullptr;
    return &*it;
}

}  // namespace

std::optional<int> currency_minor_units(std::string_view code) {
    // Only the canonical upper-case spelling is a code; canonical_currency() accepts lower case.
    for (char c : code)
        if (c < 'A' || c > 'Z') return std::nullopt;
    const Currency* c = find(code);
    if (!c) return std::nullopt;
    return c->exponent;
}

std::optional<std::string> canonical_currency(std::string_view code) {
    const Currency* c = find(code);
    if (!c) return std::nullopt;
    return std::string(c->code);
}

std::optional<std::int64_t> to_minor_units(std::string_view decimal, std::string_view currency) {
    auto exponent = currency_minor_units(currency);
    if (!exponent || decimal.empty()) return std::nullopt;
    bool negative = false;
    if (decimal.front() == '-' || decimal.front() == '+') {
        negative = decimal.front() == '-';
        decimal.remove_prefix(1);
    }
    std::int64_t value = 0;
    int digits = 0;
    int decimals = -1;  // -1 until the point is seen
    for (char ch : decimal) {
        if (ch == '.') {
            if (decimals >= 0 || digits == 0) return std::nullopt;  // "1.2.3", ".5"
            decimals = 0;
            continue;
        }
        if (ch < '0' || ch > '9') return std::nullopt;
        if (decimals >= 0 && ++decimals > *exponent) return std::nullopt;
        value = value * 10 + (ch - '0');
        if (value > kMaxMinorUnits) return std::nullopt;
        ++digits;
    }
    if (digits == 0 || decimals == 0) return std::nullopt;  // "", ".", "12." are not amounts
    for (int i = std::max(decimals, 0); i < *exponent; ++i) {
        value *= 10;
        if (value > kMaxMinorUnits) return std::nullopt;
    }
    return negative ? -value : value;
}

std::string format_minor_units(std::int64_t minor, int exponent) {
    // Work on the magnitude as unsigned so INT64_MIN does not overflow.
    const bool negative = minor < 0;
    std::uint64_t mag =
        negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
    std::string digits = std::to_string(mag);
    if (exponent > 0) {
        const auto e = static_cast<std::size_t>(exponent);
        if (digits.size() <= e) digits.insert(0, e + 1 - digits.size(), '0');
        digits.insert(digits.size() - e, 1, '.');
    }
    return negative ? "-" + digits : digits;
}

}  // namespace cdphub::normalize

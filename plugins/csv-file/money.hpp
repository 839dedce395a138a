// Money as POS exports write it, to integer minor units of a currency.
//
// Accepted: "1234.56", "1,234.56", "$1,234.56", "-$5.00", "$-5.00", "($5.00)", "USD 12.00",
// "12.00 EUR", "€12,50" with decimal_separator ',', "¥1,500". The number of decimals may not
// exceed the currency's minor unit (USD 2, JPY 0, KWD 3): "1.234" dollars would be guessing.
#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::csv {

// ISO 4217 minor units for the codes that differ from 2.
inline int currency_exponent(std::string_view code) {
    static constexpr std::string_view zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                                "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                                "VND", "VUV", "XAF", "XOF", "XPF"};
    static constexpr std::string_view three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    for (auto z : zero)
        if (z == code) return 0;
    for (auto t : three)
        if (t == code) return 3;
    if (code == "CLF" || code == "UYW") return 4;
    return 2;
}

struct MoneyResult {
    std::optional<int64_t> minor;
    std::string error;  // why not, if !minor
};

inline MoneyResult parse_money(std::string_view text, std::string_view currency,
                               char decimal_separator = '.') {
    auto fail = [&](const std::string& why) {
        return MoneyResult{std::nullopt, "\"" + std::string(text) + "\" is not an amount: " + why};
    };
    const char group = decimal_separator == '.' ? ',' : '.';
    bool negative = false, parens = false, seen_digit = false, seen_decimal = false;
    int64_t whole = 0, frac = 0;
    int frac_digits = 0;
    std::string letters;
    size_t i = 0;
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (std::isdigit(c)) {
            seen_digit = true;
            if (seen_decimal) {
                if (frac_digits >= 9) return fail("too many decimals");
                frac = frac * 10 + (c - '0');
                ++frac_digits;
            } else {
                if (whole > 900719925474099) return fail("too large");
                whole = whole * 10 + (c - '0');
            }
        } else if (c == static_cast<unsigned char>(decimal_separator)) {
            if (seen_decimal) return fail("two decimal separators");
            seen_decimal = true;
        } else if (c == static_cast<unsigned char>(group)) {
            if (!seen_digit || seen_decimal) return fail("misplaced digit group separator");
        } else if (c == '-') {
            if (negative || seen_digit) return fail("misplaced minus sign");
            negative = true;
        } else if (c == '(' && !seen_digit && !parens) {
            parens = true;
        } else if (c == ')' && parens) {
            parens = false;
            negative = !negative;
            if (text.find_first_not_of(' ', i + 1) != std::string_view::npos)
                return fail("text after ')'");
        } else if (c == '+' && !seen_digit) {
        } else if (c == ' ' || c == '\t' || c == '$' || c == '\'') {
            // spaces, the dollar sign, Swiss digit groups
        } else if (text.substr(i, 3) == "\xE2\x88\x92") {  // U+2212 MINUS SIGN
            if (negative || seen_digit) return fail("misplaced minus sign");
            negative = true;
            i += 3;
            continue;
        } else if (c >= 0x80) {
            // A currency sign in UTF-8 (€ £ ¥ ₩ ...) or a no-break space: skip its bytes.
            ++i;
            while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
            continue;
        } else if (std::isalpha(c)) {
            letters += static_cast<char>(std::toupper(c));
        } else {
            return fail(std::string("unexpected character '") + static_cast<char>(c) + "'");
        }
        ++i;
    }
    if (parens) return fail("unbalanced '('");
    if (!seen_digit) return fail("no digits");
    if (!letters.empty() && letters != std::string(currency))
        return fail("currency " + letters + " differs from the row's " + std::string(currency));
    const int exp = currency_exponent(currency);
    if (frac_digits > exp) {
        // Trailing zeros beyond the minor unit are harmless ("1500.00" yen).
        int64_t extra = 1;
        for (int k = exp; k < frac_digits; ++k) extra *= 10;
        if (frac % extra != 0)
            return fail(std::string(currency) + " has " + std::to_string(exp) +
                        " decimal(s); more would be rounding");
        frac /= extra;
        frac_digits = exp;
    }
    for (int k = frac_digits; k < exp; ++k) frac *= 10;
    int64_t scale = 1;
    for (int k = 0; k < exp; ++k) scale *= 10;
    const int64_t minor = whole * scale + frac;
    return MoneyResult{negative ? -minor : minor, {}};
}

}  // namespace cdphub::csv

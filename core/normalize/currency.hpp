// ISO-4217 currencies and their minor units: the exponent that turns an amount in minor units
// into the major unit (EUR 2: 1299 is 12.99; JPY 0: 1299 is 1299 yen; KWD 3: 1299 is 1.299).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::normalize {

// Minor-unit exponent of an active ISO-4217 currency code (upper-case, three letters); nullopt for
// unknown, withdrawn, or non-monetary codes (XAU, XDR, XXX ... have no minor unit and are not
// prices). Table lookup, no allocation.
std::optional<int> currency_minor_units(std::string_view code);

// Upper-cases a three-letter code if it is a known currency ("eur" -> "EUR"); nullopt otherwise.
std::optional<std::string> canonical_currency(std::string_view code);

// Converts a plain decimal string ("12.99", "-3", "1.5") to minor units of `currency`. Fails
// (nullopt) on more decimals than the currency has, on any other syntax, on unknown currencies,
// and beyond the safe range (see kMaxMinorUnits). For plugins' and tools' mapping code and for
// helpful rejection messages; the record itself carries minor units.
std::optional<std::int64_t> to_minor_units(std::string_view decimal, std::string_view currency);

// Formats minor units as a decimal string in the major unit ("12.99", "1299", "1.299").
std::string format_minor_units(std::int64_t minor, int exponent);

// Amounts are limited to +-(2^53 - 1) so that every consumer of the JSON form (JavaScript, BI
// tools reading doubles) sees the exact value.
inline constexpr std::int64_t kMaxMinorUnits = (std::int64_t{1} << 53) - 1;

}  // namespace cdphub::normalize

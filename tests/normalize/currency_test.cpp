#include "normalize/currency.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace cdphub::normalize {
namespace {

TEST(Currency, MinorUnits) {
    EXPECT_EQ(currency_minor_units("EUR"), 2);
    EXPECT_EQ(currency_minor_units("USD"), 2);
    EXPECT_EQ(currency_minor_units("JPY"), 0);
    EXPECT_EQ(currency_minor_units("KRW"), 0);
    EXPECT_EQ(currency_minor_units("KWD"), 3);
    EXPECT_EQ(currency_minor_units("BHD"), 3);
    EXPECT_EQ(currency_minor_units("TND"), 3);
    EXPECT_EQ(currency_minor_units("CLF"), 4);
    // First and last entries of the table (binary search edges).
    EXPECT_EQ(currency_minor_units("AED"), 2);
    EXPECT_EQ(currency_minor_units("ZWL"), 2);
}

TEST(Currency, UnknownAndNonMonetaryCodes) {
    for (const char* c : {"", "EU", "EURO", "XXX", "XAU", "XDR", "ABC", "eur", "DEM", "HRK"})
        EXPECT_FALSE(currency_minor_units(c)) << c;
}

TEST(Currency, CanonicalAcceptsLowerCase) {
    EXPECT_EQ(canonical_currency("eur"), "EUR");
    EXPECT_EQ(canonical_currency("Jpy"), "JPY");
    EXPECT_FALSE(canonical_currency("eu r"));
    EXPECT_FALSE(canonical_currency("xxx"));
}

TEST(Currency, DecimalToMinor) {
    EXPECT_EQ(to_minor_units("12.99", "EUR"), 1299);
    EXPECT_EQ(to_minor_units("12.9", "EUR"), 1290);
    EXPECT_EQ(to_minor_units("12", "EUR"), 1200);
    EXPECT_EQ(to_minor_units("-3.50", "EUR"), -350);
    EXPECT_EQ(to_minor_units("1299", "JPY"), 1299);
    EXPECT_FALSE(to_minor_units("12.5", "JPY"));  // yen has no fraction
    EXPECT_EQ(to_minor_units("1.299", "KWD"), 1299);
    EXPECT_FALSE(to_minor_units("1.2999", "KWD"));
    EXPECT_FALSE(to_minor_units("12.999", "EUR"));
    for (const char* bad : {"", ".", "12.", ".5", "1,5", "1e3", "--1", "12.3.4", " 1"})
        EXPECT_FALSE(to_minor_units(bad, "EUR")) << bad;
    EXPECT_EQ(to_minor_units("0.5", "EUR"), 50);
    EXPECT_FALSE(to_minor_units("1", "XXX"));
    EXPECT_FALSE(to_minor_units("90071992547409.92", "EUR"));  // just over 2^53 - 1
    EXPECT_EQ(to_minor_units("90071992547409.91", "EUR"), kMaxMinorUnits);
}

TEST(Currency, Format) {
    EXPECT_EQ(format_minor_units(1299, 2), "12.99");
    EXPECT_EQ(format_minor_units(5, 2), "0.05");
    EXPECT_EQ(format_minor_units(-5, 2), "-0.05");
    EXPECT_EQ(format_minor_units(1299, 0), "1299");
    EXPECT_EQ(format_minor_units(1299, 3), "1.299");
    EXPECT_EQ(format_minor_units(std::numeric_limits<std::int64_t>::min(), 2),
              "-92233720368547758.08");
}

}  // namespace
}  // namespace cdphub::normalize

#include "normalize/time.hpp"

#include <gtest/gtest.h>

namespace cdphub::normalize {
namespace {

using namespace std::chrono;

Timestamp ok(std::string_view s) {
    auto r = parse_rfc3339(s);
    if (auto* e = std::get_if<std::string>(&r)) ADD_FAILURE() << s << ": " << *e;
    return std::get_if<Timestamp>(&r) ? std::get<Timestamp>(r) : Timestamp{};
}

std::string err(std::string_view s) {
    auto r = parse_rfc3339(s);
    if (!std::holds_alternative<std::string>(r)) {
        ADD_FAILURE() << s << " parsed but should not";
        return {};
    }
    return std::get<std::string>(r);
}

const Timestamp kRef = sys_days{2024y / May / 1} + 9h + 30min;

TEST(Rfc3339, Utc) {
    EXPECT_EQ(ok("2024-05-01T09:30:00Z"), kRef);
}

TEST(Rfc3339, PositiveAndNegativeOffsets) {
    EXPECT_EQ(ok("2024-05-01T11:30:00+02:00"), kRef);
    EXPECT_EQ(ok("2024-05-01T04:00:00-05:30"), kRef);
    EXPECT_EQ(ok("2024-05-01T09:30:00+00:00"), kRef);
}

TEST(Rfc3339, OffsetCrossesDayAndYear) {
    EXPECT_EQ(ok("2025-01-01T01:00:00+02:00"), sys_days{2024y / December / 31} + 23h);
}

TEST(Rfc3339, FractionalSecondsTruncateToMillis) {
    EXPECT_EQ(ok("2024-05-01T09:30:00.5Z"), kRef + 500ms);
    EXPECT_EQ(ok("2024-05-01T09:30:00.123Z"), kRef + 123ms);
    EXPECT_EQ(ok("2024-05-01T09:30:00.123999999Z"), kRef + 123ms);
    EXPECT_EQ(ok("2024-05-01T11:30:00.250+02:00"), kRef + 250ms);
}

TEST(Rfc3339, LowerCaseAndSpaceSeparatorAccepted) {
    EXPECT_EQ(ok("2024-05-01t09:30:00z"), kRef);
    EXPECT_EQ(ok("2024-05-01 09:30:00Z"), kRef);
}

TEST(Rfc3339, LeapDayAndLeapSecond) {
    EXPECT_EQ(ok("2024-02-29T00:00:00Z"), sys_days{2024y / February / 29});
    EXPECT_EQ(ok("2016-12-31T23:59:60Z"),
              sys_days{2016y / December / 31} + 23h + 59min + 59s + 999ms);
}

TEST(Rfc3339, ImpossibleDatesRejected) {
    EXPECT_NE(err("2024-02-30T00:00:00Z").find("no such date"), std::string::npos);
    EXPECT_NE(err("2023-02-29T00:00:00Z").find("no such date"), std::string::npos);
    EXPECT_NE(err("2024-13-01T00:00:00Z").find("no such date"), std::string::npos);
    EXPECT_NE(err("2024-04-31T00:00:00Z").find("no such date"), std::string::npos);
    EXPECT_NE(err("2024-05-01T24:00:00Z").find("no such time"), std::string::npos);
    EXPECT_NE(err("2024-05-01T23:60:00Z").find("no such time"), std::string::npos);
}

TEST(Rfc3339, MissingOffsetRejectedWithHint) {
    const auto e = err("2024-05-01T09:30:00");
    EXPECT_NE(e.find("offset missing"), std::string::npos) << e;
    EXPECT_NE(e.find("2024-05-01T09:30:00"), std::string::npos) << e;  // echoes the value
    EXPECT_NE(err("2024-05-01T09:30:00.123").find("offset missing"), std::string::npos);
}

TEST(Rfc3339, MalformedRejected) {
    for (const char* s : {"", "2024", "2024-05-01", "2024-5-01T09:30:00Z", "2024-05-01T9:30:00Z",
                          "2024-05-01T09:30Z", "2024-05-01T09:30:00.Z", "2024-05-01T09:30:00+0200",
                          "2024-05-01T09:30:00+24:00", "2024-05-01T09:30:00+02:60",
                          "2024-05-01T09:30:00Z ", "2024-05-01T09:30:00ZZ", "2024-05-01X09:30:00Z",
                          "1714555800", "0000-01-01T00:00:00Z", "２０２４-05-01T09:30:00Z"})
        EXPECT_FALSE(err(s).empty()) << s;
}

TEST(Rfc3339, FormatRoundTrips) {
    EXPECT_EQ(format_rfc3339(kRef + 7ms), "2024-05-01T09:30:00.007Z");
    EXPECT_EQ(ok(format_rfc3339(kRef + 7ms)), kRef + 7ms);
    const Timestamp old = sys_days{1969y / July / 20} + 20h + 17min;
    EXPECT_EQ(format_rfc3339(old), "1969-07-20T20:17:00.000Z");
    EXPECT_EQ(ok(format_rfc3339(old)), old);
}

}  // namespace
}  // namespace cdphub::normalize

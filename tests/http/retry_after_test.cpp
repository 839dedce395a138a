// Pure helpers of the HTTP client: Retry-After parsing, header lookup, URL redaction.
#include "http/client.hpp"

#include <gtest/gtest.h>

namespace cdphub::http {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::sys_days;
using namespace std::chrono;

// 1994-11-06 08:49:00 UTC, a minute before RFC 9110's example date.
const system_clock::time_point kNow = sys_days(year(1994) / November / 6) + 8h + 49min;

TEST(ParseRetryAfter, DeltaSeconds) {
    EXPECT_EQ(parse_retry_after("120", kNow), milliseconds(120'000));
    EXPECT_EQ(parse_retry_after("0", kNow), milliseconds(0));
    EXPECT_EQ(parse_retry_after(" 5\t", kNow), milliseconds(5'000));  // optional whitespace
}

TEST(ParseRetryAfter, HugeDeltaSaturatesInsteadOfOverflowing) {
    const auto v = parse_retry_after("99999999999999999999999999", kNow);
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, milliseconds(1'000'000'000));  // at least a million seconds, and positive
}

TEST(ParseRetryAfter, ImfFixdateRelativeToNow) {
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), milliseconds(37'000));
    EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:00 GMT", kNow), milliseconds(86'400'000));
    // A fraction of a second before the date still waits until it (rounded up).
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:01 GMT", kNow - 250ms),
              milliseconds(1'250));
}

TEST(ParseRetryAfter, DateInThePastMeansNow) {
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", kNow), milliseconds(0));
}

TEST(ParseRetryAfter, RejectsWhatIsNeitherForm) {
    for (const char* bad : {"", "  ", "-1", "1.5", "+3", "soon", "12abc",
                            "Sun, 06 Nov 1994 08:49:37 UTC",    // zone must be GMT
                            "Sunday, 06-Nov-94 08:49:37 GMT",   // obsolete RFC 850 form
                            "Sun Nov  6 08:49:37 1994",         // obsolete asctime form
                            "Sun, 31 Feb 1994 08:49:37 GMT",    // no such day
                            "Sun, 06 Nov 1994 24:00:00 GMT",    // no such hour
                            "Sun, 06 Foo 1994 08:49:37 GMT",    // no such month
                            "Xyz, 06 Nov 1994 08:49:37 GMT",    // no such weekday
                            "Sun, 6 Nov 1994 08:49:37 GMT"}) {  // day needs two digits
        EXPECT_EQ(parse_retry_after(bad, kNow), std::nullopt) << '"' << bad << '"';
    }
}

TEST(Response, HeaderLookupIsCaseInsensitiveAndReturnsTheFirst) {
    Response r;
    r.headers = {{"Content-Type", "application/json"}, {"X-Dup", "one"}, {"x-dup", "two"}};
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("CONTENT-TYPE"), "application/json");
    EXPECT_EQ(r.header("X-DUP"), "one");
    EXPECT_EQ(r.header("Retry-After"), "");
    EXPECT_EQ(r.header("Content-Typ"), "");  // no prefix matches
}

TEST(RedactUrl, DropsQueryFragmentAndUserinfo) {
    EXPECT_EQ(redact_url("https://api.example.com/v1/items?api_key=s3cret&x=1"),
              "https://api.example.com/v1/items");
    EXPECT_EQ(redact_url("https://api.example.com/v1#token=abc"), "https://api.example.com/v1");
    EXPECT_EQ(redact_url("http://user:pa55@host:8080/p?q"), "http://host:8080/p");
    EXPECT_EQ(redact_url("http://user:p@ss@host/"), "http://host/");
    EXPECT_EQ(redact_url("https://host"), "https://host");
    EXPECT_EQ(redact_url("not a url?secret"), "not a url");
}

}  // namespace
}  // namespace cdphub::http

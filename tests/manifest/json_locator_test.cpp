#include <gtest/gtest.h>

#include "manifest/manifest.hpp"

namespace cdphub::manifest {
namespace {

using Pos = std::pair<int, int>;

TEST(JsonLocator, LocatesValuesOfNestedMembersAndItems) {
    JsonLocator loc(R"({
  "a": {
    "b": [10, 20,
          {"c": true}]
  },
  "d": "x"
})");
    EXPECT_EQ(loc.locate(""), Pos(1, 1));
    EXPECT_EQ(loc.locate("/a"), Pos(2, 8));
    EXPECT_EQ(loc.locate("/a/b"), Pos(3, 10));
    EXPECT_EQ(loc.locate("/a/b/0"), Pos(3, 11));
    EXPECT_EQ(loc.locate("/a/b/1"), Pos(3, 15));
    EXPECT_EQ(loc.locate("/a/b/2/c"), Pos(4, 17));
    EXPECT_EQ(loc.locate("/d"), Pos(6, 8));
}

TEST(JsonLocator, LocateKeyPointsAtTheMembersKey) {
    JsonLocator loc("{\n  \"port\": 80,\n  \"list\": [1]\n}");
    EXPECT_EQ(loc.locate_key("/port"), Pos(2, 3));
    EXPECT_EQ(loc.locate("/port"), Pos(2, 11));
    // Array items have no key: the item itself.
    EXPECT_EQ(loc.locate_key("/list/0"), Pos(3, 12));
}

TEST(JsonLocator, AbsentPointerFallsBackToNearestExistingParent) {
    JsonLocator loc("{\n  \"config\": {\n    \"a\": 1\n  }\n}");
    EXPECT_EQ(loc.locate("/config/missing"), Pos(2, 13));
    EXPECT_EQ(loc.locate("/config/missing/deeper/still"), Pos(2, 13));
    EXPECT_EQ(loc.locate("/nothing"), Pos(1, 1));
    EXPECT_EQ(loc.locate_key("/config/missing"), Pos(2, 13));
}

TEST(JsonLocator, KeysWithSlashAndTildeAreEscapedPerRfc6901) {
    JsonLocator loc(R"({"a/b": 1, "m~n": 2, "~1": 3})");
    EXPECT_EQ(loc.locate("/a~1b"), Pos(1, 9));
    EXPECT_EQ(loc.locate("/m~0n"), Pos(1, 19));
    EXPECT_EQ(loc.locate("/~01"), Pos(1, 28));
    // The unescaped spelling names another (absent) member: falls back to the root.
    EXPECT_EQ(loc.locate("/a/b"), Pos(1, 1));
}

TEST(JsonLocator, KeysWithEscapesAreDecodedLikeTheParserDoes) {
    JsonLocator loc(R"({"q\"k": 1, "caf\u00e9": 2, "\ud83d\ude00": 3})");
    EXPECT_EQ(loc.locate("/q\"k"), Pos(1, 10));
    EXPECT_EQ(loc.locate("/caf\xC3\xA9"), Pos(1, 26));
    EXPECT_EQ(loc.locate("/\xF0\x9F\x98\x80"), Pos(1, 45));
}

TEST(JsonLocator, ColumnsCountCharactersNotBytes) {
    // "é" is two bytes in UTF-8 but one column in an editor.
    JsonLocator loc("{\"k\": \"\xC3\xA9\xC3\xA9\", \"n\": 1}");
    EXPECT_EQ(loc.locate("/n"), Pos(1, 18));
}

TEST(JsonLocator, ByteOrderMarkIsNotAColumn) {
    JsonLocator loc("\xEF\xBB\xBF{\"a\": 1}");
    EXPECT_EQ(loc.locate(""), Pos(1, 1));
    EXPECT_EQ(loc.locate("/a"), Pos(1, 7));
}

TEST(JsonLocator, PositionOfByteOffsetsAcrossLines) {
    JsonLocator loc("ab\ncd\r\nef");
    EXPECT_EQ(loc.position(0), Pos(1, 1));
    EXPECT_EQ(loc.position(4), Pos(2, 2));
    EXPECT_EQ(loc.position(7), Pos(3, 1));
    EXPECT_EQ(loc.position(100), Pos(3, 3));  // clamped to the end
}

TEST(JsonLocator, ReportsKeysGivenTwiceInOneObject) {
    JsonLocator loc(R"({"a": 1, "b": {"a": 2}, "a": 3})");
    ASSERT_EQ(loc.duplicate_keys(), std::vector<std::string>{"/a"});
    // The parser keeps the last value; so does the locator.
    EXPECT_EQ(loc.locate("/a"), Pos(1, 30));
}

TEST(JsonLocator, StopsQuietlyOnInvalidTextAndKeepsWhatItFound) {
    JsonLocator loc("{\"a\": 1, \"b\": [tru");
    EXPECT_EQ(loc.locate("/a"), Pos(1, 7));
    EXPECT_EQ(loc.locate("/b"), Pos(1, 15));
    JsonLocator empty("");
    EXPECT_EQ(empty.locate(""), Pos(0, 0));
}

TEST(JsonLocator, PathologicalNestingIsCutOffNotFatal) {
    std::string deep = std::string(200000, '[') + std::string(200000, ']');
    JsonLocator loc(deep);
    EXPECT_EQ(loc.locate("/0/0/0"), Pos(1, 4));
    std::string far;
    for (int i = 0; i < 1000; ++i) far += "/0";
    EXPECT_LT(loc.locate(far).second, 1000);  // the nearest recorded parent
}

}  // namespace
}  // namespace cdphub::manifest

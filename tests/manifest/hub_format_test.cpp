// hub.json: defaults, paths relative to the folder, and its problems.
#include <gtest/gtest.h>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::dump;
using testing::one;
using testing::TempFolder;

std::filesystem::path absolute(const TempFolder& dir) {
    return std::filesystem::absolute(dir.path()).lexically_normal();
}

TEST(HubFormat, DefaultsWithoutHubJson) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    auto set = load(dir.path());
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    EXPECT_TRUE(set.hub.file.empty());
    EXPECT_TRUE(set.hub.plugin_dirs.empty());
    EXPECT_EQ(set.hub.data_dir, (absolute(dir) / "../var").lexically_normal());
    EXPECT_TRUE(set.hub.data_dir.is_absolute());
    EXPECT_EQ(set.hub.log_level, "");
    EXPECT_EQ(set.hub.log_format, "");
}

TEST(HubFormat, PathsAreRelativeToTheFolderAndAbsolutePathsStay) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    dir.write("plugins/.keep", "");
    dir.write("hub.json", R"({"plugin_dirs": ["plugins", "/"], "data_dir": "state",
                              "log": {"level": "debug"}})");
    auto set = load(dir.path());
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    EXPECT_EQ(set.hub.file, dir.path() / "hub.json");
    ASSERT_EQ(set.hub.plugin_dirs.size(), 2u);
    EXPECT_EQ(set.hub.plugin_dirs[0], absolute(dir) / "plugins");
    EXPECT_EQ(set.hub.plugin_dirs[1], std::filesystem::path("/"));
    EXPECT_EQ(set.hub.data_dir, absolute(dir) / "state");
    EXPECT_EQ(set.hub.log_level, "debug");
    EXPECT_EQ(set.hub.log_format, "");
}

TEST(HubFormat, MissingPluginFolderIsAWarning) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    auto file = dir.write("hub.json", "{\n  \"plugin_dirs\": [\"gone\"]\n}");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "/plugin_dirs/0");
    EXPECT_FALSE(d.is_error());
    EXPECT_NE(d.message.find("does not exist"), std::string::npos) << d.message;
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(2, 19));
}

TEST(HubFormat, ProblemsAreAllReported) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    auto file = dir.write("hub.json", R"({
  "plugin_dirs": "plugins",
  "data_dir": "",
  "logs": {},
  "log": {"level": "verbose", "format": "xml", "colour": true}
})");
    auto set = load(dir.path());
    const auto& diags = set.diagnostics;
    auto dirs = one(diags, file, "/plugin_dirs");
    EXPECT_EQ(dirs.expected, "array");
    EXPECT_EQ(dirs.found, "string \"plugins\"");
    EXPECT_EQ(std::make_pair(dirs.line, dirs.column), std::make_pair(2, 18));
    auto data = one(diags, file, "/data_dir");
    EXPECT_EQ(data.message, "too short");
    EXPECT_EQ(data.expected, "a folder path");
    auto logs = one(diags, file, "/logs");
    EXPECT_EQ(logs.hint, "did you mean 'log'?");
    auto level = one(diags, file, "/log/level");
    EXPECT_EQ(level.message, "not one of the allowed values");
    EXPECT_EQ(level.expected, R"(one of: "trace", "debug", "info", "warn", "error", "off")");
    EXPECT_EQ(level.found, "string \"verbose\"");
    EXPECT_EQ(std::make_pair(level.line, level.column), std::make_pair(5, 20));
    auto format = one(diags, file, "/log/format");
    EXPECT_EQ(format.expected, R"(one of: "text", "json")");
    auto colour = one(diags, file, "/log/colour");
    EXPECT_EQ(colour.message, "unknown key 'colour'");
    EXPECT_EQ(diags.size(), 6u) << dump(diags);
    // Problems leave the defaults in place.
    EXPECT_TRUE(set.hub.plugin_dirs.empty());
    EXPECT_EQ(set.hub.data_dir, (absolute(dir) / "../var").lexically_normal());
}

TEST(HubFormat, DuplicatePluginFolders) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    dir.write("p/.keep", "");
    auto file = dir.write("hub.json", R"({"plugin_dirs": ["p", "p"]})");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "/plugin_dirs/1");
    EXPECT_EQ(d.message, "duplicate item (same as item 0)");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(1, 23));
}

TEST(HubFormat, AdminApiAndCleansing) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    dir.write("hub.json", R"({"admin_api": {"token": {"env": "ADMIN_TOKEN"}, "metrics": "token"},
                              "cleansing": {"default_phone_region": "DE",
                                            "strict_phone_validation": false}})");
    auto set = load(dir.path());
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    ASSERT_TRUE(set.hub.admin_api.has_value());
    EXPECT_EQ(set.hub.admin_api->token.source, SecretRef::Source::env);
    EXPECT_EQ(set.hub.admin_api->token.location, "ADMIN_TOKEN");
    EXPECT_FALSE(set.hub.admin_api->metrics_public);
    EXPECT_FALSE(set.hub.ingest_api.has_value());
    EXPECT_EQ(set.hub.default_phone_region, "DE");
    EXPECT_FALSE(set.hub.strict_phone_validation);

    // Defaults: no admin API, US, strict.
    TempFolder plain;
    plain.write("connectors/.keep", "");
    auto defaults = load(plain.path());
    EXPECT_FALSE(defaults.hub.admin_api.has_value());
    EXPECT_EQ(defaults.hub.default_phone_region, "US");
    EXPECT_TRUE(defaults.hub.strict_phone_validation);
}

TEST(HubFormat, AdminTokenMustBeASecretReferenceAndTheRegionTwoCapitals) {
    TempFolder dir;
    dir.write("connectors/.keep", "");
    auto file = dir.write("hub.json", R"({"admin_api": {"token": "plain-text-token-123456"},
                                          "cleansing": {"default_phone_region": "de"}})");
    auto set = load(dir.path());
    auto token = one(set.diagnostics, file, "/admin_api/token");
    EXPECT_TRUE(token.is_error());
    EXPECT_EQ(token.found.find("plain-text-token"), std::string::npos) << token.found;
    auto region = one(set.diagnostics, file, "/cleansing/default_phone_region");
    EXPECT_TRUE(region.is_error());
    EXPECT_NE(region.expected.find("ISO 3166-1"), std::string::npos) << region.expected;
    EXPECT_FALSE(set.hub.admin_api.has_value());
    EXPECT_EQ(set.hub.default_phone_region, "US");
}

}  // namespace
}  // namespace cdphub::manifest

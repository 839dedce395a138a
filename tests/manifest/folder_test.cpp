// The manifest folder as a whole: what is read, what is ignored, problems across files.
#include <gtest/gtest.h>

#include <algorithm>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::at;
using testing::dump;
using testing::fixture;
using testing::one;
using testing::TempFolder;

constexpr const char* kMinimal = R"({"id": "a", "plugin": "p"})";

TEST(Folder, MissingFolderIsADiagnosticNotAnException) {
    TempFolder dir;
    auto missing = dir.path() / "nope";
    auto set = load(missing);
    ASSERT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    EXPECT_TRUE(set.diagnostics[0].is_error());
    EXPECT_EQ(set.diagnostics[0].file, missing.string());
    EXPECT_EQ(set.diagnostics[0].message, "manifest folder not found");
    EXPECT_TRUE(set.connectors.empty());
}

TEST(Folder, AFileInsteadOfAFolderIsADiagnostic) {
    TempFolder dir;
    auto file = dir.write("hub.json", "{}");
    auto set = load(file);
    ASSERT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    EXPECT_EQ(set.diagnostics[0].file, file);
    EXPECT_EQ(set.diagnostics[0].message, "not a folder");
}

TEST(Folder, NoConnectorsFolderIsAWarning) {
    TempFolder dir;
    auto set = load(dir.path());
    ASSERT_EQ(set.diagnostics.size(), 1u) << dump(set.diagnostics);
    EXPECT_FALSE(set.diagnostics[0].is_error());
    EXPECT_EQ(set.diagnostics[0].file, dir.file("connectors"));
    EXPECT_NE(set.diagnostics[0].message.find("no connectors folder"), std::string::npos);
}

TEST(Folder, ReadsOnlyJsonFilesAndWarnsAboutOthers) {
    TempFolder dir;
    dir.write("connectors/a.json", kMinimal);
    dir.write("connectors/notes.txt", "not a manifest");
    dir.write("connectors/.a.json.swp", "editor junk");
    dir.write("connectors/old/b.json", R"({"id": "b", "plugin": "p"})");
    auto set = load(dir.path());
    ASSERT_EQ(set.connectors.size(), 1u);
    EXPECT_EQ(set.connectors[0].id, "a");
    ASSERT_EQ(set.diagnostics.size(), 2u) << dump(set.diagnostics);
    EXPECT_FALSE(testing::errors(set.diagnostics));
    EXPECT_EQ(set.diagnostics[0].file, dir.file("connectors/notes.txt"));
    EXPECT_NE(set.diagnostics[0].message.find("only .json files"), std::string::npos);
    EXPECT_EQ(set.diagnostics[1].file, dir.file("connectors/old"));
    EXPECT_NE(set.diagnostics[1].message.find("subfolders"), std::string::npos);
}

TEST(Folder, DuplicateInstanceIdNamesBothFiles) {
    TempFolder dir;
    auto first = dir.write("connectors/a.json", R"({"id": "crm", "plugin": "p"})");
    auto second = dir.write("connectors/b.json", "{\n  \"plugin\": \"p\",\n  \"id\": \"crm\"\n}");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, second, "/id");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.line, 3);
    EXPECT_EQ(d.column, 9);
    EXPECT_NE(d.message.find("'crm'"), std::string::npos) << d.message;
    EXPECT_NE(d.message.find(first), std::string::npos) << d.message;
    // The first declaration stays usable; the second is dropped.
    ASSERT_EQ(set.connectors.size(), 1u);
    EXPECT_EQ(set.connectors[0].file.string(), first);
}

TEST(Folder, EveryProblemInTheFolderIsReportedAtOnceAndSorted) {
    auto root = fixture("many_problems");
    auto set = load(root);
    auto hub = (root / "hub.json").string();
    auto a = (root / "connectors/a.json").string();
    auto b = (root / "connectors/b.json").string();
    auto c = (root / "connectors/c.json").string();

    auto unknown = one(set.diagnostics, hub, "/plugin_dir");
    EXPECT_EQ(unknown.hint, "did you mean 'plugin_dirs'?");
    EXPECT_EQ(std::make_pair(unknown.line, unknown.column), std::make_pair(2, 3));

    auto enabled = one(set.diagnostics, a, "/enabled");
    EXPECT_EQ(enabled.expected, "boolean");
    EXPECT_EQ(std::make_pair(enabled.line, enabled.column), std::make_pair(4, 14));

    auto every = one(set.diagnostics, a, "/schedule/every");
    EXPECT_EQ(every.found, "string \"15 minutes\"");
    EXPECT_EQ(std::make_pair(every.line, every.column), std::make_pair(5, 26));

    auto syntax = one(set.diagnostics, b, "");
    EXPECT_NE(syntax.message.find("missing ','"), std::string::npos);
    EXPECT_EQ(std::make_pair(syntax.line, syntax.column), std::make_pair(4, 3));

    auto ref = one(set.diagnostics, c, "/secrets/client_secret");
    EXPECT_EQ(ref.message, "too few keys");
    auto dup = one(set.diagnostics, c, "/id");
    EXPECT_NE(dup.message.find(a), std::string::npos);

    EXPECT_EQ(set.diagnostics.size(), 6u) << dump(set.diagnostics);
    EXPECT_TRUE(std::is_sorted(set.diagnostics.begin(), set.diagnostics.end(),
                               [](const Diagnostic& x, const Diagnostic& y) {
                                   return std::tie(x.file, x.line) < std::tie(y.file, y.line);
                               }))
        << dump(set.diagnostics);
}

TEST(Folder, DiagnosticsAreTheSameFromRunToRun) {
    auto first = load(fixture("many_problems")).diagnostics;
    auto second = load(fixture("many_problems")).diagnostics;
    ASSERT_EQ(first.size(), second.size());
    for (size_t i = 0; i < first.size(); ++i)
        EXPECT_EQ(first[i].to_string(), second[i].to_string());
}

TEST(Folder, DemoFolderLoadsClean) {
    auto root = fixture("demo");
    auto set = load(root);
    EXPECT_TRUE(set.diagnostics.empty()) << dump(set.diagnostics);
    ASSERT_EQ(set.connectors.size(), 3u);
    EXPECT_EQ(set.connectors[0].id, "crm-main");
    EXPECT_EQ(set.connectors[1].id, "newsletter");
    EXPECT_EQ(set.connectors[2].id, "pos-shop");
    ASSERT_NE(set.find("newsletter"), nullptr);
    EXPECT_FALSE(set.find("newsletter")->enabled);
    EXPECT_EQ(set.find("missing"), nullptr);
    auto abs = std::filesystem::absolute(root).lexically_normal();
    EXPECT_EQ(set.hub.file, root / "hub.json");
    ASSERT_EQ(set.hub.plugin_dirs.size(), 1u);
    EXPECT_EQ(set.hub.plugin_dirs[0], abs / "plugins");
    EXPECT_EQ(set.hub.data_dir, (abs / "../var/demo").lexically_normal());
    EXPECT_EQ(set.hub.log_format, "json");
}

TEST(Folder, ConnectorsAreReadInFileNameOrder) {
    TempFolder dir;
    dir.write("connectors/b.json", R"({"id": "first-by-id", "plugin": "p"})");
    dir.write("connectors/a.json", R"({"id": "second-by-id", "plugin": "p"})");
    auto set = load(dir.path());
    ASSERT_EQ(set.connectors.size(), 2u) << dump(set.diagnostics);
    EXPECT_EQ(set.connectors[0].id, "second-by-id");
    EXPECT_EQ(set.connectors[1].id, "first-by-id");
}

TEST(Folder, OversizedFileIsRefused) {
    TempFolder dir;
    auto file = dir.write("connectors/big.json", std::string(2 << 20, ' ') + "{}");
    auto set = load(dir.path());
    auto d = one(set.diagnostics, file, "");
    EXPECT_NE(d.message.find("too large"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace cdphub::manifest

// Loading: every way a plugin file can be wrong gets a clear diagnostic naming the file, and the
// hub goes on with the others.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "plugin_host/plugin_catalog.hpp"
#include "test_util.hpp"

namespace cdphub::plugin_host {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path plugins(const std::string& dir) {
    return fs::path(CDPHUB_TEST_PLUGINS) / dir;
}

// Loads one scenario directory and returns its single diagnostic (the test fails otherwise).
Diagnostic only_problem(const std::string& dir) {
    auto cat = PluginCatalog::discover({plugins(dir)});
    EXPECT_TRUE(cat.plugins().empty()) << dir;
    EXPECT_EQ(cat.diagnostics().size(), 1u) << dir;
    return cat.diagnostics().empty() ? Diagnostic{} : cat.diagnostics().front();
}

TEST(PluginCatalog, LoadsAWellBehavedPlugin) {
    auto cat = PluginCatalog::discover({plugins("good")});
    ASSERT_EQ(cat.plugins().size(), 1u);
    EXPECT_TRUE(cat.diagnostics().empty());
    const auto& i = cat.plugins()[0]->info();
    EXPECT_EQ(i.id, "test-connector");
    EXPECT_EQ(i.version, "2.3.4");
    EXPECT_EQ(i.kind, CDPHUB_KIND_SOURCE | CDPHUB_KIND_DESTINATION);
    EXPECT_EQ(i.category, uint32_t{CDPHUB_CATEGORY_CRM});
    EXPECT_EQ(i.abi_major, 1u);
    EXPECT_EQ(i.config_spec.at("properties").at("token").at("writeOnly"), true);
    EXPECT_EQ(i.capabilities.at("rate_limit").at("requests"), 50);
    EXPECT_EQ(i.sha256.size(), 64u);
    EXPECT_NE(cat.find("test-connector"), nullptr);
}

TEST(PluginCatalog, MissingDirectoryIsAWarningNotAFailure) {
    auto cat = PluginCatalog::discover({"/nonexistent/cdphub-plugins", plugins("good")});
    EXPECT_EQ(cat.plugins().size(), 1u);
    ASSERT_EQ(cat.diagnostics().size(), 1u);
    EXPECT_FALSE(cat.diagnostics()[0].is_error());
    EXPECT_THAT(cat.diagnostics()[0].message, HasSubstr("does not exist"));
}

TEST(PluginCatalog, NotASharedLibrary) {
    auto d = only_problem("not_a_library");
    EXPECT_THAT(d.file, HasSubstr("readme.so"));
    EXPECT_THAT(d.message, HasSubstr("not a loadable shared library"));
    EXPECT_FALSE(d.hint.empty());
}

TEST(PluginCatalog, EntrySymbolMissing) {
    auto d = only_problem("no_entry");
    EXPECT_THAT(d.message, HasSubstr("no entry symbol 'cdphub_plugin_entry'"));
    EXPECT_THAT(d.hint, HasSubstr("CDPHUB_PLUGIN"));
}

TEST(PluginCatalog, AbiMajorMismatchIsRefusedWithVersions) {
    auto d = only_problem("abi_major");
    EXPECT_THAT(d.message, HasSubstr("built for plugin ABI 2.0"));
    EXPECT_THAT(d.message, HasSubstr("this hub speaks ABI 1."));
    EXPECT_THAT(d.hint, HasSubstr("rebuild"));
}

TEST(PluginCatalog, NewerMinorLoadsAndUnknownFieldsAreIgnored) {
    auto cat = PluginCatalog::discover({plugins("newer_minor")});
    ASSERT_EQ(cat.plugins().size(), 1u);
    EXPECT_TRUE(cat.diagnostics().empty());
    EXPECT_EQ(cat.plugins()[0]->info().abi_minor, CDPHUB_ABI_MINOR + 7u);
    EXPECT_EQ(cat.plugins()[0]->descriptor().struct_size,
              cat.plugins()[0]->descriptor().struct_size);
    EXPECT_NE(cat.plugins()[0]->descriptor().read, nullptr);
}

TEST(PluginCatalog, PluginThatRefusesThisHub) {
    EXPECT_THAT(only_problem("refuses").message, HasSubstr("refused to load"));
}

TEST(PluginCatalog, GarbageDescriptors) {
    EXPECT_THAT(only_problem("null_id").message, HasSubstr("missing plugin id"));
    EXPECT_THAT(only_problem("bad_id").message, HasSubstr("invalid plugin id 'Bad Id!'"));
    EXPECT_THAT(only_problem("bad_kind").message, HasSubstr("declares kind 12"));
    EXPECT_THAT(only_problem("bad_spec").message,
                HasSubstr("config spec that is not a JSON object"));
    EXPECT_THAT(only_problem("small_struct").message, HasSubstr("struct_size 8"));
    EXPECT_THAT(only_problem("no_read").message, HasSubstr("source without a read function"));
}

TEST(PluginCatalog, UnknownCategoryLoadsAsOtherWithAWarning) {
    auto cat = PluginCatalog::discover({plugins("unknown_category")});
    ASSERT_EQ(cat.plugins().size(), 1u);
    EXPECT_EQ(cat.plugins()[0]->info().category, uint32_t{CDPHUB_CATEGORY_OTHER});
    ASSERT_EQ(cat.diagnostics().size(), 1u);
    EXPECT_FALSE(cat.diagnostics()[0].is_error());
}

TEST(PluginCatalog, EntryThatThrowsIsCaught) {
    auto d = only_problem("throws_in_entry");
    EXPECT_THAT(d.message, HasSubstr("threw an exception: boom in entry"));
    EXPECT_THAT(d.hint, HasSubstr("bug in the plugin"));
}

TEST(PluginCatalog, DuplicateIdKeepsTheFirstAndNamesBoth) {
    auto cat = PluginCatalog::discover({plugins("duplicate")});
    ASSERT_EQ(cat.plugins().size(), 1u);
    EXPECT_THAT(cat.plugins()[0]->info().path.string(), HasSubstr("duplicate_a.so"));
    ASSERT_EQ(cat.diagnostics().size(), 1u);
    const auto& d = cat.diagnostics()[0];
    EXPECT_THAT(d.file, HasSubstr("duplicate_b.so"));
    EXPECT_THAT(d.message, HasSubstr("duplicate plugin id 'dup'"));
    EXPECT_THAT(d.message, HasSubstr("duplicate_a.so"));
}

TEST(PluginCatalog, OneBadFileNeverStopsTheOthers) {
    test::TempDir dir;
    for (const auto* name : {"good/test_connector.so", "no_entry/broken_no_entry.so",
                             "abi_major/broken_abi_major.so", "not_a_library/readme.so"})
        fs::copy_file(plugins(name), dir.path() / fs::path(name).filename());
    auto cat = PluginCatalog::discover({dir.path()});
    EXPECT_EQ(cat.ids(), std::vector<std::string>{"test-connector"});
    EXPECT_EQ(cat.diagnostics().size(), 3u);
}

TEST(PluginCatalog, SeveralPluginsLoadSideBySideEachWithItsOwnDescriptor) {
    // Regression: loading every plugin under one reused name made them all the first one.
    auto cat = PluginCatalog::discover({plugins("good"), plugins("init_fails"),
                                        plugins("throws_in_check"), plugins("newer_minor")});
    EXPECT_THAT(cat.ids(), ::testing::UnorderedElementsAre("test-connector", "init_fails",
                                                           "throws-in-check", "newer_minor"));
    EXPECT_TRUE(cat.diagnostics().empty());
}

TEST(PluginCatalog, SymlinkLeadingOutsideThePluginDirectoriesIsRefused) {
    test::TempDir dir;
    fs::create_symlink(plugins("good") / "test_connector.so", dir.path() / "sneaky.so");
    auto cat = PluginCatalog::discover({dir.path()});
    EXPECT_TRUE(cat.plugins().empty());
    ASSERT_EQ(cat.diagnostics().size(), 1u);
    EXPECT_THAT(cat.diagnostics()[0].message, HasSubstr("outside every plugin directory"));
}

TEST(PluginCatalog, MissingExplicitFileIsNamed) {
    auto cat = PluginCatalog::discover({plugins("good")});
    EXPECT_EQ(cat.load_file(plugins("good") / "gone.so"), nullptr);
    ASSERT_FALSE(cat.diagnostics().empty());
    EXPECT_THAT(cat.diagnostics().back().file, HasSubstr("gone.so"));
    EXPECT_THAT(cat.diagnostics().back().message, HasSubstr("does not exist"));
}

TEST(PluginCatalog, ExplicitFileOutsideThePluginDirectoriesIsRefused) {
    auto cat = PluginCatalog::discover({plugins("duplicate")});
    EXPECT_FALSE(cat.inside_plugin_dirs(plugins("good") / "test_connector.so"));
    EXPECT_TRUE(cat.inside_plugin_dirs(plugins("duplicate") / "duplicate_a.so"));
    // A prefix of a directory name is not "inside" it.
    EXPECT_FALSE(cat.inside_plugin_dirs(plugins("duplicate-other") / "x.so"));
    EXPECT_EQ(cat.load_file(plugins("good") / "test_connector.so"), nullptr);
    EXPECT_THAT(cat.diagnostics().back().message, HasSubstr("outside every plugin directory"));
}

}  // namespace
}  // namespace cdphub::plugin_host

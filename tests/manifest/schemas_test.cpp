// The schemas compiled into the hub are the documented ones, and they are usable JSON Schemas.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "manifest/schemas.hpp"
#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using nlohmann::json;

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::filesystem::path kSource = CDPHUB_SOURCE_DIR;

TEST(Schemas, EveryFileOfTheSchemaFolderIsEmbedded) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(kSource / "manifests/schema")) {
        auto name = entry.path().filename().string();
        if (name.ends_with(".schema.json")) files.push_back(name.substr(0, name.find('.')));
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> embedded;
    for (auto name : detail::schema_names()) embedded.emplace_back(name);
    EXPECT_EQ(embedded, files);
    EXPECT_EQ(embedded, (std::vector<std::string>{"activation", "computed-trait", "connector",
                                                  "hub", "identity", "segment"}));
    EXPECT_EQ(detail::schema_text("nope"), "");
    EXPECT_THROW(detail::schema("nope"), std::out_of_range);
}

TEST(Schemas, EmbeddedTextIsTheRepositoryFileByteForByte) {
    EXPECT_EQ(detail::hub_schema_text(), read(kSource / "manifests/schema/hub.schema.json"));
    EXPECT_EQ(detail::connector_schema_text(),
              read(kSource / "manifests/schema/connector.schema.json"));
    for (auto name : detail::schema_names()) {
        EXPECT_EQ(detail::schema_text(name),
                  read(kSource / "manifests/schema" / (std::string(name) + ".schema.json")))
            << name;
    }
}

TEST(Schemas, CompileAsDraft7) {
    EXPECT_NO_THROW(detail::hub_schema());
    EXPECT_NO_THROW(detail::connector_schema());
    EXPECT_NO_THROW(detail::identity_schema());
    EXPECT_NO_THROW(detail::computed_trait_schema());
    EXPECT_NO_THROW(detail::segment_schema());
    EXPECT_NO_THROW(detail::activation_schema());
    for (auto name : detail::schema_names()) {
        EXPECT_NO_THROW(detail::schema(name)) << name;
        EXPECT_EQ(&detail::schema(name), &detail::schema(name)) << name;  // compiled once
        auto schema = json::parse(detail::schema_text(name));
        EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#") << name;
        EXPECT_EQ(schema["additionalProperties"], false) << name;
    }
}

TEST(Schemas, DocumentationCoversEveryKey) {
    auto docs = read(kSource / "docs/manifests.md");
    ASSERT_FALSE(docs.empty());
    for (auto name : detail::schema_names()) {
        auto schema = json::parse(detail::schema_text(name));
        for (const auto& [key, value] : schema["properties"].items()) {
            EXPECT_NE(docs.find("`" + key + "`"), std::string::npos) << name << ": " << key;
        }
    }
}

TEST(Schemas, DemoManifestsPointAtTheSchemas) {
    // Editors find the schema through "$schema": every demo file names an existing one.
    auto root = kSource / "manifests";
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().extension() != ".json" ||
            entry.path().parent_path().filename() == "schema") {
            continue;
        }
        auto doc = json::parse(read(entry.path()));
        ASSERT_TRUE(doc.contains("$schema")) << entry.path();
        auto schema = (entry.path().parent_path() / doc["$schema"].get<std::string>());
        EXPECT_TRUE(std::filesystem::exists(schema)) << entry.path() << " -> " << schema;
    }
}

}  // namespace
}  // namespace cdphub::manifest

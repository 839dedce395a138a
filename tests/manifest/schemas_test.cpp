// The schemas compiled into the hub are the documented ones, and they are usable JSON Schemas.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

TEST(Schemas, EmbeddedTextIsTheRepositoryFileByteForByte) {
    EXPECT_EQ(detail::hub_schema_text(), read(kSource / "manifests/schema/hub.schema.json"));
    EXPECT_EQ(detail::connector_schema_text(),
              read(kSource / "manifests/schema/connector.schema.json"));
}

TEST(Schemas, CompileAsDraft7) {
    EXPECT_NO_THROW(detail::hub_schema());
    EXPECT_NO_THROW(detail::connector_schema());
    for (auto text : {detail::hub_schema_text(), detail::connector_schema_text()}) {
        auto schema = json::parse(text);
        EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        EXPECT_EQ(schema["additionalProperties"], false);
    }
}

TEST(Schemas, DocumentationCoversEveryKey) {
    auto docs = read(kSource / "docs/manifests.md");
    ASSERT_FALSE(docs.empty());
    for (auto text : {detail::hub_schema_text(), detail::connector_schema_text()}) {
        auto schema = json::parse(text);
        for (const auto& [key, value] : schema["properties"].items()) {
            EXPECT_NE(docs.find("`" + key + "`"), std::string::npos) << key;
        }
    }
}

}  // namespace
}  // namespace cdphub::manifest

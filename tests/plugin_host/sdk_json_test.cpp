// The SDK's parse for JSON from outside the hub, as plugins use it on vendor answers.
#include <gtest/gtest.h>

#include <cdphub/sdk.hpp>
#include <string>

namespace {

TEST(SdkJson, UntrustedTextParsesOrComesBackDiscardedNeverDeep) {
    EXPECT_EQ(cdphub::parse_untrusted_json(R"({"errors":[{"code":"X"}]})")["errors"][0]["code"],
              "X");
    EXPECT_TRUE(cdphub::parse_untrusted_json("<html>503</html>").is_discarded());
    EXPECT_TRUE(cdphub::parse_untrusted_json("").is_discarded());
    // 100,000 levels: parsed, the tree would overflow the stack of whatever copies or dumps it.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    EXPECT_TRUE(cdphub::parse_untrusted_json(deep).is_discarded());
    const std::string fine = std::string(512, '[') + std::string(512, ']');
    EXPECT_FALSE(cdphub::parse_untrusted_json(fine).is_discarded());
    EXPECT_TRUE(cdphub::parse_untrusted_json("[" + fine + "]").is_discarded());
}

}  // namespace

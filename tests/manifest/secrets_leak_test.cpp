// Secret values must never reach a diagnostic, wherever the admin put them by mistake.
#include <gtest/gtest.h>

#include <cstdlib>

#include "manifest/support.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::manifest {
namespace {

using nlohmann::json;
using testing::dump;
using testing::one;
using testing::TempFolder;

constexpr const char* kEnvSecret = "env-SECRET-4f9a2c";
constexpr const char* kFileSecret = "file-SECRET-7b1d3e";

const json kSpec = json::parse(R"({
  "type": "object",
  "properties": {
    "client_secret": {"type": "string", "writeOnly": true},
    "api_key": {"type": "string", "writeOnly": true, "minLength": 40},
    "password": {"type": "string", "writeOnly": true},
    "token": {"type": "string", "writeOnly": true},
    "username": {"type": "string"},
    "note": {"type": "string", "maxLength": 5}
  },
  "required": ["username"]
})");

class SecretsLeak : public ::testing::Test {
  protected:
    void SetUp() override {
        secrets::Redactor::global().clear();
        ::setenv("CDPHUB_LEAK_TEST_VAR", kEnvSecret, 1);
    }
    void TearDown() override {
        ::unsetenv("CDPHUB_LEAK_TEST_VAR");
        secrets::Redactor::global().clear();
    }

    static void expect_no_secret(const Diagnostics& diags) {
        for (const auto& d : diags) {
            auto text = d.to_string();
            EXPECT_EQ(text.find(kEnvSecret), std::string::npos) << text;
            EXPECT_EQ(text.find(kFileSecret), std::string::npos) << text;
            EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
        }
    }

    TempFolder dir;
};

TEST_F(SecretsLeak, SecretValuesFromEnvAndFilesNeverAppearInDiagnostics) {
    dir.write("secrets/key", std::string(kFileSecret) + "\n");
    auto a = dir.write("connectors/a.json", R"({
  "id": "a",
  "plugin": "crm",
  "config": {
    "client_secret": "env-SECRET-4f9a2c",
    "api_key": {"nested": "file-SECRET-7b1d3e"},
    "username": 42,
    "note": "file-SECRET-7b1d3e",
    "unknown_thing": "env-SECRET-4f9a2c"
  },
  "secrets": {
    "password": {"env": "CDPHUB_LEAK_TEST_VAR"},
    "token": {"file": "secrets/key"},
    "bogus": {"env": "env-SECRET-4f9a2c"},
    "pasted": "file-SECRET-7b1d3e"
  }
})");
    auto b =
        dir.write("connectors/b.json", R"({"id": "b", "plugin": "crm", "x": env-SECRET-4f9a2c})");
    auto c = dir.write("connectors/c.json",
                       R"({"id": "c", "plugin": "crm", "config": "file-SECRET-7b1d3e"})");

    // Loading reads no secret yet: nothing can be redacted, so nothing may be shown.
    auto set = load(dir.path());
    ASSERT_TRUE(secrets::Redactor::global().empty());
    expect_no_secret(set.diagnostics);
    EXPECT_EQ(one(set.diagnostics, a, "/secrets/bogus/env").message, "invalid format");
    EXPECT_EQ(one(set.diagnostics, a, "/secrets/pasted").message, "wrong type");
    EXPECT_NE(one(set.diagnostics, b, "").message.find("bare word"), std::string::npos);
    EXPECT_EQ(one(set.diagnostics, c, "/config").message, "wrong type");

    auto diags = validate_configs(set,
                                  [](std::string_view id) -> std::optional<PluginSpec> {
                                      if (id != "crm") return std::nullopt;
                                      return PluginSpec{"crm", &kSpec};
                                  },
                                  {"crm"});
    expect_no_secret(diags);
    // The checks did run: the problems around the secrets are there, without the values.
    EXPECT_EQ(one(diags, a, "/config/client_secret").found, "a value (hidden: secret field)");
    EXPECT_EQ(one(diags, a, "/config/api_key").found, "a value (hidden: secret field)");
    EXPECT_EQ(one(diags, a, "/config/unknown_thing").message, "unknown key 'unknown_thing'");
    EXPECT_EQ(one(diags, a, "/config/username").found, "integer 42");
    // A secret value in a field that is not marked secret: the hub knows it once resolved.
    EXPECT_EQ(one(diags, a, "/config/note").found, "string \"***\"");
}

TEST_F(SecretsLeak, ResolvedSecretsAreRegisteredForRedaction) {
    dir.write("secrets/key", std::string(kFileSecret) + "\n");
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm", "config": {"username": "u"},
      "secrets": {"password": {"env": "CDPHUB_LEAK_TEST_VAR"}, "token": {"file": "secrets/key"}}})");
    auto diags = validate_configs(load(dir.path()),
                                  [](std::string_view) -> std::optional<PluginSpec> {
                                      return PluginSpec{"crm", &kSpec};
                                  },
                                  {"crm"});
    EXPECT_TRUE(diags.empty()) << dump(diags);
    EXPECT_EQ(secrets::redact(std::string("x ") + kEnvSecret + " " + kFileSecret), "x *** ***");
}

}  // namespace
}  // namespace cdphub::manifest

// validate_configs: each connector's config against its plugin's spec, secrets taken into account.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using nlohmann::json;
using testing::at;
using testing::dump;
using testing::fixture;
using testing::one;
using testing::TempFolder;

// Stands in for the plugin catalog: plugin id -> config spec.
struct Plugins {
    std::map<std::string, json> specs;
    std::set<std::string> sources_only = {};  // plugins that are not destinations

    PluginLookup lookup() const {
        return [this](std::string_view id) -> std::optional<PluginSpec> {
            auto it = specs.find(std::string(id));
            if (it == specs.end()) return std::nullopt;
            return PluginSpec{it->first, &it->second, !sources_only.contains(it->first)};
        };
    }
    std::vector<std::string> ids() const {
        std::vector<std::string> out;
        for (const auto& [id, spec] : specs) out.push_back(id);
        return out;
    }
    Diagnostics validate(const ManifestSet& set) const {
        EXPECT_TRUE(set.diagnostics.empty()) << "the manifest itself should be fine:\n"
                                             << dump(set.diagnostics);
        return validate_configs(set, lookup(), ids());
    }
};

const json kCrmSpec = json::parse(R"({
  "type": "object",
  "properties": {
    "instance_url": {"type": "string"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "client_secret": {"type": "string", "writeOnly": true},
    "mode": {"enum": ["full", "incremental"]},
    "auth": {
      "type": "object",
      "properties": {"user": {"type": "string"}, "password": {"type": "string", "writeOnly": true}}
    }
  },
  "required": ["instance_url", "client_secret"]
})");

Plugins crm() {
    return Plugins{{{"crm-salesforce", kCrmSpec}, {"esp-brevo", json::object()}}};
}

// An environment variable set for the duration of a test.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~ScopedEnv() { ::unsetenv(name_); }

  private:
    const char* name_;
};

TEST(ValidateConfigs, DemoFolderIsClean) {
    ScopedEnv env("CDPHUB_DEMO_SF_SECRET", "demo-secret-value");
    std::ifstream in(fixture("demo_plugin_specs.json"));
    Plugins plugins;
    json specs = json::parse(in);
    for (const auto& [id, spec] : specs.items()) plugins.specs[id] = spec;
    auto set = load(fixture("demo"));
    auto diags = plugins.validate(set);
    EXPECT_TRUE(diags.empty()) << dump(diags);
}

TEST(ValidateConfigs, DeliverySettingsOnASourceAreAWarning) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json",
                          "{\"id\": \"a\", \"plugin\": \"esp-brevo\",\n \"delivery\": "
                          "{\"max_attempts\": 3}}");
    auto plugins = crm();
    EXPECT_TRUE(plugins.validate(load(dir.path())).empty());  // a destination: fine
    plugins.sources_only.insert("esp-brevo");
    auto diags = plugins.validate(load(dir.path()));
    auto d = one(diags, file, "/delivery");
    EXPECT_FALSE(d.is_error());
    EXPECT_EQ(d.message,
              "connector 'a': 'delivery' has no effect: plugin 'esp-brevo' is not a "
              "destination");
    EXPECT_EQ(d.line, 2);
}

TEST(ValidateConfigs, UnknownPluginListsKnownIdsWithDidYouMean) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", "{\"id\": \"a\",\n \"plugin\": \"crm-salesforc\"}");
    auto diags = crm().validate(load(dir.path()));
    auto d = one(diags, file, "/plugin");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "unknown plugin 'crm-salesforc'");
    EXPECT_EQ(d.expected, "one of: crm-salesforce, esp-brevo");
    EXPECT_EQ(d.found, "string \"crm-salesforc\"");
    EXPECT_EQ(d.hint, "did you mean 'crm-salesforce'?");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(2, 12));
    EXPECT_EQ(diags.size(), 1u) << dump(diags);
}

TEST(ValidateConfigs, UnknownPluginWhenNoneAreInstalled) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "x"})");
    auto diags = Plugins{}.validate(load(dir.path()));
    auto d = one(diags, file, "/plugin");
    EXPECT_NE(d.expected.find("none was found"), std::string::npos) << d.expected;
    EXPECT_NE(d.hint.find("plugin_dirs"), std::string::npos) << d.hint;
}

TEST(ValidateConfigs, WrongTypeInConfig) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "secrets": {"client_secret": {"env": "X"}},
  "config": {
    "instance_url": "https://x",
    "port": "80",
    "mode": "sometimes",
    "auth": {"user": 5}
  }})");
    auto diags = crm().validate(load(dir.path()));
    auto port = one(diags, file, "/config/port");
    EXPECT_EQ(port.message, "wrong type");
    EXPECT_EQ(port.expected, "integer");
    EXPECT_EQ(port.found, "string \"80\"");
    EXPECT_EQ(std::make_pair(port.line, port.column), std::make_pair(5, 13));
    auto mode = one(diags, file, "/config/mode");
    EXPECT_EQ(mode.expected, R"(one of: "full", "incremental")");
    auto user = one(diags, file, "/config/auth/user");
    EXPECT_EQ(user.expected, "string");
    EXPECT_EQ(std::make_pair(user.line, user.column), std::make_pair(7, 22));
    EXPECT_EQ(at(diags, file, "/config/port").size(), 1u);  // not also "too small"
}

TEST(ValidateConfigs, NumberOutOfRange) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "secrets": {"client_secret": {"env": "X"}},
  "config": {"instance_url": "https://x", "port": 70000}})");
    auto d = one(crm().validate(load(dir.path())), file, "/config/port");
    EXPECT_EQ(d.message, "too large");
    EXPECT_EQ(d.expected, "at most 65535");
    EXPECT_EQ(d.found, "integer 70000");
}

TEST(ValidateConfigs, UnknownConfigKeyIsAnErrorUnlessTheSpecAllowsIt) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "secrets": {"client_secret": {"env": "X"}},
  "config": {"instance_url": "https://x", "prot": 80}})");
    auto set = load(dir.path());
    auto d = one(crm().validate(set), file, "/config/prot");
    EXPECT_EQ(d.message, "unknown key 'prot'");
    EXPECT_EQ(d.hint, "did you mean 'port'?");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(3, 43));

    Plugins open = crm();
    open.specs["crm-salesforce"]["additionalProperties"] = true;
    auto diags = open.validate(set);
    EXPECT_TRUE(at(diags, file, "/config/prot").empty()) << dump(diags);
}

TEST(ValidateConfigs, RequiredFieldMayComeFromASecretReference) {
    TempFolder dir;
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "config": {"instance_url": "https://x"},
  "secrets": {"client_secret": {"env": "CDPHUB_TEST_UNSET_VARIABLE"}}})");
    auto diags = crm().validate(load(dir.path()));
    EXPECT_EQ(testing::errors(diags), 0u) << dump(diags);
}

TEST(ValidateConfigs, MissingRequiredFields) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json",
                          "{\"id\": \"a\", \"plugin\": \"crm-salesforce\",\n \"config\": {}}");
    auto diags = crm().validate(load(dir.path()));
    auto url = one(diags, file, "/config/instance_url");
    EXPECT_EQ(url.message, "missing required key 'instance_url'");
    EXPECT_EQ(url.expected, "string");
    EXPECT_EQ(std::make_pair(url.line, url.column), std::make_pair(2, 12));
    auto secret = one(diags, file, "/config/client_secret");
    EXPECT_NE(secret.hint.find("secrets"), std::string::npos) << secret.hint;
    EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(ValidateConfigs, SecretFieldInClearTextIsAnError) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "config": {"instance_url": "https://x",
             "client_secret": 12345678}})");
    auto diags = crm().validate(load(dir.path()));
    auto d = one(diags, file, "/config/client_secret");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "secret field 'client_secret' is given in clear text");
    EXPECT_EQ(d.found, "a value (hidden: secret field)");
    EXPECT_NE(d.hint.find(R"({"client_secret": {"env": "VAR"}})"), std::string::npos) << d.hint;
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(3, 31));
    // Its wrong type is moot: it must move to secrets anyway.
    EXPECT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_EQ(d.to_string().find("12345678"), std::string::npos);
}

TEST(ValidateConfigs, NestedSecretFieldInClearTextIsAnErrorToo) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "secrets": {"client_secret": {"env": "X"}},
  "config": {"instance_url": "https://x", "auth": {"user": "u", "password": "pw-in-git"}}})");
    auto diags = crm().validate(load(dir.path()));
    auto d = one(diags, file, "/config/auth/password");
    EXPECT_EQ(d.message, "secret field 'auth/password' is given in clear text");
    EXPECT_EQ(d.found, "a value (hidden: secret field)");
}

TEST(ValidateConfigs, SecretValuesAreHiddenInSchemaProblems) {
    Plugins plugins{{{"p", json::parse(R"({"type": "object", "properties": {
        "pin": {"type": "string", "writeOnly": true, "pattern": "^[0-9]+$"},
        "nested": {"type": "object", "properties": {
          "key": {"type": "integer", "writeOnly": true}}}}})")}}};
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "p",
  "config": {"nested": {"key": "abc-visible?"}, "pin": "not-digits-visible?"}})");
    auto diags = plugins.validate(load(dir.path()));
    ASSERT_FALSE(diags.empty());
    for (const auto& d : diags) {
        EXPECT_EQ(d.to_string().find("visible?"), std::string::npos) << d.to_string();
    }
}

TEST(ValidateConfigs, SecretsAreFoundThroughItemsAndRecursiveSpecs) {
    Plugins plugins{{{"p", json::parse(R"({"type": "object", "properties": {
        "tree": {"$ref": "#/definitions/node"},
        "accounts": {"type": "array", "items": {"type": "object", "properties": {
          "token": {"type": "string", "writeOnly": true}}}}},
      "definitions": {"node": {"type": "object", "properties": {
        "child": {"$ref": "#/definitions/node"},
        "key": {"type": "string", "writeOnly": true}}}}})")}}};
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "p", "config": {
  "tree": {"child": {"child": {"key": "deep-secret-value"}}},
  "accounts": [{"token": "item-secret-value"}]}})");
    auto diags = plugins.validate(load(dir.path()));
    auto deep = one(diags, file, "/config/tree/child/child/key");
    EXPECT_EQ(deep.message, "secret field 'tree/child/child/key' is given in clear text");
    EXPECT_EQ(std::make_pair(deep.line, deep.column), std::make_pair(2, 39));
    auto item = one(diags, file, "/config/accounts/0/token");
    EXPECT_EQ(item.found, "a value (hidden: secret field)");
    EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(ValidateConfigs, SecretReferenceToAFieldThePluginDoesNotHave) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "config": {"instance_url": "https://x"},
  "secrets": {"client_secret": {"env": "X"}, "client_secert": {"env": "Y"}}})");
    auto diags = crm().validate(load(dir.path()));
    auto d = one(diags, file, "/secrets/client_secert");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "plugin 'crm-salesforce' has no config field 'client_secert'");
    EXPECT_EQ(d.hint, "did you mean 'client_secret'?");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(3, 46));
    // And it does not count as an unknown config key on top.
    EXPECT_TRUE(at(diags, file, "/config/client_secert").empty()) << dump(diags);
}

TEST(ValidateConfigs, UnresolvableSecretsAreWarnings) {
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "esp-brevo",
  "secrets": {"api_key": {"env": "CDPHUB_TEST_SURELY_UNSET"},
              "token": {"file": "secrets/missing.txt"}}})");
    Plugins plugins{{{"esp-brevo", json::parse(R"({"properties": {
        "api_key": {"type": "string", "writeOnly": true},
        "token": {"type": "string", "writeOnly": true}}})")}}};
    auto diags = plugins.validate(load(dir.path()));
    ASSERT_EQ(diags.size(), 2u) << dump(diags);
    auto env = one(diags, file, "/secrets/api_key/env");
    EXPECT_FALSE(env.is_error());
    EXPECT_NE(env.message.find("environment variable CDPHUB_TEST_SURELY_UNSET is not set"),
              std::string::npos)
        << env.message;
    EXPECT_EQ(std::make_pair(env.line, env.column), std::make_pair(2, 34));
    auto missing = one(diags, file, "/secrets/token/file");
    EXPECT_FALSE(missing.is_error());
    EXPECT_NE(missing.message.find("cannot be read"), std::string::npos) << missing.message;
    EXPECT_EQ(missing.line, 3);
}

TEST(ValidateConfigs, ResolvableSecretsAndDisabledInstancesGiveNoWarning) {
    TempFolder dir;
    ScopedEnv env("CDPHUB_TEST_TOKEN", "token-value-1");
    dir.write("secrets/key", "file-secret-value\n");
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "esp-brevo",
  "secrets": {"api_key": {"file": "secrets/key"}, "token": {"env": "CDPHUB_TEST_TOKEN"}}})");
    dir.write("connectors/b.json", R"({"id": "b", "plugin": "esp-brevo", "enabled": false,
  "secrets": {"api_key": {"env": "CDPHUB_TEST_SURELY_UNSET"}}})");
    Plugins plugins{{{"esp-brevo", json::parse(R"({"properties": {
        "api_key": {"type": "string", "writeOnly": true},
        "token": {"type": "string", "writeOnly": true}}})")}}};
    auto diags = plugins.validate(load(dir.path()));
    EXPECT_TRUE(diags.empty()) << dump(diags);
}

TEST(ValidateConfigs, InvalidPluginSpecIsReportedAgainstThePluginOnce) {
    TempFolder dir;
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "broken", "config": {"x": 1}})");
    dir.write("connectors/b.json", R"({"id": "b", "plugin": "broken"})");
    Plugins plugins{{{"broken", json::parse(R"({"properties": {"x": {"type": "strnig"}}})")}}};
    auto diags = plugins.validate(load(dir.path()));
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    const auto& d = diags[0];
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.file, "");  // not the admin's file: the plugin's
    EXPECT_NE(d.message.find("plugin 'broken' declares an invalid config spec"), std::string::npos)
        << d.message;
    EXPECT_NE(d.message.find("strnig"), std::string::npos) << d.message;
    EXPECT_NE(d.hint.find(dir.file("connectors/a.json")), std::string::npos) << d.hint;
    EXPECT_NE(d.hint.find(dir.file("connectors/b.json")), std::string::npos) << d.hint;
}

TEST(ValidateConfigs, InvalidRegexInPluginSpecIsThePluginsProblem) {
    TempFolder dir;
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "p", "config": {"name": "x"}})");
    Plugins plugins{{{"p", json::parse(R"({"properties": {"name": {"pattern": "(["}}})")}}};
    auto diags = plugins.validate(load(dir.path()));
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_EQ(diags[0].file, "");
    EXPECT_NE(diags[0].message.find("plugin 'p'"), std::string::npos);
}

TEST(ValidateConfigs, OneOfInASpecIsExplainedThroughTheBranchThatFits) {
    Plugins plugins{{{"p", json::parse(R"({"type": "object", "properties": {
        "target": {"oneOf": [
          {"type": "string"},
          {"type": "object", "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
           "required": ["host"], "additionalProperties": false}]}}})")}}};
    TempFolder dir;
    auto file = dir.write("connectors/a.json", R"({"id": "a", "plugin": "p",
  "config": {"target": {"port": "x"}}})");
    auto diags = plugins.validate(load(dir.path()));
    auto port = one(diags, file, "/config/target/port");
    EXPECT_EQ(port.expected, "integer");
    auto host = one(diags, file, "/config/target/host");
    EXPECT_EQ(host.message, "missing required key 'host'");
    EXPECT_EQ(diags.size(), 2u) << dump(diags);

    dir.write("connectors/a.json", R"({"id": "a", "plugin": "p", "config": {"target": 3}})");
    auto wrong = one(plugins.validate(load(dir.path())), file, "/config/target");
    EXPECT_EQ(wrong.message, "wrong type");
    EXPECT_EQ(wrong.expected, "string or object");
    EXPECT_EQ(wrong.found, "integer 3");
}

TEST(ValidateConfigs, ProblemsFromAllConnectorsAreSorted) {
    TempFolder dir;
    dir.write("connectors/b.json", R"({"id": "b", "plugin": "nope"})");
    dir.write("connectors/a.json", R"({"id": "a", "plugin": "crm-salesforce",
  "config": {"port": "x"}})");
    auto diags = crm().validate(load(dir.path()));
    ASSERT_EQ(diags.size(), 4u) << dump(diags);
    EXPECT_EQ(diags[0].file, dir.file("connectors/a.json"));
    EXPECT_EQ(diags[0].line, 2);
    EXPECT_EQ(diags[3].file, dir.file("connectors/b.json"));
}

}  // namespace
}  // namespace cdphub::manifest

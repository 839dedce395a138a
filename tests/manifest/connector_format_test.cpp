// connectors/*.json against the connector schema: one test per rule, each checking where the
// problem is reported (file, pointer, line, column) and what the admin reads.
#include <gtest/gtest.h>

#include "manifest/support.hpp"

namespace cdphub::manifest {
namespace {

using testing::at;
using testing::dump;
using testing::one;
using testing::TempFolder;

struct Loaded {
    TempFolder dir;
    std::string file;
    ManifestSet set;
};

// Loads a folder holding just connectors/c.json with `text`.
std::unique_ptr<Loaded> load_one(std::string_view text) {
    auto l = std::make_unique<Loaded>();
    l->file = l->dir.write("connectors/c.json", text);
    l->set = load(l->dir.path());
    return l;
}

TEST(ConnectorFormat, FullExampleIsReadIntoTheStruct) {
    auto l = load_one(R"({
  "$schema": "../schema/connector.schema.json",
  "id": "crm-main",
  "plugin": "crm-salesforce",
  "enabled": false,
  "description": "Contacts",
  "config": {"instance_url": "https://x", "objects": ["Contact"]},
  "secrets": {"client_secret": {"env": "SF_SECRET"}, "key": {"file": "secrets/k"}},
  "schedule": {"every": "15m"},
  "plugin_sha256": "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
  "plugin_file": "plugins/libcrm.so",
  "rate_limit": {"requests": 100, "per": "10s"}
})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    ASSERT_EQ(l->set.connectors.size(), 1u);
    const auto& c = l->set.connectors[0];
    EXPECT_EQ(c.file.string(), l->file);
    EXPECT_EQ(c.id, "crm-main");
    EXPECT_EQ(c.plugin, "crm-salesforce");
    EXPECT_FALSE(c.enabled);
    EXPECT_EQ(c.description, "Contacts");
    EXPECT_EQ(c.config["instance_url"], "https://x");
    ASSERT_EQ(c.secrets.size(), 2u);
    EXPECT_EQ(c.secrets.at("client_secret").source, SecretRef::Source::env);
    EXPECT_EQ(c.secrets.at("client_secret").location, "SF_SECRET");
    EXPECT_EQ(c.secrets.at("key").source, SecretRef::Source::file);
    EXPECT_EQ(c.secrets.at("key").location, "secrets/k");
    EXPECT_EQ(c.schedule.kind, Schedule::Kind::interval);
    EXPECT_EQ(c.schedule.every, std::chrono::minutes(15));
    EXPECT_EQ(c.plugin_sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    auto abs = std::filesystem::absolute(l->dir.path()).lexically_normal();
    EXPECT_EQ(c.plugin_file, abs / "plugins/libcrm.so");
    ASSERT_TRUE(c.rate_limit.has_value());
    EXPECT_EQ(c.rate_limit->requests, 100);
    EXPECT_EQ(c.rate_limit->per, std::chrono::seconds(10));
    ASSERT_NE(c.locator, nullptr);
    EXPECT_EQ(c.locator->locate("/config/objects/0"), std::make_pair(7, 55));
}

TEST(ConnectorFormat, DefaultsWhenOnlyRequiredKeysAreGiven) {
    auto l = load_one(R"({"id": "a", "plugin": "p"})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& c = l->set.connectors.at(0);
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.config, nlohmann::json::object());
    EXPECT_TRUE(c.secrets.empty());
    EXPECT_EQ(c.schedule.kind, Schedule::Kind::manual);
    EXPECT_FALSE(c.plugin_sha256 || c.plugin_file || c.rate_limit);
}

TEST(ConnectorFormat, ScheduleUnits) {
    for (auto [text, seconds] : {std::pair{"30s", 30}, {"2h", 7200}, {"1d", 86400}}) {
        auto l = load_one(std::string(R"({"id": "a", "plugin": "p", "schedule": {"every": ")") +
                          text + "\"}}");
        ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
        EXPECT_EQ(l->set.connectors.at(0).schedule.every.count(), seconds) << text;
    }
    auto manual = load_one(R"({"id": "a", "plugin": "p", "schedule": "manual"})");
    ASSERT_TRUE(manual->set.diagnostics.empty()) << dump(manual->set.diagnostics);
    EXPECT_EQ(manual->set.connectors.at(0).schedule.kind, Schedule::Kind::manual);
}

TEST(ConnectorFormat, RateLimitInMilliseconds) {
    auto l =
        load_one(R"({"id": "a", "plugin": "p", "rate_limit": {"requests": 5, "per": "250ms"}})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    EXPECT_EQ(l->set.connectors.at(0).rate_limit->per, std::chrono::milliseconds(250));
}

TEST(ConnectorFormat, DeliverySettingsAreRead) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "delivery": {"max_attempts": 20,
        "breaker_after": 5, "backoff": {"base": "500ms", "max": "10m"}, "batch_records": 250}})");
    ASSERT_TRUE(l->set.diagnostics.empty()) << dump(l->set.diagnostics);
    const auto& d = l->set.connectors.at(0).delivery;
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->max_attempts, 20);
    EXPECT_EQ(d->breaker_after, 5);
    EXPECT_EQ(d->backoff_base, std::chrono::milliseconds(500));
    EXPECT_EQ(d->backoff_max, std::chrono::minutes(10));
    EXPECT_EQ(d->batch_records, 250u);
    auto partial = load_one(R"({"id": "a", "plugin": "p", "delivery": {"max_attempts": 3}})");
    const auto& p = partial->set.connectors.at(0).delivery;
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->max_attempts, 3);
    EXPECT_FALSE(p->breaker_after || p->backoff_base || p->backoff_max || p->batch_records);
}

TEST(ConnectorFormat, DeliveryBackoffBaseAboveMaxIsRefused) {
    auto l = load_one(
        "{\"id\": \"a\", \"plugin\": \"p\",\n  \"delivery\": {\"backoff\": {\"base\": \"10m\", "
        "\"max\": \"1m\"}}}");
    auto d = one(l->set.diagnostics, l->file, "/delivery/backoff/base");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "delivery.backoff.base is longer than delivery.backoff.max");
    EXPECT_EQ(d.line, 2);
}

TEST(ConnectorFormat, DeliveryOutOfRangeIsRefused) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "delivery": {"max_attempts": 0}})");
    auto d = one(l->set.diagnostics, l->file, "/delivery/max_attempts");
    EXPECT_TRUE(d.is_error());
    auto unknown = load_one(R"({"id": "a", "plugin": "p", "delivery": {"retries": 3}})");
    EXPECT_TRUE(one(unknown->set.diagnostics, unknown->file, "/delivery/retries").is_error());
}

TEST(ConnectorFormat, MissingRequiredKeysAreEachReported) {
    auto l = load_one("{\n  \"description\": \"x\"\n}");
    auto id = one(l->set.diagnostics, l->file, "/id");
    EXPECT_EQ(id.message, "missing required key 'id'");
    EXPECT_NE(id.expected.find("1 to 63 characters"), std::string::npos) << id.expected;
    EXPECT_EQ(std::make_pair(id.line, id.column), std::make_pair(1, 1));
    auto plugin = one(l->set.diagnostics, l->file, "/plugin");
    EXPECT_EQ(plugin.message, "missing required key 'plugin'");
    EXPECT_EQ(l->set.diagnostics.size(), 2u) << dump(l->set.diagnostics);
    EXPECT_TRUE(l->set.connectors.empty());
}

TEST(ConnectorFormat, UnknownKeyWithDidYouMean) {
    auto l = load_one("{\n  \"id\": \"a\",\n  \"plugin\": \"p\",\n  \"shedule\": \"manual\"\n}");
    auto d = one(l->set.diagnostics, l->file, "/shedule");
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.message, "unknown key 'shedule'");
    EXPECT_EQ(d.hint, "did you mean 'schedule'?");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(4, 3));  // the key, not the value
    EXPECT_EQ(d.found, "");
}

TEST(ConnectorFormat, EveryUnknownKeyIsReportedNotJustTheFirst) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "zzz": 1, "colour": 2, "cron": 3})");
    EXPECT_EQ(at(l->set.diagnostics, l->file, "/zzz").size(), 1u) << dump(l->set.diagnostics);
    EXPECT_EQ(at(l->set.diagnostics, l->file, "/colour").size(), 1u);
    EXPECT_EQ(at(l->set.diagnostics, l->file, "/cron").size(), 1u);
    EXPECT_EQ(l->set.diagnostics.size(), 3u) << dump(l->set.diagnostics);
    // No close match: the known keys are listed instead.
    auto d = one(l->set.diagnostics, l->file, "/zzz");
    EXPECT_NE(d.hint.find("known keys: "), std::string::npos) << d.hint;
    EXPECT_NE(d.hint.find("schedule"), std::string::npos) << d.hint;
    // Problems in other keys leave the instance usable for the config checks.
    EXPECT_EQ(l->set.connectors.size(), 1u);
}

TEST(ConnectorFormat, WrongTypeSaysExpectedAndFound) {
    auto l =
        load_one("{\"id\": \"a\", \"plugin\": \"p\",\n \"enabled\": \"yes\", \"description\": 7}");
    auto enabled = one(l->set.diagnostics, l->file, "/enabled");
    EXPECT_EQ(enabled.message, "wrong type");
    EXPECT_EQ(enabled.expected, "boolean");
    EXPECT_EQ(enabled.found, "string \"yes\"");
    EXPECT_EQ(std::make_pair(enabled.line, enabled.column), std::make_pair(2, 13));
    auto description = one(l->set.diagnostics, l->file, "/description");
    EXPECT_EQ(description.expected, "string");
    EXPECT_EQ(description.found, "integer 7");
    // A wrong type is the whole story: no second complaint about the same value.
    EXPECT_EQ(l->set.diagnostics.size(), 2u) << dump(l->set.diagnostics);
}

TEST(ConnectorFormat, InvalidIdSaysWhatAnIdLooksLike) {
    auto l = load_one(R"({"id": "CRM Main", "plugin": "p"})");
    auto d = one(l->set.diagnostics, l->file, "/id");
    EXPECT_EQ(d.message, "invalid format");
    EXPECT_EQ(d.expected,
              "1 to 63 characters among a-z, 0-9, '_' and '-', starting with a letter or digit");
    EXPECT_EQ(d.found, "string \"CRM Main\"");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(1, 8));
    EXPECT_TRUE(l->set.connectors.empty());  // an instance without a valid id cannot be used
}

TEST(ConnectorFormat, IdLongerThan63CharactersIsRefused) {
    std::string id(64, 'a');
    auto l = load_one(R"({"id": ")" + id + R"(", "plugin": "p"})");
    EXPECT_EQ(one(l->set.diagnostics, l->file, "/id").message, "invalid format");
    auto ok = load_one(R"({"id": ")" + id.substr(1) + R"(", "plugin": "p"})");
    EXPECT_TRUE(ok->set.diagnostics.empty()) << dump(ok->set.diagnostics);
}

TEST(ConnectorFormat, ScheduleStringOtherThanManual) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "schedule": "15m"})");
    auto d = one(l->set.diagnostics, l->file, "/schedule");
    EXPECT_EQ(d.expected, "\"manual\" or an object like {\"every\": \"15m\"}");
    EXPECT_EQ(d.found, "string \"15m\"");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(1, 40));
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
}

TEST(ConnectorFormat, ScheduleOfWrongType) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "schedule": 15})");
    auto d = one(l->set.diagnostics, l->file, "/schedule");
    EXPECT_EQ(d.message, "wrong type");
    EXPECT_EQ(d.expected, "\"manual\" or an object like {\"every\": \"15m\"}");
    EXPECT_EQ(d.found, "integer 15");
    EXPECT_EQ(l->set.diagnostics.size(), 1u) << dump(l->set.diagnostics);
}

TEST(ConnectorFormat, ScheduleObjectProblemsAreReportedInsideIt) {
    auto l = load_one(
        "{\"id\": \"a\", \"plugin\": \"p\",\n \"schedule\": {\"every\": \"15x\", \"at\": "
        "\"02:00\"}}");
    auto every = one(l->set.diagnostics, l->file, "/schedule/every");
    EXPECT_EQ(every.message, "invalid format");
    EXPECT_NE(every.expected.find("s, m, h and d"), std::string::npos) << every.expected;
    EXPECT_EQ(every.found, "string \"15x\"");
    EXPECT_EQ(std::make_pair(every.line, every.column), std::make_pair(2, 24));
    auto extra = one(l->set.diagnostics, l->file, "/schedule/at");
    EXPECT_EQ(extra.message, "unknown key 'at'");
    EXPECT_EQ(std::make_pair(extra.line, extra.column), std::make_pair(2, 31));
    // Neither the oneOf summary nor the "manual" branch adds noise.
    EXPECT_EQ(l->set.diagnostics.size(), 2u) << dump(l->set.diagnostics);
}

TEST(ConnectorFormat, ScheduleObjectWithoutEvery) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "schedule": {}})");
    auto d = one(l->set.diagnostics, l->file, "/schedule/every");
    EXPECT_EQ(d.message, "missing required key 'every'");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(1, 40));
}

TEST(ConnectorFormat, SecretReferenceNeedsExactlyOneOfEnvOrFile) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "secrets": {
  "none": {},
  "both": {"env": "A", "file": "b"},
  "typo": {"evn": "A"},
  "bad_env": {"env": "MY-VAR"}
}})");
    const auto& diags = l->set.diagnostics;
    auto none = one(diags, l->file, "/secrets/none");
    EXPECT_EQ(none.message, "too few keys");
    EXPECT_EQ(none.expected, "an object with either 'env' or 'file', like {\"env\": \"VAR\"}");
    EXPECT_EQ(std::make_pair(none.line, none.column), std::make_pair(2, 11));
    auto both = one(diags, l->file, "/secrets/both");
    EXPECT_EQ(both.message, "too many keys");
    EXPECT_EQ(both.line, 3);
    auto typo = one(diags, l->file, "/secrets/typo/evn");
    EXPECT_EQ(typo.hint, "did you mean 'env'?");
    auto bad = one(diags, l->file, "/secrets/bad_env/env");
    EXPECT_EQ(bad.expected, "an environment variable name");
    EXPECT_EQ(diags.size(), 4u) << dump(diags);
}

TEST(ConnectorFormat, SecretReferencesAreNeverEchoed) {
    // Someone pasted the token where the variable name belongs.
    auto l = load_one(R"({"id": "a", "plugin": "p", "secrets": {
  "api_key": {"env": "sk-live-0123456789"},
  "token": "tok-pasted-0123456789"
}})");
    auto env = one(l->set.diagnostics, l->file, "/secrets/api_key/env");
    EXPECT_EQ(env.found, "a string (not shown: secret references are never echoed)");
    auto token = one(l->set.diagnostics, l->file, "/secrets/token");
    EXPECT_EQ(token.expected, "object");
    EXPECT_EQ(token.found, "a string (not shown: secret references are never echoed)");
    for (const auto& d : l->set.diagnostics) {
        EXPECT_EQ(d.to_string().find("0123456789"), std::string::npos) << d.to_string();
    }
}

TEST(ConnectorFormat, FieldBothInConfigAndSecrets) {
    auto l = load_one(R"({"id": "a", "plugin": "p",
 "config": {"token": "x"},
 "secrets": {"token": {"env": "TOKEN"}}})");
    auto d = one(l->set.diagnostics, l->file, "/secrets/token");
    EXPECT_EQ(d.message, "field 'token' is given both in config and in secrets");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(3, 14));
}

TEST(ConnectorFormat, ShaPinMustBe64HexDigits) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "plugin_sha256": "abc"})");
    auto d = one(l->set.diagnostics, l->file, "/plugin_sha256");
    EXPECT_EQ(d.expected, "64 hexadecimal digits (the SHA-256 of the plugin file)");
    EXPECT_EQ(d.found, "string \"abc\"");
}

TEST(ConnectorFormat, RateLimitProblems) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "rate_limit": {"requests": 0}})");
    auto requests = one(l->set.diagnostics, l->file, "/rate_limit/requests");
    EXPECT_EQ(requests.message, "too small");
    EXPECT_EQ(requests.expected, "at least 1");
    EXPECT_EQ(requests.found, "integer 0");
    auto per = one(l->set.diagnostics, l->file, "/rate_limit/per");
    EXPECT_EQ(per.message, "missing required key 'per'");
    EXPECT_FALSE(l->set.connectors.at(0).rate_limit.has_value());
}

TEST(ConnectorFormat, ConfigMustBeAnObject) {
    auto l = load_one(R"({"id": "a", "plugin": "p", "config": "user=admin;password=x"})");
    auto d = one(l->set.diagnostics, l->file, "/config");
    EXPECT_EQ(d.expected, "object");
    EXPECT_EQ(d.found, "a string (not shown)");
    EXPECT_TRUE(l->set.connectors.empty());
}

TEST(ConnectorFormat, KeyGivenTwice) {
    auto l =
        load_one("{\"id\": \"a\", \"plugin\": \"p\",\n \"enabled\": true, \"enabled\": false}");
    auto d = one(l->set.diagnostics, l->file, "/enabled");
    EXPECT_EQ(d.message, "key 'enabled' appears more than once in the same object");
    EXPECT_EQ(std::make_pair(d.line, d.column), std::make_pair(2, 19));
}

TEST(ConnectorFormat, DocumentThatIsNotAnObject) {
    auto l = load_one("[]");
    auto d = one(l->set.diagnostics, l->file, "");
    EXPECT_EQ(d.expected, "object");
    EXPECT_EQ(d.found, "empty array");
    EXPECT_TRUE(l->set.connectors.empty());
}

}  // namespace
}  // namespace cdphub::manifest

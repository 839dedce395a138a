// Calling plugins: every status path, the cursor contract, per-record outcomes, webhooks,
// cancellation, secrets and pins, against real plugin files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "logging/logging.hpp"
#include "memory_sink.hpp"
#include "plugin_host/connector.hpp"
#include "secrets/secrets.hpp"
#include "test_util.hpp"

namespace cdphub::plugin_host {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

fs::path plugins(const std::string& dir) {
    return fs::path(CDPHUB_TEST_PLUGINS) / dir;
}

using test::MemorySink;

class ConnectorTest : public ::testing::Test {
  protected:
    void SetUp() override { catalog_ = PluginCatalog::discover({plugins("good")}); }

    std::unique_ptr<Connector> make(const json& config) {
        auto r = Connector::create(catalog_.find("test-connector"), "test-1", config, {}, {});
        if (auto* st = std::get_if<CallStatus>(&r)) {
            ADD_FAILURE() << st->to_string();
            return nullptr;
        }
        return std::get<std::unique_ptr<Connector>>(std::move(r));
    }

    PluginCatalog catalog_;
};

TEST_F(ConnectorTest, CheckStatusesCarryTheirMeaning) {
    EXPECT_TRUE(make({{"check", "ok"}})->check().ok());

    auto auth = make({{"check", "auth"}})->check();
    EXPECT_EQ(auth.code, StatusCode::auth_error);
    EXPECT_THAT(auth.message, HasSubstr("refused the API token"));

    auto retry = make({{"check", "retry"}})->check();
    EXPECT_EQ(retry.code, StatusCode::retryable);
    ASSERT_TRUE(retry.retry_after.has_value());
    EXPECT_EQ(retry.retry_after->count(), 1500);

    auto thrown = make({{"check", "throw"}})->check();
    EXPECT_EQ(thrown.code, StatusCode::fatal);
    EXPECT_THAT(thrown.message, HasSubstr("unexpected state in check"));
}

TEST_F(ConnectorTest, CreateFailureExplainsItself) {
    auto r =
        Connector::create(catalog_.find("test-connector"), "x", {{"fail_create", true}}, {}, {});
    ASSERT_TRUE(std::holds_alternative<CallStatus>(r));
    EXPECT_EQ(std::get<CallStatus>(r).code, StatusCode::config_error);
    EXPECT_THAT(std::get<CallStatus>(r).message, HasSubstr("refusing this configuration"));
}

TEST_F(ConnectorTest, ReadCommitsRecordsWithTheirCursorAndResumes) {
    MemorySink sink;
    auto c = make({{"records", 25}, {"batch_size", 10}});
    auto r = c->read(sink);
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    EXPECT_EQ(r.records, 25u);
    EXPECT_EQ(sink.commits, 3);
    EXPECT_EQ(json::parse(sink.cursor_).at("next"), 25);
    EXPECT_EQ(sink.records.back().at("record_id"), "r24");

    // Nothing new: a second read emits nothing.
    EXPECT_EQ(c->read(sink).records, 0u);

    // More upstream: the next read resumes from the committed cursor.
    auto more = make({{"records", 32}, {"batch_size", 10}});
    auto r2 = more->read(sink);
    EXPECT_EQ(r2.records, 7u);
    EXPECT_EQ(sink.records.size(), 32u);
    EXPECT_EQ(sink.records[25].at("record_id"), "r25");
}

TEST_F(ConnectorTest, AFailedCommitStopsTheReadAndKeepsTheOldCursor) {
    MemorySink sink;
    sink.fail = true;
    auto r = make({{"records", 5}})->read(sink);
    EXPECT_EQ(r.status.code, StatusCode::retryable);
    EXPECT_THAT(r.status.message, HasSubstr("disk full"));
    EXPECT_EQ(r.records, 0u);
    EXPECT_EQ(sink.cursor_, "");
}

TEST_F(ConnectorTest, MalformedEmitIsAFaultEvenIfThePluginIgnoresIt) {
    MemorySink sink;
    auto r = make({{"bad_emit", true}})->read(sink);
    EXPECT_EQ(r.status.code, StatusCode::fatal);
    EXPECT_THAT(r.status.message, HasSubstr("JSON array"));
    EXPECT_TRUE(sink.records.empty());
}

TEST_F(ConnectorTest, DeeplyNestedRecordsAreRefusedUnparsed) {
    MemorySink sink;
    auto r = make({{"deep_emit", true}})->read(sink);
    EXPECT_EQ(r.status.code, StatusCode::fatal);
    EXPECT_THAT(r.status.message, HasSubstr("deeper than 512 levels"));
    EXPECT_TRUE(sink.records.empty());
}

TEST_F(ConnectorTest, WriteReportsPerRecordOutcomes) {
    json batch = json::array();
    for (int i = 0; i < 6; ++i) batch.push_back({{"n", i}});
    auto r = make({{"fail_record_every", 3}})->write(batch);
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.records.size(), 6u);
    EXPECT_TRUE(r.records[0].status.ok());
    EXPECT_EQ(r.records[2].status.code, StatusCode::invalid_record);
    EXPECT_THAT(r.records[2].status.message, HasSubstr("email"));
    EXPECT_EQ(r.records[5].status.code, StatusCode::invalid_record);
}

TEST_F(ConnectorTest, WebhookEmitsAndAnswers) {
    MemorySink sink;
    auto c = make({});
    WebhookRequest good{
        "POST", "/", "", R"({"event":"open"})", "127.0.0.1", {{"x-signature", "good"}}};
    auto r = c->receive(good, sink);
    EXPECT_TRUE(r.status.ok());
    EXPECT_EQ(r.response.status, 202);
    EXPECT_EQ(r.records, 1u);
    EXPECT_EQ(sink.records.at(0).at("event"), "open");

    WebhookRequest bad = good;
    bad.headers = {{"X-Signature", "forged"}};
    auto r2 = c->receive(bad, sink);
    EXPECT_EQ(r2.status.code, StatusCode::auth_error);
    EXPECT_EQ(r2.response.status, 401);
    EXPECT_EQ(sink.records.size(), 1u);
}

TEST_F(ConnectorTest, CancelStopsABlockedReadPromptly) {
    MemorySink sink;
    auto c = make({{"block_until_cancelled", true}});
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        c->cancel();
    });
    auto r = c->read(sink);
    stopper.join();
    EXPECT_EQ(r.status.code, StatusCode::cancelled);
}

TEST(ConnectorFailures, InitFailureAndThrowsAndGarbageStatuses) {
    auto init = PluginCatalog::discover({plugins("init_fails")});
    auto r = Connector::create(init.find("init_fails"), "i", json::object(), {}, {});
    ASSERT_TRUE(std::holds_alternative<CallStatus>(r));
    EXPECT_EQ(std::get<CallStatus>(r).code, StatusCode::config_error);
    EXPECT_THAT(std::get<CallStatus>(r).message, HasSubstr("account_id 'acme' does not exist"));

    auto tc = PluginCatalog::discover({plugins("throws_in_create")});
    auto r2 = Connector::create(tc.find("throws-in-create"), "t", json::object(), {}, {});
    ASSERT_TRUE(std::holds_alternative<CallStatus>(r2));
    EXPECT_THAT(std::get<CallStatus>(r2).message, HasSubstr("threw an exception from create"));
    EXPECT_THAT(std::get<CallStatus>(r2).message, HasSubstr("boom in create"));

    auto tk = PluginCatalog::discover({plugins("throws_in_check")});
    auto r3 = Connector::create(tk.find("throws-in-check"), "t", json::object(), {}, {});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Connector>>(r3));
    auto st = std::get<std::unique_ptr<Connector>>(r3)->check();
    EXPECT_EQ(st.code, StatusCode::fatal);
    EXPECT_THAT(st.message, HasSubstr("threw an exception from check"));

    auto us = PluginCatalog::discover({plugins("unknown_status")});
    auto r4 = Connector::create(us.find("unknown_status"), "u", json::object(), {}, {});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Connector>>(r4));
    auto st4 = std::get<std::unique_ptr<Connector>>(r4)->check();
    EXPECT_EQ(st4.code, StatusCode::fatal);
    EXPECT_THAT(st4.message, HasSubstr("unknown status 4242"));
}

class InstantiateTest : public ::testing::Test {
  protected:
    void SetUp() override {
        catalog_ = PluginCatalog::discover({plugins("good")});
        m_.file = dir_.path() / "connectors" / "t.json";
        m_.id = "t";
        m_.plugin = "test-connector";
    }
    test::TempDir dir_;
    PluginCatalog catalog_;
    manifest::ConnectorManifest m_;
};

TEST_F(InstantiateTest, ResolvesSecretsIntoConfigAndTheSecretService) {
    ::setenv("CDPHUB_TEST_TOKEN", "tok-4f9a8b7c", 1);
    m_.config = {{"check", "secret"}};
    m_.secrets["token"] = {manifest::SecretRef::Source::env, "CDPHUB_TEST_TOKEN"};
    auto r = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Connector>>(r))
        << std::get<Diagnostic>(r).to_string();
    EXPECT_TRUE(std::get<std::unique_ptr<Connector>>(r)->check().ok());
}

TEST_F(InstantiateTest, SecretsNeverReachTheLog) {
    test::TempDir d;
    d.write("token", "file-secret-93b1\n");
    m_.config = {{"check", "ok"}, {"log_token", true}};
    m_.secrets["token"] = {manifest::SecretRef::Source::file, (d.path() / "token").string()};
    logging::init({});
    ::testing::internal::CaptureStderr();
    auto r = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Connector>>(r));
    std::get<std::unique_ptr<Connector>>(r)->check();
    spdlog::default_logger()->flush();
    logging::get("plugin.t")->flush();
    auto err = ::testing::internal::GetCapturedStderr();
    EXPECT_THAT(err, HasSubstr("connecting with token ***"));
    EXPECT_THAT(err, Not(HasSubstr("file-secret-93b1")));
}

TEST_F(InstantiateTest, MissingSecretIsAClearErrorWithoutTheValue) {
    ::unsetenv("CDPHUB_TEST_MISSING");
    m_.secrets["token"] = {manifest::SecretRef::Source::env, "CDPHUB_TEST_MISSING"};
    auto r = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(r));
    const auto& d = std::get<Diagnostic>(r);
    EXPECT_THAT(d.message, HasSubstr("CDPHUB_TEST_MISSING is not set"));
    EXPECT_EQ(d.pointer, "/secrets/token");
}

TEST_F(InstantiateTest, Sha256PinMustMatchTheLoadedBytes) {
    m_.plugin_sha256 = std::string(64, 'a');
    auto r = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(r));
    EXPECT_THAT(std::get<Diagnostic>(r).message, HasSubstr("but the manifest pins aaaa"));
    EXPECT_EQ(std::get<Diagnostic>(r).pointer, "/plugin_sha256");

    m_.plugin_sha256 = catalog_.find("test-connector")->info().sha256;
    EXPECT_TRUE(
        std::holds_alternative<std::unique_ptr<Connector>>(instantiate(catalog_, m_, dir_.path())));
}

TEST_F(InstantiateTest, UnknownPluginAndOutsidePluginFile) {
    m_.plugin = "nope";
    auto r = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(r));
    EXPECT_THAT(std::get<Diagnostic>(r).message, HasSubstr("no plugin with id 'nope'"));

    m_.plugin = "dup";
    m_.plugin_file = plugins("duplicate") / "duplicate_a.so";
    auto r2 = instantiate(catalog_, m_, dir_.path());
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(r2));
    EXPECT_THAT(std::get<Diagnostic>(r2).message, HasSubstr("outside every plugin directory"));
}

}  // namespace
}  // namespace cdphub::plugin_host

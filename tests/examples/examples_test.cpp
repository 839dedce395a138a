// The examples as a partner ships them: built out of tree against the installed SDK, with the
// other compiler (see build_examples.sh), then loaded and exercised through the plugin host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory_sink.hpp"
#include "plugin_host/connector.hpp"
#include "support/http_test_server.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using ::testing::HasSubstr;
using json = nlohmann::json;
using plugin_host::Connector;
using plugin_host::PluginCatalog;

class ExamplesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        catalog_ = PluginCatalog::discover({CDPHUB_EXAMPLE_PLUGINS});
        ASSERT_TRUE(catalog_.diagnostics().empty()) << catalog_.diagnostics()[0].to_string();
    }
    std::unique_ptr<Connector> make(const std::string& plugin, const json& config) {
        auto r = Connector::create(catalog_.find(plugin), "ex", config, {}, {});
        if (auto* st = std::get_if<CallStatus>(&r)) {
            ADD_FAILURE() << st->to_string();
            return nullptr;
        }
        return std::get<std::unique_ptr<Connector>>(std::move(r));
    }
    PluginCatalog catalog_;
};

TEST_F(ExamplesTest, BothLoadWithTheirDescriptors) {
    auto c = catalog_.find("example-c-csv-contacts");
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->info().is_source());
    EXPECT_EQ(c->info().category, uint32_t{CDPHUB_CATEGORY_OTHER});
    EXPECT_EQ(c->info().abi_major, uint32_t{CDPHUB_ABI_MAJOR});
    auto w = catalog_.find("example-webhook-destination");
    ASSERT_NE(w, nullptr);
    EXPECT_TRUE(w->info().is_destination());
    EXPECT_TRUE(w->info().config_spec["properties"]["api_token"]["writeOnly"].get<bool>());
}

TEST_F(ExamplesTest, CPluginReadsCsvIncrementally) {
    test::TempDir dir;
    auto csv = dir.write("contacts.csv",
                         "email,first_name,user_id\n"
                         "ann@example.com,Ann,42\n"
                         "\"bo@example.org\",\"Bo, Jr.\",43\n"
                         "carla@example.net,Carla,44\n");
    auto src = make("example-c-csv-contacts", {{"path", csv.string()}, {"batch_size", 2}});
    ASSERT_TRUE(src);
    EXPECT_TRUE(src->check().ok());
    test::MemorySink sink;
    auto r = src->read(sink);
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    ASSERT_EQ(sink.records.size(), 3u);
    EXPECT_EQ(sink.commits, 2);  // batches of 2
    EXPECT_EQ(sink.records[0]["type"], "identify");
    EXPECT_EQ(sink.records[0]["identifiers"]["email"], "ann@example.com");
    EXPECT_EQ(sink.records[1]["traits"]["first_name"], "Bo, Jr.");
    EXPECT_EQ(sink.records[2]["identifiers"]["user_id"], "44");

    // Rows appended later are read from the cursor on, and only they.
    std::ofstream(csv, std::ios::app) << "dev@example.com,Dev,45\n";
    auto r2 = src->read(sink);
    ASSERT_TRUE(r2.status.ok());
    EXPECT_EQ(r2.records, 1u);
    EXPECT_EQ(sink.records.back()["identifiers"]["user_id"], "45");
}

TEST_F(ExamplesTest, CPluginCheckExplainsAMissingFile) {
    auto src = make("example-c-csv-contacts", {{"path", "/nonexistent/contacts.csv"}});
    ASSERT_TRUE(src);
    auto st = src->check();
    EXPECT_EQ(st.code, StatusCode::config_error);
    EXPECT_THAT(st.message, HasSubstr("/nonexistent/contacts.csv"));
}

TEST_F(ExamplesTest, CppDestinationDeliversThroughTheHubsHttpClient) {
    test::HttpTestServer server([](const test::HttpRequest& req) {
        if (req.header("Authorization") != "Bearer tok-7d1e0c55")
            return test::HttpResponse::text(401, "unauthorized");
        if (req.method == "GET") return test::HttpResponse::json(200, R"({"ok":true})");
        return test::HttpResponse::json(
            207, R"({"results":[{"index":1,"status":422,"message":"bad email"}]})");
    });
    json config{{"url", server.url("/ingest")}, {"api_token", "tok-7d1e0c55"}};
    auto dest = make("example-webhook-destination", config);
    ASSERT_TRUE(dest);
    EXPECT_TRUE(dest->check().ok());

    json batch = json::array({{{"email", "a@example.com"}}, {{"email", "not-an-email"}}});
    auto w = dest->write(batch);
    ASSERT_TRUE(w.status.ok()) << w.status.to_string();
    ASSERT_EQ(w.records.size(), 2u);
    EXPECT_TRUE(w.records[0].status.ok());
    EXPECT_EQ(w.records[1].status.code, StatusCode::invalid_record);
    EXPECT_THAT(w.records[1].status.message, HasSubstr("bad email"));
    auto posts = server.requests();
    ASSERT_FALSE(posts.empty());
    EXPECT_EQ(posts.back().method, "POST");
    EXPECT_THAT(posts.back().body, HasSubstr("not-an-email"));

    config["api_token"] = "wrong-token";
    auto bad = make("example-webhook-destination", config);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->check().code, StatusCode::auth_error);
}

}  // namespace
}  // namespace cdphub

// The profile-engine commands as a user runs them: import, profile show/explain/unmerge, segment
// preview/evaluate, activation plan, rejected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_cdphub.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using ::testing::HasSubstr;

class EngineCli : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_.write("m/hub.json", R"j({"data_dir": "../var"})j");
        dir_.write("m/connectors/esp.json",
                   R"j({"id": "esp", "plugin": "test-connector", "enabled": false})j");
        dir_.write("m/traits/orders_total.json",
                   R"j({"name": "orders_total", "expression": "count(orders)"})j");
        dir_.write("m/segments/gold.json",
                   R"j({"name": "gold", "expression": "traits.tier == \"gold\""})j");
        dir_.write("m/activations/gold_esp.json", R"j({"name": "gold_esp", "segment": "gold",
            "destination": "esp", "mapping": {"email": "identifiers.email"}})j");
        dir_.write(
            "data.ndjson",
            R"j({"type":"identify","record_id":"1","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"Ann@Shop.io"},"traits":{"tier":"gold"}}
{"type":"identify","record_id":"2","occurred_at":"2024-04-30T10:00:00Z","identifiers":{"phone":"+14155550123"},"traits":{"tier":"silver"}}
{"type":"identify","record_id":"3","occurred_at":"2024-05-02T10:00:00Z","identifiers":{"email":"ann@shop.io","phone":"+1 415 555 0123"}}
{"type":"identify","record_id":"4","occurred_at":"yesterday","identifiers":{"email":"x@y.io"}}
this is not json
)j");
    }
    std::string m() const {
        return "-m " + (dir_.path() / "m").string() + " -P " + CDPHUB_TEST_PLUGINS + "/good ";
    }
    std::string data() const { return (dir_.path() / "data.ndjson").string(); }
    test::TempDir dir_;
};

TEST_F(EngineCli, ImportResolvesAndSummarizes) {
    auto r = cdphub(m() + "import " + data() + " --source crm");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("records stored     3"));
    EXPECT_THAT(r.out, HasSubstr("rejected           2"));
    EXPECT_THAT(r.out, HasSubstr("bad_timestamp: 1"));
    EXPECT_THAT(r.out, HasSubstr("plugin_reported_error: 1"));
    EXPECT_THAT(r.out, HasSubstr("Profiles now: 1 (1 merges"));
    EXPECT_THAT(r.out, HasSubstr("Segment gold: 1 members"));
    // Again: everything is already there.
    r = cdphub(m() + "import " + data() + " --source crm");
    EXPECT_THAT(r.out, HasSubstr("already stored     3"));
    EXPECT_THAT(r.out, HasSubstr("Profiles now: 1 ("));

    r = cdphub(m() + "rejected --source crm");
    EXPECT_THAT(r.out, HasSubstr("bad_timestamp"));
    EXPECT_THAT(r.out, HasSubstr("this is not json"));
}

TEST_F(EngineCli, ADeeplyNestedLineIsRejectedAndNothingCrashes) {
    // 200,000 levels: parsed and then copied or dumped, this overflowed the stack (SIGSEGV).
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    dir_.write(
        "deep.ndjson",
        R"j({"type":"identify","record_id":"d1","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"deep@shop.io"},"traits":{"x":)j" +
            deep + "}}\n" +
            R"j({"type":"identify","record_id":"d2","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"fine@shop.io"}})j" +
            "\n");
    const auto file = (dir_.path() / "deep.ndjson").string();
    auto r = cdphub(m() + "import " + file + " --source crm");
    ASSERT_EQ(r.code, 0) << r.out.substr(0, 2000);
    EXPECT_THAT(r.out, HasSubstr("records stored     1"));
    EXPECT_THAT(r.out, HasSubstr("rejected           1"));
    r = cdphub(m() + "rejected --source crm");
    EXPECT_EQ(r.code, 0);
    EXPECT_THAT(r.out, HasSubstr("nested deeper than 512 levels"));
    // Replaying it parses the raw text again: it stays rejected, and the hub stays up.
    r = cdphub(m() + "rejected replay --source crm");
    EXPECT_EQ(r.code, 0) << r.out.substr(0, 2000);
    EXPECT_THAT(r.out, HasSubstr("0 stored now"));
    EXPECT_THAT(r.out, HasSubstr("1 still rejected"));
}

TEST_F(EngineCli, ExplainShowsProvenanceAndMergesAndUnmergeSplits) {
    ASSERT_EQ(cdphub(m() + "import " + data() + " --source crm").code, 0);
    auto r = cdphub(m() + "profile explain email:ANN@shop.io");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("tier = \"gold\"   from crm at 2024-05-01T10:00:00.000Z"));
    EXPECT_THAT(r.out, HasSubstr("merge 1 at"));
    EXPECT_THAT(r.out, HasSubstr("phone:+14155550123"));
    EXPECT_THAT(r.out, HasSubstr("gold since"));

    r = cdphub(m() + "profile unmerge 1 --reason 'shared phone'");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("now resolve to profiles 1 2"));
    r = cdphub(m() + "profile show phone:+14155550123");
    EXPECT_THAT(r.out, HasSubstr("Profile 2"));
    EXPECT_THAT(r.out, HasSubstr("tier = \"silver\""));
    r = cdphub(m() + "profile unmerge 1");
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.out, HasSubstr("already undone"));
    r = cdphub(m() + "profile show email:nobody@shop.io");
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.out, HasSubstr("no profile holds email:nobody@shop.io"));
}

TEST_F(EngineCli, SegmentPreviewCountsWithoutSavingAndPointsAtErrors) {
    ASSERT_EQ(cdphub(m() + "import " + data() + " --source crm").code, 0);
    auto r = cdphub(m() + "segment preview 'traits.tier == \"gold\" or exists identifiers.phone'");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("1 of 1 profiles match"));
    r = cdphub(m() + "segment preview 'traits.tier = \"gold\"'");
    EXPECT_EQ(r.code, 2);
    EXPECT_THAT(r.out, HasSubstr("line 1, column 13"));
    r = cdphub(m() + "segment list");
    EXPECT_THAT(r.out, HasSubstr("gold  1 members"));
}

TEST_F(EngineCli, ActivationPlanQueuesTheDiff) {
    ASSERT_EQ(cdphub(m() + "import " + data() + " --source crm").code, 0);
    auto r = cdphub(m() + "activation plan gold_esp");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("(backfill): 1 entered, 0 exited, 0 changed"));
    r = cdphub(m() + "activation plan gold_esp");
    EXPECT_THAT(r.out, HasSubstr("nothing changed"));
    r = cdphub(m() + "activations");
    EXPECT_THAT(r.out, HasSubstr("gold_esp  gold  esp  1  1  0"));
}

TEST_F(EngineCli, SyncBindingUsesTheDestinationsDeliverySettings) {
    dir_.write(
        "gold.ndjson",
        R"j({"type":"identify","record_id":"g1","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"a@shop.io"},"traits":{"tier":"gold"}}
{"type":"identify","record_id":"g2","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"b@shop.io"},"traits":{"tier":"gold"}}
{"type":"identify","record_id":"g3","occurred_at":"2024-05-01T10:00:00Z","identifiers":{"email":"c@shop.io"},"traits":{"tier":"gold"}}
)j");
    ASSERT_EQ(
        cdphub(m() + "import " + (dir_.path() / "gold.ndjson").string() + " --source crm").code, 0);
    // Batches of at most 2 operations for this destination (the hub's default is 10,000).
    dir_.write("m/connectors/esp.json",
               R"j({"id": "esp", "plugin": "test-connector", "delivery": {"batch_records": 2}})j");
    ASSERT_EQ(cdphub(m() + "segment evaluate gold").code, 0);
    auto r = cdphub(m() + "sync gold_esp");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("3 delivered, 0 rejected, 0 to retry, 0 pending, in 2 batches"));
}

TEST_F(EngineCli, InvalidSegmentManifestIsReportedWithItsPosition) {
    dir_.write("m/segments/bad.json", R"j({"name": "bad", "expression": "traits.x >> 3"})j");
    auto r = cdphub(m() + "import " + data() + " --source crm");
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.out, HasSubstr("bad.json:1:"));
    EXPECT_THAT(r.out, HasSubstr("cdphub validate"));
}

}  // namespace
}  // namespace cdphub

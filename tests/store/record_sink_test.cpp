// StoreRecordSink: what a source's emit(records, cursor) turns into in the store.
#include <gtest/gtest.h>

#include "store/record_sink.hpp"
#include "store_test_util.hpp"
#include "test_util.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
using store::AcceptedRecord;
using store::RejectedRecord;

const RejectedRecord& as_rejected(const store::Classification& c) {
    return std::get<RejectedRecord>(c);
}

TEST(DefaultClassifier, AcceptsRecordsWithTypeAndId) {
    auto c = store::default_classifier(
        json{{"type", "track"}, {"record_id", "r1"}, {"occurred_at", "2024-01-01T00:00:00Z"}});
    ASSERT_TRUE(std::holds_alternative<AcceptedRecord>(c));
    const auto& a = std::get<AcceptedRecord>(c);
    EXPECT_EQ(a.record_id, "r1");
    EXPECT_EQ(a.type, "track");
    EXPECT_EQ(a.occurred_at, "2024-01-01T00:00:00Z");
    EXPECT_EQ(json::parse(a.body)["record_id"], "r1");

    auto m = store::default_classifier(json{{"type", "identify"}, {"messageId", "m-7"}});
    ASSERT_TRUE(std::holds_alternative<AcceptedRecord>(m));
    EXPECT_EQ(std::get<AcceptedRecord>(m).record_id, "m-7");
    EXPECT_FALSE(std::get<AcceptedRecord>(m).occurred_at);
}

TEST(DefaultClassifier, RejectsWithAReason) {
    EXPECT_EQ(as_rejected(store::default_classifier(json::array({1, 2}))).reason_code,
              "not_an_object");
    EXPECT_EQ(as_rejected(store::default_classifier(json("text"))).raw, "\"text\"");

    auto no_type = as_rejected(store::default_classifier(json{{"record_id", "r1"}}));
    EXPECT_EQ(no_type.reason_code, "missing_type");
    EXPECT_EQ(no_type.record_id, "r1");
    EXPECT_NE(no_type.reason.find("type"), std::string::npos);
    EXPECT_EQ(no_type.raw, R"({"record_id":"r1"})");

    EXPECT_EQ(
        as_rejected(store::default_classifier(json{{"type", ""}, {"record_id", "r"}})).reason_code,
        "missing_type");
    EXPECT_EQ(as_rejected(store::default_classifier(json{{"type", "track"}, {"record_id", 5}}))
                  .reason_code,
              "missing_record_id");
    EXPECT_EQ(as_rejected(store::default_classifier(json{{"type", "track"}})).reason_code,
              "missing_record_id");
}

class RecordSinkTest : public ::testing::Test {
  protected:
    void SetUp() override { store_ = store::open_sqlite_store(dir_.path() / "hub.db"); }
    TempDir dir_;
    std::unique_ptr<store::ProfileStore> store_;
};

TEST_F(RecordSinkTest, CommitsRecordsRejectionsAndCursorTogether) {
    store::StoreRecordSink sink(*store_, "crm");
    EXPECT_EQ(sink.cursor(), "");
    auto records = json::array({json{{"type", "identify"}, {"record_id", "a"}},
                                json{{"record_id", "b"}},  // no type
                                42,                        // not an object
                                json{{"type", "track"}, {"messageId", "c"}}});
    auto st = sink.commit(records, R"({"offset":4})");
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(sink.last_result().inserted, 2u);
    EXPECT_EQ(sink.last_result().rejected, 2u);
    EXPECT_EQ(sink.cursor(), R"({"offset":4})");
    EXPECT_EQ(store_->counts("crm").records, 2);
    auto rej = store_->list_rejected("crm", 0, 10);
    ASSERT_EQ(rej.size(), 2u);
    EXPECT_EQ(rej[0].reason_code, "missing_type");
    EXPECT_EQ(rej[1].reason_code, "not_an_object");
    EXPECT_EQ(rej[1].raw, "42");
    // Every record is accounted for: stored or rejected with a reason.
    EXPECT_EQ(store_->counts("crm").records + store_->counts("crm").rejected_records,
              static_cast<std::int64_t>(records.size()));
}

TEST_F(RecordSinkTest, ReplayThroughTheSinkIsIdempotent) {
    store::StoreRecordSink sink(*store_, "crm");
    auto records = json::array({json{{"type", "track"}, {"record_id", "a"}}, json{{"bad", true}}});
    ASSERT_TRUE(sink.commit(records, R"({"n":1})").ok());
    auto before = dump_tables(dir_.path() / "hub.db");
    ASSERT_TRUE(sink.commit(records, R"({"n":1})").ok());
    EXPECT_EQ(sink.last_result().duplicates, 1u);
    EXPECT_EQ(sink.last_result().rejected_duplicates, 1u);
    EXPECT_FALSE(sink.last_result().changed_anything());
    EXPECT_EQ(dump_tables(dir_.path() / "hub.db"), before);
}

TEST_F(RecordSinkTest, AThrowingClassifierFailsTheWholeBatch) {
    store::StoreRecordSink good(*store_, "crm");
    ASSERT_TRUE(
        good.commit(json::array({json{{"type", "t"}, {"record_id", "a"}}}), R"({"n":1})").ok());
    auto before = dump_tables(dir_.path() / "hub.db");

    int calls = 0;
    store::StoreRecordSink sink(*store_, "crm", [&](const json& r) {
        if (++calls == 3) throw std::runtime_error("normalizer bug");
        return store::default_classifier(r);
    });
    auto records = json::array();
    for (int i = 0; i < 5; ++i)
        records.push_back(json{{"type", "t"}, {"record_id", "b" + std::to_string(i)}});
    auto st = sink.commit(records, R"({"n":6})");
    EXPECT_EQ(st.code, StatusCode::fatal);
    EXPECT_NE(st.message.find("normalizer bug"), std::string::npos) << st.message;
    EXPECT_NE(st.message.find("record 2"), std::string::npos) << st.message;
    EXPECT_EQ(dump_tables(dir_.path() / "hub.db"), before);
    EXPECT_EQ(sink.cursor(), R"({"n":1})");
}

TEST_F(RecordSinkTest, ACustomClassifierDecidesWhatIsKept) {
    store::StoreRecordSink sink(*store_, "pos", [](const json& r) -> store::Classification {
        if (!r.contains("amount"))
            return RejectedRecord{std::nullopt, "no_amount", "no amount", r.dump()};
        return AcceptedRecord{r.at("id").get<std::string>(), "order", std::nullopt,
                              json{{"type", "order"}, {"minor_units", r.at("amount")}}.dump()};
    });
    ASSERT_TRUE(sink.commit(json::array({json{{"id", "o1"}, {"amount", 1250}}, json{{"id", "o2"}}}),
                            std::nullopt)
                    .ok());
    auto o1 = store_->find_record("pos", "o1");
    ASSERT_TRUE(o1);
    EXPECT_EQ(o1->type, "order");
    EXPECT_EQ(o1->body, R"({"minor_units":1250,"type":"order"})");
    EXPECT_EQ(store_->list_rejected("pos", 0, 10).at(0).reason_code, "no_amount");
}

TEST_F(RecordSinkTest, StoreFailuresMapToCallStatuses) {
    store::StoreRecordSink sink(*store_, "crm");
    auto records = json::array({json{{"type", "t"}, {"record_id", "a"}}});
    // Busy: another connection holds the write lock past the busy timeout.
    {
        auto options = pinned_clock_options();
        options.database.busy_timeout = std::chrono::milliseconds(20);
        auto impatient = store::open_sqlite_store(dir_.path() / "hub.db", options);
        store::StoreRecordSink busy_sink(*impatient, "crm");
        auto other = plain_connection(dir_.path() / "hub.db");
        other.exec("BEGIN IMMEDIATE");
        auto st = busy_sink.commit(records, R"({"n":1})");
        EXPECT_EQ(st.code, StatusCode::retryable) << st.to_string();
        other.exec("ROLLBACK");
    }
    // A cursor that is not JSON violates the schema: not something a retry fixes.
    auto st = sink.commit(records, "not json");
    EXPECT_EQ(st.code, StatusCode::fatal) << st.to_string();
    EXPECT_EQ(store_->counts().records, 0);
    EXPECT_EQ(sink.commit(json::object(), std::nullopt).code, StatusCode::fatal);
}

}  // namespace
}  // namespace cdphub::test

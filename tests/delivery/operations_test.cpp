// The operation batch the delivery workers hand to a destination's write(): built as text from
// the stored field JSON, it must be exactly the documented operation format (docs/delivery.md),
// with names escaped, and its size known before it is written (the max_bytes budget).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delivery/operations.hpp"

namespace cdphub::delivery {
namespace {

using nlohmann::json;

TEST(OperationBatch, IsTheDocumentedOperationFormatWithNamesEscaped) {
    const BindingRef binding{"vip \"gold\" \\ ✓", "seg\n1", "dest"};
    const std::vector<OutboxChange> changes = {
        {9007199254740993, 42, "enter", R"({"email":"a@x.io","score":1.5,"tags":["a","b"]})", 0},
        {7, 0, "exit", R"({"email":"b@x.io"})", 2},
        {8, 123456789, "update", "{}", 7},
    };
    OperationBatch batch(binding);
    std::size_t sized = 1;
    for (const auto& c : changes) {
        sized += batch.size_of(c);
        batch.append(c);
    }
    EXPECT_EQ(batch.count(), 3u);
    const auto text = batch.take_text();
    EXPECT_EQ(text.size(), sized) << text;

    const auto ops = json::parse(text);
    ASSERT_TRUE(ops.is_array());
    ASSERT_EQ(ops.size(), 3u);
    EXPECT_EQ(ops[0], json({{"op", "upsert"},
                            {"change", "enter"},
                            {"change_id", 9007199254740993},
                            {"binding", binding.name},
                            {"segment", binding.segment},
                            {"profile_id", 42},
                            {"fields", {{"email", "a@x.io"}, {"score", 1.5}, {"tags", {"a", "b"}}}},
                            {"attempt", 1}}));
    EXPECT_EQ(ops[1]["op"], "remove");
    EXPECT_EQ(ops[1]["change"], "exit");
    EXPECT_EQ(ops[1]["profile_id"], 0);
    EXPECT_EQ(ops[1]["fields"], json({{"email", "b@x.io"}}));
    EXPECT_EQ(ops[1]["attempt"], 3);
    EXPECT_EQ(ops[2]["op"], "upsert");
    EXPECT_EQ(ops[2]["change"], "update");
    EXPECT_EQ(ops[2]["change_id"], 8);
    EXPECT_EQ(ops[2]["fields"], json::object());
    EXPECT_EQ(ops[2]["attempt"], 8);
}

TEST(OperationBatch, EmptyBatchIsAnEmptyArray) {
    OperationBatch batch(BindingRef{"b", "s", "d"});
    EXPECT_EQ(batch.count(), 0u);
    EXPECT_EQ(batch.take_text(), "[]");
}

}  // namespace
}  // namespace cdphub::delivery

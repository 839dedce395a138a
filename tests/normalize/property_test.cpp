// Generated dirty records: whatever comes in, the normalizer returns a record or a rejection with
// a reason, never throws, and what it accepts survives a second pass unchanged.
#include <gtest/gtest.h>

#include <random>

#include "normalize/identifiers.hpp"
#include "normalize/normalizer.hpp"

namespace cdphub::normalize {
namespace {

using nlohmann::json;
using namespace std::chrono;

class Generator {
  public:
    explicit Generator(unsigned seed) : rng_(seed) {}

    json record() {
        static const char* kTypes[] = {"identify", "track", "order", "alias", "consent"};
        json j = {{"type", kTypes[pick(5)]},
                  {"record_id", "r-" + std::to_string(rng_())},
                  {"occurred_at", timestamp()},
                  {"identifiers", identifiers()},
                  {"traits", {{"name", text()}}},
                  {"event", "Viewed"},
                  {"properties", {{"p", 1}}},
                  {"order",
                   {{"id", "o1"},
                    {"currency", pick_of({"EUR", "JPY", "KWD", "usd", "XXX", "EURO"})},
                    {"total_minor", amount()},
                    {"lines", {{{"sku", "A"}, {"quantity", 1}, {"price_minor", amount()}}}}}},
                  {"alias", {{"previous_id", {{"type", "anonymous_id"}, {"value", text()}}}}},
                  {"consent", {{"purpose", "email"}, {"granted", pick(2) == 0}}}};
        // Dirty it: drop or replace a few fields, anywhere in the tree.
        const int mutations = pick(4);
        for (int i = 0; i < mutations; ++i) mutate(j);
        if (pick(50) == 0) return random_value(2);  // not an object at all
        if (pick(50) == 0)
            return {
                {"_raw", text()}, {"_error", text()}, {"_file", "f.ndjson"}, {"_line", pick(99)}};
        return j;
    }

  private:
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    std::string pick_of(std::initializer_list<const char*> xs) {
        return *(xs.begin() + pick(static_cast<int>(xs.size())));
    }

    std::string text() {
        static const char* kSamples[] = {"",
                                         " ",
                                         "ann@example.com",
                                         " Ann@EXAMPLE.com ",
                                         "@",
                                         "a@b",
                                         "+49 30 1234567",
                                         "(650) 253-0000",
                                         "12",
                                         "null",
                                         "\x01",
                                         "ü",
                                         "\xff\xfe",
                                         "0",
                                         "2024-05-01T09:30:00Z"};
        if (pick(3) == 0) {
            std::string s(static_cast<std::size_t>(pick(70)), ' ');
            for (char& c : s) c = static_cast<char>(pick(256));
            return s;
        }
        return kSamples[pick(static_cast<int>(std::size(kSamples)))];
    }

    std::string timestamp() {
        static const char* kSamples[] = {"2024-05-01T09:30:00Z",
                                         "2024-05-01T11:30:00.250+02:00",
                                         "2024-02-30T00:00:00Z",
                                         "2024-05-01T09:30:00",
                                         "2024-05-01",
                                         "2099-01-01T00:00:00Z",
                                         "2024-05-01T09:30:00+25:00",
                                         "1970-01-01T00:00:00Z"};
        return kSamples[pick(static_cast<int>(std::size(kSamples)))];
    }

    json amount() {
        switch (pick(6)) {
            case 0:
                return 12.99;
            case 1:
                return "1299";
            case 2:
                return -500;
            case 3:
                return 9007199254740993ll;
            default:
                return pick(100000);
        }
    }

    json identifiers() {
        static const char* kTypes[] = {"email",        "phone",        "user_id",
                                       "anonymous_id", "email_sha256", "phone_sha256",
                                       "loyalty",      "Bad Type",     ""};
        json ids = json::object();
        const int n = pick(4);
        for (int i = 0; i < n; ++i) {
            const char* type = kTypes[pick(static_cast<int>(std::size(kTypes)))];
            switch (pick(5)) {
                case 0:
                    ids[type] = json::array({text(), text()});
                    break;
                case 1:
                    ids[type] = random_value(1);
                    break;
                case 2:
                    ids[type] = std::string(64, "aF0"[pick(3)]);
                    break;
                default:
                    ids[type] = text();
            }
        }
        return ids;
    }

    json random_value(int depth) {
        switch (pick(depth > 0 ? 8 : 6)) {
            case 0:
                return nullptr;
            case 1:
                return pick(2) == 0;
            case 2:
                return pick(1000) - 500;
            case 3:
                return 0.5 * pick(100);
            case 4:
                return text();
            case 5:
                return std::numeric_limits<std::uint64_t>::max();
            case 6:
                return json::array({random_value(depth - 1), random_value(depth - 1)});
            default:
                return {{text(), random_value(depth - 1)}};
        }
    }

    void mutate(json& j) {
        // Walk to a random object member and drop or replace it.
        json* node = &j;
        while (node->is_object() && !node->empty()) {
            auto it = node->begin();
            std::advance(it, pick(static_cast<int>(node->size())));
            if (pick(3) == 0 || !(it->is_object() && !it->empty())) {
                if (pick(2) == 0)
                    node->erase(it.key());
                else
                    *it = random_value(2);
                return;
            }
            node = &*it;
        }
    }

    std::mt19937 rng_;
};

TEST(NormalizerProperty, EveryRecordNormalizedOrRejectedWithReason) {
    const Normalizer normalizer(Options{});
    const Timestamp received = sys_days{2024y / May / 1} + 10h;
    Generator gen(20240501);
    int accepted = 0, rejected = 0;
    for (int i = 0; i < 5000; ++i) {
        const json raw = gen.record();
        SCOPED_TRACE(raw.dump(-1, ' ', false, json::error_handler_t::replace));
        std::optional<Result> result;
        ASSERT_NO_THROW(result.emplace(normalizer.normalize(raw, "src", received)));
        if (result->ok()) {
            ++accepted;
            const auto& r = result->record();
            ASSERT_FALSE(r.identifiers.empty());
            for (const auto& id : r.identifiers) {
                EXPECT_TRUE(is_valid_identifier_type(id.type)) << id.type;
                EXPECT_FALSE(id.value.empty());
            }
            // Normalizing the wire form again changes nothing.
            const json wire = to_json(r);
            const Result again = normalizer.normalize(wire, "src", received);
            ASSERT_TRUE(again.ok()) << again.rejection().message;
            EXPECT_EQ(to_json(again.record()), wire);
        } else {
            ++rejected;
            EXPECT_FALSE(result->rejection().message.empty());
            EXPECT_FALSE(result->rejection().raw.empty());
        }
    }
    // The generator must exercise both outcomes, or the test proves nothing.
    EXPECT_GT(accepted, 250);
    EXPECT_GT(rejected, 250);
}

}  // namespace
}  // namespace cdphub::normalize

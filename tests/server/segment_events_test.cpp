// The Segment event -> canonical record mapping and the request-level rules, without a server.
#include <gtest/gtest.h>

#include "normalize/normalizer.hpp"
#include "normalize/time.hpp"
#include "server/segment_events.hpp"
#include "server/tracking_api.hpp"
#include "server/tracking_body.hpp"

#include <cdphub/json_depth.hpp>
#include "server_fixture.hpp"

namespace cdphub::server::test {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

system_clock::time_point at(const std::string& iso) {
    auto parsed = normalize::parse_rfc3339(iso);
    return system_clock::time_point(std::get<normalize::Timestamp>(parsed).time_since_epoch());
}

BatchEnvelope envelope_at(const std::string& iso) {
    BatchEnvelope e;
    e.received_at = at(iso);
    return e;
}

TEST(SegmentEvents, SkewCorrectionUsesReceivedAtMinusClientDelay) {
    // The device clock is 1 h behind: it stamped the event at 09:00:00 and sent it 5 s later
    // by its clock (09:00:05); we received it at 10:00:06. So it happened at 10:00:01.
    auto env = envelope_at("2026-05-01T10:00:06.000Z");
    json sent = "2026-05-01T09:00:05.000Z";
    env.sent_at = &sent;
    json e = {{"type", "track"},
              {"event", "X"},
              {"userId", "u1"},
              {"messageId", "m1"},
              {"timestamp", "2026-05-01T09:00:00.000Z"}};
    auto r = to_canonical(e, env);
    EXPECT_EQ(r["occurred_at"], "2026-05-01T10:00:01.000Z");
    EXPECT_EQ(r["properties"]["_segment"]["originalTimestamp"], "2026-05-01T09:00:00.000Z");
    EXPECT_EQ(r["properties"]["_segment"]["receivedAt"], "2026-05-01T10:00:06.000Z");
    // originalTimestamp wins over timestamp, and an event's own sentAt over the batch's.
    e["originalTimestamp"] = "2026-05-01T09:00:03.000Z";
    e["sentAt"] = "2026-05-01T09:00:04.000Z";
    EXPECT_EQ(to_canonical(e, env)["occurred_at"], "2026-05-01T10:00:05.000Z");
}

TEST(SegmentEvents, WithoutSentAtTheTimestampIsKeptAndWithoutTimestampReceivedAtIsUsed) {
    auto env = envelope_at("2026-05-01T10:00:06.000Z");
    json e = {{"type", "track"},
              {"event", "X"},
              {"userId", "u1"},
              {"messageId", "m1"},
              {"timestamp", "2026-05-01T09:00:00.000Z"}};
    EXPECT_EQ(to_canonical(e, env)["occurred_at"], "2026-05-01T09:00:00.000Z");
    e.erase("timestamp");
    EXPECT_EQ(to_canonical(e, env)["occurred_at"], "2026-05-01T10:00:06.000Z");
}

TEST(SegmentEvents, MapsEveryTypeToACanonicalRecordTheNormalizerAccepts) {
    auto env = envelope_at("2026-05-01T10:00:00.000Z");
    normalize::Normalizer n;
    auto received = normalize::Timestamp(std::chrono::milliseconds(
        std::chrono::duration_cast<std::chrono::milliseconds>(env.received_at.time_since_epoch())));
    struct Case {
        json event;
        std::string type, event_name;
    };
    std::vector<Case> cases = {
        {{{"type", "identify"}, {"userId", "u1"}, {"traits", {{"email", "A@B.com"}}}},
         "identify",
         ""},
        {{{"type", "track"}, {"anonymousId", "a1"}, {"event", "Song Played"}},
         "track",
         "Song Played"},
        {{{"type", "page"}, {"anonymousId", "a1"}, {"name", "Home"}}, "track", "Page Viewed"},
        {{{"type", "screen"}, {"userId", "u1"}, {"name", "Cart"}}, "track", "Screen Viewed"},
        {{{"type", "group"}, {"userId", "u1"}, {"groupId", "g1"}, {"traits", {{"name", "Acme"}}}},
         "track",
         "Group"},
        {{{"type", "alias"}, {"userId", "u1"}, {"previousId", "a1"}}, "alias", ""},
    };
    int i = 0;
    for (auto& c : cases) {
        c.event["messageId"] = "m" + std::to_string(i++);
        auto r = to_canonical(c.event, env);
        SCOPED_TRACE(r.dump());
        EXPECT_EQ(r["type"], c.type);
        EXPECT_EQ(r["record_id"], c.event["messageId"]);
        if (!c.event_name.empty()) {
            EXPECT_EQ(r["event"], c.event_name);
        }
        auto result = n.normalize(r, "web", received);
        EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.rejection().message);
    }
    auto identify = to_canonical(cases[0].event, env);
    EXPECT_EQ(identify["identifiers"]["email"], "A@B.com");
    EXPECT_EQ(identify["identifiers"]["user_id"], "u1");
    auto page = to_canonical(cases[2].event, env);
    EXPECT_EQ(page["properties"]["name"], "Home");
    auto group = to_canonical(cases[4].event, env);
    EXPECT_EQ(group["properties"]["group_id"], "g1");
    EXPECT_EQ(group["properties"]["group_traits"]["name"], "Acme");
    EXPECT_FALSE(group.contains("traits"));  // company traits never become the person's
    auto alias = to_canonical(cases[5].event, env);
    EXPECT_EQ(alias["alias"]["previous_id"]["value"], "a1");
}

TEST(SegmentEvents, BatchContextAndIntegrationsMergeUnderTheEventsOwn) {
    auto env = envelope_at("2026-05-01T10:00:00.000Z");
    json ctx = {{"device", {{"type", "phone"}, {"model", "X"}}}, {"ip", "1.2.3.4"}};
    json integ = {{"All", true}, {"Mixpanel", false}};
    env.context = &ctx;
    env.integrations = &integ;
    json e = {{"type", "track"},
              {"event", "E"},
              {"userId", "u"},
              {"context", {{"device", {{"model", "Y"}}}}},
              {"integrations", {{"Mixpanel", true}}}};
    auto seg = to_canonical(e, env)["properties"]["_segment"];
    EXPECT_EQ(seg["context"]["device"]["type"], "phone");
    EXPECT_EQ(seg["context"]["device"]["model"], "Y");
    EXPECT_EQ(seg["context"]["ip"], "1.2.3.4");
    EXPECT_EQ(seg["integrations"]["All"], true);
    EXPECT_EQ(seg["integrations"]["Mixpanel"], true);
}

TEST(SegmentEvents, ReadsTheThreeKindsOfCredentials) {
    auto c = parse_authorization(basic("key1"));
    EXPECT_EQ(c.basic_user.value_or(""), "key1");
    EXPECT_EQ(write_key_of(c, json{{"writeKey", "other"}}).value_or(""), "key1");
    c = parse_authorization("Bearer tok");
    EXPECT_EQ(c.bearer_token.value_or(""), "tok");
    // With a Bearer token, the body's writeKey names the source (the token is not verified).
    EXPECT_EQ(write_key_of(c, json{{"writeKey", "wk"}}).value_or(""), "wk");
    EXPECT_EQ(write_key_of(c, json::object()).value_or(""), "tok");
    EXPECT_EQ(write_key_of(parse_authorization(""), json{{"writeKey", "wk"}}).value_or(""), "wk");
    EXPECT_FALSE(write_key_of(parse_authorization(""), json::object()).has_value());
    EXPECT_TRUE(parse_authorization("Digest abc").malformed_header);
}

TEST(TrackingApi, SizeLimitsAndInvalidJsonAre400) {
    ServerOptions o;
    o.write_keys = {{kWriteKey, "web"}};
    auto now = system_clock::now();
    auto status = [&](std::string_view route, const std::string& body) {
        auto out = handle_tracking(route, body, basic(kWriteKey), o, now);
        auto* r = std::get_if<ImmediateReply>(&out);
        return r ? r->status : 200;
    };
    EXPECT_EQ(status("track", "{not json"), 400);
    EXPECT_EQ(status("track", "[1,2]"), 400);
    json big = {{"type", "track"},
                {"event", "E"},
                {"userId", "u"},
                {"properties", {{"blob", std::string(33 * 1024, 'x')}}}};
    EXPECT_EQ(status("track", big.dump()), 400);
    // The same event in a batch is over the per-event limit too.
    EXPECT_EQ(status("batch", json{{"batch", json::array({big})}}.dump()), 400);
    big["properties"]["blob"] = std::string(30 * 1024, 'x');
    EXPECT_EQ(status("track", big.dump()), 200);
    json batch = {{"batch", json::array()}};
    for (int i = 0; i < 17; ++i) batch["batch"].push_back(big);  // 17 * 30 KB > 500 KB
    EXPECT_EQ(status("batch", batch.dump()), 400);
    batch["batch"].erase(batch["batch"].begin());
    batch["batch"].erase(batch["batch"].begin());
    EXPECT_EQ(status("batch", batch.dump()), 200);  // 15 * 30 KB < 500 KB
    EXPECT_EQ(status("batch", R"({"batch": 3})"), 400);
}

// The I/O threads check bodies with simdjson and hand anything it cannot judge exactly like
// nlohmann to nlohmann: the answers must be those of a plain nlohmann parse.
TEST(TrackingApi, TheFastCheckAnswersLikeNlohmann) {
    ServerOptions o;
    o.write_keys = {{kWriteKey, "web"}, {"body-key", "app"}};
    auto now = system_clock::now();
    auto handle = [&](std::string_view route, const std::string& body,
                      const std::string& auth = basic(kWriteKey)) {
        return handle_tracking(route, body, auth, o, now);
    };
    auto status = [&](std::string_view route, const std::string& body,
                      const std::string& auth = basic(kWriteKey)) {
        auto out = handle(route, body, auth);
        auto* r = std::get_if<ImmediateReply>(&out);
        return r ? r->status : 200;
    };
    auto accepted = [&](std::string_view route, const std::string& body,
                        const std::string& auth = basic(kWriteKey)) {
        auto out = handle(route, body, auth);
        auto* a = std::get_if<AcceptedEvents>(&out);
        if (a == nullptr || a->entries.size() != 1) {
            ADD_FAILURE() << "not accepted: " << body;
            return Inbox::Entry{};
        }
        return a->entries.front();
    };
    // Numbers beyond 64 bits: simdjson refuses them, nlohmann reads them as doubles; accepted.
    EXPECT_EQ(
        status("track",
               R"({"userId":"u","event":"E","properties":{"n":123456789012345678901234567890}})"),
        200);
    // What both refuse: a number out of double range, a lone surrogate, bad UTF-8, trailing
    // garbage, a trailing comma.
    EXPECT_EQ(status("track", R"({"userId":"u","event":"E","properties":{"n":1e400}})"), 400);
    EXPECT_EQ(status("track", R"({"userId":"u","event":"E\ud800"})"), 400);
    EXPECT_EQ(status("track", "{\"userId\":\"\xff\"}"), 400);
    EXPECT_EQ(status("track", R"({"userId":"u"} x)"), 400);
    EXPECT_EQ(status("batch", R"({"batch":[{"userId":"u"},]})"), 400);
    // A UTF-8 byte order mark: nlohmann skips it, so the request is accepted either way.
    EXPECT_EQ(status("track", "\xEF\xBB\xBF{\"userId\":\"u\",\"event\":\"E\"}"), 200);

    // Deep nesting is refused before anything parses it recursively, also when simdjson stops
    // at an earlier error (the big number) that nlohmann would accept.
    std::string deep = std::string(600, '[') + std::string(600, ']');
    EXPECT_EQ(status("track", R"({"userId":"u","properties":{"x":)" + deep + "}}"), 400);
    EXPECT_EQ(
        status("track", R"({"n":123456789012345678901234567890,"properties":{"x":)" + deep + "}}"),
        400);
    std::string fine = std::string(100, '[') + std::string(100, ']');
    EXPECT_EQ(status("track", R"({"userId":"u","properties":{"x":)" + fine + "}}"), 200);

    // Duplicate members: the last "batch" counts, as in nlohmann (and in the processor).
    auto e =
        accepted("batch", R"({"batch":[{"userId":"a"}],"batch":[{"userId":"b"},{"userId":"c"}]})");
    EXPECT_EQ(e.events, 2u);
    EXPECT_EQ(status("batch", R"({"batch":[{"userId":"a"}],"batch":7})"), 400);

    // A body stored as received when it holds no write key; with one (top level or per event,
    // also spelled with an escape), stripped before it is stored, and it authenticates.
    const std::string plain = R"({"batch":[{"userId":"a","event":"E","type":"track"}]})";
    EXPECT_EQ(accepted("batch", plain).record, plain);
    auto with_key = accepted("batch", R"({"writeKey":"body-key","batch":[{"userId":"a"}]})", "");
    EXPECT_EQ(with_key.source, "app");
    EXPECT_EQ(with_key.record.find("body-key"), std::string::npos);
    auto per_event =
        accepted("batch", R"({"batch":[{"userId":"a","write\u004bey":"secret-in-event"}]})");
    EXPECT_EQ(per_event.record.find("secret-in-event"), std::string::npos);
    EXPECT_EQ(status("track", R"({"userId":"a","writeKey":"nope"})", ""), 401);
}

TEST(TrackingBody, LargestBatchEventCountsItsTextWithoutWhitespace) {
    EXPECT_EQ(largest_batch_event(R"({"batch":[]})"), 0u);
    EXPECT_EQ(largest_batch_event(R"({"other":[1,2,3]})"), 0u);
    // {"a":"x y"} is 11 bytes however it is spaced; strings keep their spaces and escapes.
    EXPECT_EQ(largest_batch_event(R"({ "batch" : [ { "a" : "x y" } , 7 ] })"), 11u);
    EXPECT_EQ(largest_batch_event(R"({"batch":[{"a":"q\"}]\\"}, {"b":[1, 2]}]})"), 15u);
    EXPECT_EQ(largest_batch_event(R"({"context":{"batch":[1234567]},"batch":[true,null]})"), 4u);
    // The last "batch" member counts, and a member named with an escape is still "batch".
    EXPECT_EQ(largest_batch_event(R"({"batch":["long string"],"b\u0061tch":[1]})"), 1u);
    EXPECT_FALSE(json_text::exceeds_depth(R"({"a":"[[[[","b":[[1]]})", 3));
    EXPECT_TRUE(json_text::exceeds_depth(R"({"a":"[[[[","b":[[1]]})", 2));
    EXPECT_FALSE(json_text::exceeds_depth(R"({"a":"\"[[[[\\","b":[[1]]})", 3));

    // Against nlohmann's compact dump, on an event with no number re-formatting to differ.
    json event = {
        {"type", "track"},
        {"event", "Order Completed"},
        {"properties", {{"items", json::array({1, 2, 3})}, {"note", "a \"quoted\" \\ x"}}},
        {"userId", "u-1"}};
    json batch = {{"batch", json::array({event, json::object()})}};
    EXPECT_EQ(largest_batch_event(batch.dump(2)), event.dump().size());
}

}  // namespace
}  // namespace cdphub::server::test

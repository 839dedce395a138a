// The sendgrid plugin's Event Webhook into a real store: ECDSA-signed deliveries (good, tampered,
// missing, stale, foreign), the mapping of every event type, and thousands of events delivered
// in batches with duplicates and redeliveries, stored exactly once each.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <random>
#include <set>

#include "connectors/connector_harness.hpp"

namespace cdphub {
namespace {

using nlohmann::json;
using test::ConnectorHarness;

constexpr const char* kSignature = "X-Twilio-Email-Event-Webhook-Signature";
constexpr const char* kTimestamp = "X-Twilio-Email-Event-Webhook-Timestamp";

std::string base64(const unsigned char* p, std::size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

// A P-256 key pair, as SendGrid makes one when signing is turned on.
class KeyPair {
  public:
    KeyPair() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free) {
        if (!key_) throw std::runtime_error("EC key generation failed");
    }
    // The verification key as SendGrid shows it: base64 DER SubjectPublicKeyInfo.
    std::string public_key() const {
        unsigned char* der = nullptr;
        const int n = i2d_PUBKEY(key_.get(), &der);
        auto s = base64(der, static_cast<std::size_t>(n));
        OPENSSL_free(der);
        return s;
    }
    // base64 DER ECDSA signature of timestamp + body.
    std::string sign(const std::string& timestamp, const std::string& body) const {
        std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        const std::string payload = timestamp + body;
        std::size_t len = 0;
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get());
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
        std::string sig(len, '\0');
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
        return base64(reinterpret_cast<const unsigned char*>(sig.data()), len);
    }

  private:
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_;
};

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

plugin_host::WebhookRequest post(std::string body) {
    plugin_host::WebhookRequest r;
    r.method = "POST";
    r.path = "/webhooks/sendgrid-events";
    r.body = std::move(body);
    r.remote_address = "167.89.0.1";
    r.headers = {{"Content-Type", "application/json"}, {"User-Agent", "SendGrid Event API"}};
    return r;
}

plugin_host::WebhookRequest signed_post(const KeyPair& key, std::string body,
                                        int64_t at = now_s()) {
    auto r = post(std::move(body));
    const auto ts = std::to_string(at);
    r.headers.emplace_back(kSignature, key.sign(ts, r.body));
    r.headers.emplace_back(kTimestamp, ts);
    return r;
}

struct SgEnv {
    SgEnv() : harness("sendgrid", "sg") {
        harness.configure({{"verification_key", key.public_key()}});
    }
    KeyPair key;
    ConnectorHarness harness;
};

json event(const std::string& type, const std::string& id, int64_t ts,
           const std::string& email = "ann@example.com") {
    json e = {{"email", email},
              {"timestamp", ts},
              {"smtp-id", "<14c5d75ce93.dfd.64b469@ismtpd-555>"},
              {"event", type},
              {"category", "newsletter"},
              {"sg_event_id", id},
              {"sg_message_id", "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}};
    if (type == "click") e["url"] = "https://example.com/sale?utm=1";
    if (type == "open" || type == "click") e["useragent"] = "Mozilla/5.0";
    if (type == "bounce") {
        e["type"] = "bounce";
        e["reason"] = "550 5.1.1 unknown user";
        e["bounce_classification"] = "Invalid Address";
    }
    if (type == "dropped") e["reason"] = "Bounced Address";
    if (type == "deferred") e["attempt"] = "2";
    if (type.rfind("group_", 0) == 0) e["asm_group_id"] = 42;
    return e;
}

const std::vector<std::string> kTypes = {"processed",
                                         "deferred",
                                         "delivered",
                                         "bounce",
                                         "dropped",
                                         "open",
                                         "click",
                                         "spamreport",
                                         "unsubscribe",
                                         "group_unsubscribe",
                                         "group_resubscribe"};

// The record ids one event must produce.
std::vector<std::string> expected_ids(const json& e) {
    const std::string id = e["sg_event_id"], type = e["event"];
    std::vector<std::string> out{id};
    if (type == "unsubscribe" || type == "spamreport" || type.rfind("group_", 0) == 0)
        out.push_back(id + ":consent");
    if (type == "bounce" || type == "dropped") out.push_back(id + ":traits");
    return out;
}

TEST(SendGrid, EveryEventTypeMapsToItsRecords) {
    SgEnv s;
    const auto t = now_s() - 600;
    json batch = json::array();
    for (std::size_t i = 0; i < kTypes.size(); ++i)
        batch.push_back(event(kTypes[i], "ev-" + kTypes[i], t + static_cast<int64_t>(i)));
    batch[5]["category"] = json::array({"cat facts", "spring"});  // open: an array already
    auto r = s.harness.receive(signed_post(s.key, batch.dump()));
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    EXPECT_EQ(r.response.status, 200);
    const auto records = s.harness.records();
    EXPECT_TRUE(s.harness.rejected().empty());
    std::set<std::string> want;
    for (const auto& e : batch)
        for (const auto& id : expected_ids(e)) want.insert(id);
    std::set<std::string> got;
    for (const auto& [id, rec] : records) got.insert(id);
    EXPECT_EQ(got, want);

    const auto& open = records.at("ev-open");
    EXPECT_EQ(open["type"], "track");
    EXPECT_EQ(open["event"], "Email Opened");
    EXPECT_EQ(open["identifiers"]["email"], "ann@example.com");
    EXPECT_EQ(open["properties"]["category"], json::array({"cat facts", "spring"}));
    EXPECT_EQ(open["properties"]["sg_message_id"], batch[0]["sg_message_id"]);
    EXPECT_FALSE(open["properties"].contains("email"));
    const auto& click = records.at("ev-click");
    EXPECT_EQ(click["event"], "Email Clicked");
    EXPECT_EQ(click["properties"]["url"], "https://example.com/sale?utm=1");
    EXPECT_EQ(click["properties"]["category"], json::array({"newsletter"})) << "string -> array";
    EXPECT_EQ(records.at("ev-delivered")["event"], "Email Delivered");
    EXPECT_EQ(records.at("ev-spamreport")["event"], "Email Marked as Spam");
    for (const char* id : {"ev-unsubscribe:consent", "ev-spamreport:consent"}) {
        const auto& c = records.at(id)["consent"];
        EXPECT_EQ(c["purpose"], "email_marketing");
        EXPECT_EQ(c["granted"], false);
    }
    EXPECT_EQ(records.at("ev-group_unsubscribe:consent")["consent"]["purpose"], "email_group_42");
    EXPECT_EQ(records.at("ev-group_unsubscribe:consent")["consent"]["granted"], false);
    EXPECT_EQ(records.at("ev-group_resubscribe:consent")["consent"]["granted"], true);
    const auto& bounce = records.at("ev-bounce:traits");
    EXPECT_EQ(bounce["type"], "identify");
    EXPECT_EQ(bounce["traits"]["email_last_bounce_type"], "bounce");
    EXPECT_EQ(bounce["traits"]["email_last_bounce_classification"], "Invalid Address");
    EXPECT_EQ(records.at("ev-dropped:traits")["traits"]["email_last_drop_reason"],
              "Bounced Address");
}

TEST(SendGrid, BadMissingStaleAndForeignSignaturesAreRefusedAndStoreNothing) {
    SgEnv s;
    const auto body = json::array({event("open", "e1", now_s() - 60)}).dump();
    auto tampered = signed_post(s.key, body);
    tampered.body.replace(tampered.body.find("e1"), 2, "e2");
    auto missing = post(body);
    auto only_ts = post(body);
    only_ts.headers.emplace_back(kTimestamp, std::to_string(now_s()));
    auto stale = signed_post(s.key, body, now_s() - 3600);
    auto future = signed_post(s.key, body, now_s() + 3600);
    KeyPair other;
    auto foreign = signed_post(other, body);
    auto garbage = post(body);
    garbage.headers.emplace_back(kSignature, "not base64!");
    garbage.headers.emplace_back(kTimestamp, std::to_string(now_s()));
    // The signature covers the timestamp too: a re-dated request fails.
    auto redated = signed_post(s.key, body, now_s() - 5);
    for (auto& [n, v] : redated.headers)
        if (n == kTimestamp) v = std::to_string(now_s());

    const std::vector<std::pair<plugin_host::WebhookRequest*, int>> cases = {
        {&tampered, 403}, {&missing, 401}, {&only_ts, 401}, {&stale, 403},
        {&future, 403},   {&foreign, 403}, {&garbage, 403}, {&redated, 403}};
    for (auto [req, code] : cases) {
        auto r = s.harness.receive(*req);
        EXPECT_EQ(r.response.status, code) << req->body;
        EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
        EXPECT_EQ(r.records, 0u);
    }
    EXPECT_TRUE(s.harness.records().empty());
    EXPECT_TRUE(s.harness.rejected().empty());
    // The same body, rightly signed, is taken.
    auto good = s.harness.receive(signed_post(s.key, body));
    EXPECT_EQ(good.response.status, 200);
    EXPECT_EQ(s.harness.records().size(), 1u);
}

TEST(SendGrid, KeyThatIsNotAP256PublicKeyIsAConfigError) {
    ConnectorHarness h("sendgrid", "sg");
    for (std::string key : {"not base64!", "aGVsbG8gd29ybGQ=",
                            // an Ed25519 public key (DER): a key, but not ECDSA P-256
                            "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="}) {
        h.configure({{"verification_key", key}});
        auto c = h.check();
        EXPECT_EQ(c.code, StatusCode::config_error) << key << ": " << c.to_string();
        EXPECT_NE(c.message.find("verification_key"), std::string::npos);
    }
    KeyPair k;
    const auto pem = "-----BEGIN PUBLIC KEY-----\n" + k.public_key().substr(0, 64) + "\n" +
                     k.public_key().substr(64) + "\n-----END PUBLIC KEY-----\n";
    h.configure({{"verification_key", pem}});
    EXPECT_TRUE(h.check().ok()) << "PEM is accepted too";
    auto r = h.receive(signed_post(k, json::array({event("open", "p1", now_s())}).dump()));
    EXPECT_EQ(r.response.status, 200);
}

TEST(SendGrid, ThousandsOfEventsWithDuplicatesAndRedeliveriesAreStoredOnce) {
    SgEnv s;
    std::mt19937_64 rng(20240501);
    const auto base = now_s() - 7200;
    std::vector<json> events;
    for (int i = 0; i < 3000; ++i) {
        const auto& type = kTypes[rng() % kTypes.size()];
        // Out of order in time, as SendGrid delivers them.
        events.push_back(event(type, "sg-" + std::to_string(i),
                               base + static_cast<int64_t>(rng() % 7000),
                               "user" + std::to_string(rng() % 400) + "@example.com"));
        if (i % 3 == 0) events.back()["category"] = json::array({"a", "b"});
    }
    std::set<std::string> want;
    for (const auto& e : events)
        for (const auto& id : expected_ids(e)) want.insert(id);

    std::size_t deliveries = 0;
    for (std::size_t start = 0; start < events.size(); start += 100) {
        json batch = json::array();
        for (std::size_t i = start; i < std::min(events.size(), start + 100); ++i) {
            batch.push_back(events[i]);
            if (rng() % 10 == 0) batch.push_back(events[i]);  // a duplicate within the delivery
            if (rng() % 20 == 0) batch.push_back(events[rng() % events.size()]);  // seen elsewhere
        }
        // SendGrid retries a delivery it thinks failed: the same events, signed anew.
        const int times = rng() % 4 == 0 ? 2 : 1;
        for (int t = 0; t < times; ++t) {
            auto r = s.harness.receive(signed_post(s.key, batch.dump()));
            ASSERT_TRUE(r.status.ok()) << r.status.to_string();
            ASSERT_EQ(r.response.status, 200);
            ++deliveries;
        }
    }
    EXPECT_GT(deliveries, 30u);
    const auto records = s.harness.records();
    std::set<std::string> got;
    for (const auto& [id, r] : records) got.insert(id);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "every event stored exactly once";
    EXPECT_TRUE(s.harness.rejected().empty());
    // Spot-check that a stored event is the event sent.
    const auto& e = events[1234];
    const auto& r = records.at(e["sg_event_id"].get<std::string>());
    EXPECT_EQ(r["identifiers"]["email"], e["email"]);
    EXPECT_EQ(r["properties"]["sg_message_id"], e["sg_message_id"]);
}

TEST(SendGrid, UnsignedModeAndUnreadableDeliveries) {
    ConnectorHarness h("sendgrid", "sg");
    h.configure(json::object());
    EXPECT_TRUE(h.check().ok());
    auto r = h.receive(post(json::array({event("delivered", "u1", now_s() - 5)}).dump()));
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(h.records().size(), 1u);
    // Not an array, an event without a timestamp, an event without an email: all visible in
    // the rejected store with a reason, acknowledged so SendGrid does not resend them.
    EXPECT_EQ(h.receive(post("{\"event\":\"open\"")).response.status, 200);
    json no_ts = event("open", "u2", 0);
    no_ts.erase("timestamp");
    json no_email = event("open", "u3", now_s() - 5);
    no_email.erase("email");
    EXPECT_EQ(h.receive(post(json::array({no_ts, no_email}).dump())).response.status, 200);
    const auto rejected = h.rejected();
    ASSERT_EQ(rejected.size(), 3u);
    EXPECT_EQ(rejected[0].first, "plugin_reported_error");
    EXPECT_EQ(rejected[1].first, "plugin_reported_error");
    EXPECT_EQ(rejected[2].first, "no_identifier");
    auto get = post("");
    get.method = "GET";
    EXPECT_EQ(h.receive(get).response.status, 405);
    EXPECT_EQ(h.records().size(), 1u);
}

}  // namespace
}  // namespace cdphub

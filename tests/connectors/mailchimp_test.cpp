// The mailchimp plugin against the Mailchimp simulator, into a real store: the members pull
// through every fault Mailchimp shows, a kill mid-sync, a bad key, the wire format, and the
// audience webhook (secret path, validation GET, every event type, form-decoding edge cases).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <set>
#include <thread>

#include "connectors/connector_harness.hpp"
#include "simulators/vendors/mailchimp.hpp"

namespace cdphub {
namespace {

using nlohmann::json;
using sim::Fault;
using sim::MailchimpVendor;
using test::ConnectorHarness;

constexpr const char* kSecret = "whsec-0123456789abcdef";

struct McEnv {
    explicit McEnv(std::size_t members, sim::FaultPlan faults = {}, json settings = json::object())
        : server(std::make_unique<MailchimpVendor>(sim::VendorOptions{
              .seed = 5, .records = members, .faults = faults, .settings = std::move(settings)})),
          vendor(dynamic_cast<MailchimpVendor&>(server.vendor())),
          harness("mailchimp", "mc") {
        configure();
    }
    void configure(json extra = json::object()) {
        json config = {{"api_key", vendor.api_key()}, {"base_url", server.base_url()},
                       {"list_id", vendor.list_id()}, {"page_size", 50},
                       {"settle_seconds", 0},         {"max_attempts", 8},
                       {"retry_backoff_ms", 1},       {"webhook_secret", kSecret}};
        config.update(extra);
        plugin_host::HostOptions options;
        options.http.backoff_base = std::chrono::milliseconds(1);
        options.http.backoff_max = std::chrono::milliseconds(5);
        options.http.timeout = std::chrono::milliseconds(5000);
        harness.configure(config, {{"api_key", config["api_key"].get<std::string>()}}, options);
    }
    // Syncs until a read ends well (a read may give up on a long fault streak; the next one
    // resumes from its cursor, as the hub's scheduler would run it).
    void sync_until_ok(int max_runs = 20) {
        for (int i = 0; i < max_runs; ++i) {
            auto r = harness.sync();
            if (r.status.ok()) return;
            ASSERT_TRUE(r.status.code == StatusCode::retryable ||
                        r.status.code == StatusCode::rate_limited)
                << r.status.to_string();
        }
        FAIL() << "no read ended well in " << max_runs << " runs";
    }
    sim::SimulatorServer server;
    MailchimpVendor& vendor;
    ConnectorHarness harness;
};

// Waits into the next wall-clock second, so every member changed so far is stamped before the
// next read's window closes (settle_seconds is 0 in these tests).
void next_second() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 - ms % 1000 + 20));
}

// The store holds exactly the simulator's members, latest version each, with the right consent;
// every stored version is one the simulator held; nothing was rejected.
void expect_store_matches(McEnv& s) {
    const auto records = s.harness.records();
    const auto versions = s.vendor.versions();
    std::size_t identifies = 0, consents = 0;
    for (const auto& [id, r] : records) {
        ASSERT_EQ(id.rfind("member:", 0), 0u) << id;
        auto version = id.substr(7);
        if (r["type"] == "consent") {
            ++consents;
            ASSERT_TRUE(version.size() > 8 && version.substr(version.size() - 8) == ":consent");
            version.resize(version.size() - 8);
        } else {
            ASSERT_EQ(r["type"], "identify") << id;
            ++identifies;
        }
        EXPECT_TRUE(versions.count(version)) << "a version the simulator never held: " << id;
    }
    EXPECT_EQ(identifies, consents);
    for (const auto& m : s.vendor.members()) {
        const auto id = "member:" + m.version();
        auto it = records.find(id);
        ASSERT_NE(it, records.end()) << "latest version missing: " << id;
        const auto& r = it->second;
        std::string email = m.email;
        for (auto& ch : email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        EXPECT_EQ(r["identifiers"]["email"], email);  // cleansed by the hub
        EXPECT_EQ(m.id, MailchimpVendor::subscriber_hash(email));
        EXPECT_EQ(r["occurred_at"].get<std::string>().substr(0, 19),
                  MailchimpVendor::time_text(m.last_changed).substr(0, 19));
        EXPECT_EQ(r["traits"]["first_name"], m.merge_fields["FNAME"]);
        EXPECT_EQ(r["traits"]["mailchimp_status"], m.status);
        if (m.merge_fields["LNAME"] == "") {
            EXPECT_FALSE(r["traits"].contains("last_name")) << "empty merge fields say nothing";
        } else {
            EXPECT_EQ(r["traits"]["last_name"], m.merge_fields["LNAME"]);
        }
        if (m.merge_fields["COMPANY"] != "") {
            EXPECT_EQ(r["traits"]["mailchimp_company"], m.merge_fields["COMPANY"]);
        }
        auto c = records.find(id + ":consent");
        ASSERT_NE(c, records.end()) << id;
        EXPECT_EQ(c->second["consent"]["purpose"], "email_marketing");
        EXPECT_EQ(c->second["consent"]["granted"], m.status == "subscribed") << id;
        EXPECT_EQ(c->second["consent"]["source"], "mailchimp:" + m.status);
    }
    EXPECT_TRUE(s.harness.rejected().empty());
}

TEST(Mailchimp, PullsEveryMemberThroughEveryFault) {
    sim::FaultPlan plan{
        .seed = 42,
        .rate = 0.2,
        .kinds = {Fault::throttle, Fault::throttle_silent, Fault::server_error, Fault::hang_up,
                  Fault::slow, Fault::short_page, Fault::mutate_rows},
        .burst = 6,  // longer than the hub's 4 attempts: the plugin's own retry
        .slow_ms = 10};
    McEnv s(3000, plan, {{"bare_403_every", 3}, {"mutate_per_fault", 4}});
    s.vendor.faults().script(2, Fault::mutate_rows);
    s.vendor.faults().script(5, Fault::hang_up);
    s.sync_until_ok();
    const auto injected = s.vendor.faults().injected();
    for (auto f : plan.kinds)
        EXPECT_GT(injected.count(std::string(sim::fault_name(f))), 0u) << sim::fault_name(f);

    // Members changed mid-sync are stamped after the read's window: the next read takes them.
    s.vendor.pause_faults(true);
    next_second();
    ASSERT_TRUE(s.harness.sync().status.ok());
    expect_store_matches(s);
    EXPECT_GT(s.vendor.versions().size(), 3000u) << "the faults changed members";

    // The cursor covers everything: another read stores nothing new.
    const auto cursor = json::parse(s.harness.cursor());
    EXPECT_EQ(cursor["list_id"], s.vendor.list_id());
    const auto n = s.harness.records().size();
    next_second();
    auto again = s.harness.sync();
    ASSERT_TRUE(again.status.ok());
    EXPECT_EQ(again.records, 0u);
    EXPECT_EQ(s.harness.records().size(), n);

    // A member changed later is read as a new version; the old one stays (history).
    s.vendor.mutate(5);
    next_second();
    ASSERT_TRUE(s.harness.sync().status.ok());
    expect_store_matches(s);
    EXPECT_EQ(s.harness.records().size(), n + 10);
}

TEST(Mailchimp, KilledMidSyncResumesWithoutLossOrDuplicates) {
    McEnv s(3000);
    // Kill after some pages were committed, then again later in the next run.
    for (std::size_t after : {12u, 30u}) {
        const auto start = s.server.http().request_count();
        EXPECT_TRUE(s.harness.sync_killed_when(
            [&] { return s.server.http().request_count() >= start + after; }));
    }
    const auto partial = s.harness.records().size();
    EXPECT_GT(partial, 0u);
    EXPECT_LT(partial, 6000u);
    ASSERT_FALSE(s.harness.cursor().empty()) << "a page was committed with its cursor";
    ASSERT_TRUE(s.harness.sync().status.ok());
    expect_store_matches(s);
    EXPECT_EQ(s.harness.records().size(), 6000u) << "each member once: identify + consent";
}

TEST(Mailchimp, BadKeyEndsWithAuthErrorAndNoRetryLoop) {
    McEnv s(100);
    s.configure({{"api_key", "ffffffffffffffffffffffffffffffff-us21"}});
    auto r = s.harness.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error);
    EXPECT_NE(r.status.message.find("refused the API key"), std::string::npos) << r.status.message;
    EXPECT_NE(r.status.message.find("API Key Invalid"), std::string::npos) << r.status.message;
    EXPECT_EQ(r.status.message.find("ffffffff"), std::string::npos) << "never quote the key";
    EXPECT_LE(s.server.http().request_count(), 1u);
    EXPECT_EQ(s.harness.check().code, StatusCode::auth_error);
    EXPECT_TRUE(s.harness.records().empty());
}

TEST(Mailchimp, ConfigProblemsAreConfigErrors) {
    McEnv s(10);
    s.configure({{"list_id", "nosuchlist"}});
    auto c = s.harness.check();
    EXPECT_EQ(c.code, StatusCode::config_error) << c.to_string();
    EXPECT_NE(c.message.find("nosuchlist"), std::string::npos);
    s.configure({{"api_key", "keywithoutdatacenter"}, {"base_url", nullptr}});
    c = s.harness.check();
    EXPECT_EQ(c.code, StatusCode::config_error) << c.to_string();
    EXPECT_NE(c.message.find("data-center suffix"), std::string::npos);
}

TEST(Mailchimp, ThrottlingThatOutlastsTheRetriesIsRateLimitedAndResumes) {
    sim::FaultPlan plan{.seed = 1, .rate = 0.0, .kinds = {}};
    McEnv s(200, plan, {{"bare_403_every", 2}});
    s.configure({{"max_attempts", 2}});
    // The first page is answered; then every throttle alternates a 429 without Retry-After
    // (the hub retries it) with a bare 403 (the hub hands it over): requests 2-3 are the
    // plugin's first attempt at page 2, requests 4-5 its second and last.
    for (std::uint64_t i = 2; i <= 5; ++i) s.vendor.faults().script(i, Fault::throttle_silent);
    auto r = s.harness.sync();
    EXPECT_EQ(r.status.code, StatusCode::rate_limited) << r.status.to_string();
    EXPECT_NE(r.status.message.find("throttled"), std::string::npos) << r.status.message;
    EXPECT_EQ(s.server.http().request_count(), 5u);
    EXPECT_EQ(s.harness.records().size(), 100u) << "the first page is kept";
    ASSERT_TRUE(s.harness.sync().status.ok());
    expect_store_matches(s);
}

TEST(Mailchimp, ResumesInsideABlockOfTiedStamps) {
    // 100 members: 0-49 on their own stamps, 50-89 one bulk import (one stamp), 90-99 later.
    // Pages of 7: page 8 holds member 49 and the first 6 of the block; the read then fails at
    // page 9. The next read must not skip the 34 block members it has not read yet.
    McEnv s(100, {}, {{"tie_block", 40}});
    s.configure({{"page_size", 7}, {"max_attempts", 1}});
    s.vendor.faults().script(9, Fault::server_error);  // a 500: the hub does not retry it
    auto r = s.harness.sync();
    ASSERT_EQ(r.status.code, StatusCode::retryable) << r.status.to_string();
    EXPECT_EQ(s.harness.records().size(), 2u * 56);
    const auto cursor = json::parse(s.harness.cursor());
    EXPECT_EQ(cursor["since"], MailchimpVendor::time_text(s.vendor.members()[49].last_changed))
        << "the cursor stays below the tied stamp";
    ASSERT_TRUE(s.harness.sync().status.ok());
    expect_store_matches(s);
    EXPECT_EQ(s.harness.records().size(), 200u);
}

std::string decode_basic(std::string_view header) {
    std::string in(header.substr(6));
    std::string out(in.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '\0') out.pop_back();
    return out;
}

TEST(Mailchimp, SendsMailchimpsWireFormat) {
    McEnv s(120);
    ASSERT_TRUE(s.harness.check().ok());
    ASSERT_TRUE(s.harness.sync().status.ok());
    s.vendor.mutate(3);
    next_second();
    ASSERT_TRUE(s.harness.sync().status.ok());
    const auto requests = s.server.http().requests();
    ASSERT_GE(requests.size(), 5u);
    // check: the audience itself, only the fields it needs.
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].path(), "/3.0/lists/" + s.vendor.list_id());
    EXPECT_EQ(sim::form_value(requests[0].query(), "fields"), "id,name,stats.member_count");
    EXPECT_EQ(requests[0].header("Accept"), "application/json");
    std::size_t pages = 0, with_since = 0;
    for (const auto& r : requests) {
        EXPECT_EQ(r.method, "GET");
        const auto auth = std::string(r.header("Authorization"));
        ASSERT_EQ(auth.rfind("Basic ", 0), 0u) << auth;
        const auto user_pass = decode_basic(auth);
        ASSERT_NE(user_pass.find(':'), std::string::npos);
        EXPECT_EQ(user_pass.substr(user_pass.find(':') + 1), s.vendor.api_key());
        if (r.path() != "/3.0/lists/" + s.vendor.list_id() + "/members") continue;
        ++pages;
        const auto q = r.query();
        EXPECT_EQ(sim::form_value(q, "count"), "50");
        EXPECT_EQ(sim::form_value(q, "sort_field"), "last_changed");
        EXPECT_EQ(sim::form_value(q, "sort_dir"), "ASC");
        const auto fields = sim::form_value(q, "fields");
        for (const char* f : {"members.id", "members.email_address", "members.status",
                              "members.merge_fields", "members.last_changed", "total_items"})
            EXPECT_NE(fields.find(f), std::string::npos) << f;
        // ISO 8601 with an explicit offset, as Mailchimp documents for these filters.
        const auto before = sim::form_value(q, "before_last_changed");
        EXPECT_EQ(before.size(), 25u) << before;
        EXPECT_EQ(before.substr(19), "+00:00");
        EXPECT_NE(q.find("before_last_changed=20"), std::string::npos);
        EXPECT_NE(q.find("%3A"), std::string::npos) << "':' and '+' are percent-encoded: " << q;
        if (!sim::form_value(q, "since_last_changed").empty()) ++with_since;
    }
    EXPECT_EQ(pages, 4u) << "120 members in pages of 50, then one page of changes";
    EXPECT_EQ(with_since, 1u) << "the second read is incremental";
    EXPECT_EQ(s.harness.records().size(), 246u);
}

// ---- Audience webhooks ------------------------------------------------------------------------

plugin_host::WebhookRequest form_post(std::string body, std::string secret = kSecret) {
    plugin_host::WebhookRequest r;
    r.method = "POST";
    r.path = "/webhooks/mc/" + secret;
    r.body = std::move(body);
    r.remote_address = "205.201.131.98";
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"User-Agent", "MailChimp"}};
    return r;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) out += '&';
        out += sim::url_encode(k) + "=" + sim::url_encode(v);
    }
    return out;
}

struct WebhookEnv : McEnv {
    WebhookEnv() : McEnv(1) {}
    plugin_host::WebhookResult post(const std::string& body) {
        return harness.receive(form_post(body));
    }
};

TEST(MailchimpWebhook, ValidationGetIsAnsweredAndStoresNothing) {
    WebhookEnv s;
    auto get = form_post("");
    get.method = "GET";
    auto r = s.harness.receive(get);
    EXPECT_TRUE(r.status.ok()) << r.status.to_string();
    EXPECT_EQ(r.response.status, 200);
    EXPECT_TRUE(s.harness.records().empty());
}

TEST(MailchimpWebhook, WrongOrMissingSecretIsRefusedAndStoresNothing) {
    WebhookEnv s;
    const auto body = form({{"type", "subscribe"},
                            {"fired_at", "2024-05-01 09:30:00"},
                            {"data[email]", "ann@example.com"},
                            {"data[list_id]", s.vendor.list_id()}});
    for (std::string wrong : {"whsec-0123456789abcdeX", "whsec-0123456789abcde", "", "x"}) {
        auto r = s.harness.receive(form_post(body, wrong));
        EXPECT_EQ(r.response.status, 401) << wrong;
        EXPECT_EQ(r.status.code, StatusCode::auth_error);
        EXPECT_EQ(r.status.message.find(kSecret), std::string::npos);
    }
    auto wrong_get = form_post("", "nope");
    wrong_get.method = "GET";
    EXPECT_EQ(s.harness.receive(wrong_get).response.status, 401);
    s.configure({{"webhook_secret", nullptr}});
    auto unset = s.harness.receive(form_post(body));
    EXPECT_EQ(unset.response.status, 404);
    EXPECT_EQ(unset.status.code, StatusCode::config_error);
    EXPECT_TRUE(s.harness.records().empty());
    EXPECT_TRUE(s.harness.rejected().empty());
}

const json* find_type(const std::map<std::string, json>& records, const std::string& type) {
    for (const auto& [id, r] : records)
        if (r["type"] == type) return &r;
    return nullptr;
}

TEST(MailchimpWebhook, EveryEventTypeMapsToItsRecords) {
    WebhookEnv s;
    const auto list = s.vendor.list_id();
    auto r = s.post(form({{"type", "subscribe"},
                          {"fired_at", "2024-05-01 09:30:00"},
                          {"data[id]", "8a25ff1d98"},
                          {"data[list_id]", list},
                          {"data[email]", "Ann@Example.com"},
                          {"data[email_type]", "html"},
                          {"data[merges][EMAIL]", "Ann@Example.com"},
                          {"data[merges][FNAME]", "Ann"},
                          {"data[merges][LNAME]", "Lee"},
                          {"data[merges][INTERESTS]", "Group1,Group2"},
                          {"data[ip_opt]", "10.20.10.30"}}));
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    EXPECT_EQ(r.response.status, 200);
    auto records = s.harness.records();
    ASSERT_EQ(records.size(), 2u);
    auto* identify = find_type(records, "identify");
    ASSERT_NE(identify, nullptr);
    EXPECT_EQ((*identify)["identifiers"]["email"], "ann@example.com");
    EXPECT_EQ((*identify)["traits"]["first_name"], "Ann");
    EXPECT_EQ((*identify)["traits"]["last_name"], "Lee");
    EXPECT_EQ((*identify)["traits"]["mailchimp_interests"], "Group1,Group2");
    EXPECT_FALSE((*identify)["traits"].contains("mailchimp_email"));
    EXPECT_EQ((*identify)["occurred_at"], "2024-05-01T09:30:00.000Z");
    auto* consent = find_type(records, "consent");
    ASSERT_NE(consent, nullptr);
    EXPECT_EQ((*consent)["consent"]["granted"], true);

    const auto before = s.harness.records().size();
    for (const auto& [type, extra] : std::vector<std::pair<std::string, std::string>>{
             {"unsubscribe", "unsubscribed"}, {"cleaned", "cleaned"}}) {
        s.post(form({{"type", type},
                     {"fired_at", "2024-05-02 10:00:00"},
                     {"data[action]", "unsub"},
                     {"data[reason]", type == "cleaned" ? "hard" : "manual"},
                     {"data[list_id]", list},
                     {"data[email]", "ann@example.com"}}));
        auto now = s.harness.records();
        bool found = false;
        for (const auto& [id, rec] : now)
            if (id.rfind("webhook:" + type + ":", 0) == 0 && rec["type"] == "consent") {
                found = true;
                EXPECT_EQ(rec["consent"]["granted"], false);
                EXPECT_EQ(rec["consent"]["source"], "mailchimp:" + extra);
            }
        EXPECT_TRUE(found) << type;
    }
    EXPECT_EQ(s.harness.records().size(), before + 4);

    s.post(form({{"type", "profile"},
                 {"fired_at", "2024-05-03 10:00:00"},
                 {"data[list_id]", list},
                 {"data[email]", "ann@example.com"},
                 {"data[merges][FNAME]", "Anne"}}));
    s.post(form({{"type", "upemail"},
                 {"fired_at", "2024-05-04 10:00:00"},
                 {"data[list_id]", list},
                 {"data[new_id]", "51aa6d0d8e"},
                 {"data[new_email]", "anne@example.org"},
                 {"data[old_email]", "ann@example.com"}}));
    auto c = s.post(form({{"type", "campaign"},
                          {"fired_at", "2024-05-05 10:00:00"},
                          {"data[id]", "5aa2102003"},
                          {"data[subject]", "Spring sale"},
                          {"data[status]", "sent"},
                          {"data[list_id]", list}}));
    EXPECT_EQ(c.response.status, 200);
    EXPECT_EQ(c.records, 0u);
    records = s.harness.records();
    EXPECT_EQ(records.size(), before + 6);
    bool profile = false, alias = false;
    for (const auto& [id, rec] : records) {
        if (id.rfind("webhook:profile:", 0) == 0) {
            profile = true;
            EXPECT_EQ(rec["traits"]["first_name"], "Anne");
        }
        if (rec["type"] == "alias") {
            alias = true;
            EXPECT_EQ(rec["identifiers"]["email"], "anne@example.org");
            EXPECT_EQ(rec["alias"]["previous_id"]["type"], "email");
            EXPECT_EQ(rec["alias"]["previous_id"]["value"], "ann@example.com");
        }
    }
    EXPECT_TRUE(profile);
    EXPECT_TRUE(alias);
    EXPECT_TRUE(s.harness.rejected().empty());
}

TEST(MailchimpWebhook, RedeliveryIsStoredOnce) {
    WebhookEnv s;
    const auto body = form({{"type", "unsubscribe"},
                            {"fired_at", "2024-05-02 10:00:00"},
                            {"data[list_id]", s.vendor.list_id()},
                            {"data[email]", "bob@example.com"}});
    for (int i = 0; i < 3; ++i) EXPECT_EQ(s.post(body).response.status, 200);
    EXPECT_EQ(s.harness.records().size(), 2u);
    // The same fields in another order and encoding are the same delivery.
    EXPECT_EQ(s.post("data%5Bemail%5D=bob%40example.com&fired_at=2024-05-02+10%3A00%3A00&"
                     "data[list_id]=" +
                     s.vendor.list_id() + "&type=unsubscribe")
                  .response.status,
              200);
    EXPECT_EQ(s.harness.records().size(), 2u);
}

TEST(MailchimpWebhook, FormDecodingEdgeCases) {
    WebhookEnv s;
    const auto list = s.vendor.list_id();
    // '+' is a space, %2B a plus; brackets may come encoded or not; UTF-8 percent-encoded; an
    // empty merge value says nothing; a pair without '=' and empty pairs are skipped; the first
    // of a repeated key wins.
    auto r = s.post("type=profile&fired_at=2024-05-06+08%3A00%3A00&&data%5Blist_id%5D=" + list +
                    "&data[email]=api%2Bunsub%40Example.com&data[merges][FNAME]=Jos%C3%A9+Maria"
                    "&data[merges][LNAME]=&data%5Bmerges%5D%5BCOMPANY%5D=A%26B+%3D+C&flag"
                    "&data[merges][FNAME]=Ignored&data[merges][ADDRESS][city]=Berlin");
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    auto records = s.harness.records();
    ASSERT_EQ(records.size(), 1u);
    const auto& rec = records.begin()->second;
    EXPECT_EQ(rec["identifiers"]["email"], "api+unsub@example.com");
    EXPECT_EQ(rec["traits"]["first_name"], "José Maria");
    EXPECT_FALSE(rec["traits"].contains("last_name"));
    EXPECT_EQ(rec["traits"]["mailchimp_company"], "A&B = C");
    EXPECT_EQ(rec["traits"]["address"], json({{"city", "Berlin"}}));
    EXPECT_EQ(rec["occurred_at"], "2024-05-06T08:00:00.000Z");

    // Unmappable deliveries go to the rejected store with the reason (and are acknowledged:
    // Mailchimp would only send them again).
    for (const auto& body :
         {form({{"fired_at", "2024-05-06 08:00:00"}, {"data[email]", "a@b.co"}}),
          form({{"type", "profile"}, {"fired_at", "yesterday"}, {"data[email]", "a@b.co"}}),
          form({{"type", "teleport"},
                {"fired_at", "2024-05-06 08:00:00"},
                {"data[email]", "a@b.co"}})}) {
        auto bad = s.post(body);
        EXPECT_EQ(bad.response.status, 200);
    }
    const auto rejected = s.harness.rejected();
    ASSERT_EQ(rejected.size(), 3u);
    for (const auto& [reason, raw] : rejected) EXPECT_EQ(reason, "plugin_reported_error") << raw;
    // Another audience's webhook is not this instance's business.
    auto other = s.post(form({{"type", "subscribe"},
                              {"fired_at", "2024-05-06 08:00:00"},
                              {"data[list_id]", "otherlist"},
                              {"data[email]", "c@d.co"}}));
    EXPECT_EQ(other.response.status, 200);
    EXPECT_EQ(s.harness.records().size(), 1u);
}

}  // namespace
}  // namespace cdphub

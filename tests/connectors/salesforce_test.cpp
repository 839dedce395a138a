// The salesforce plugin against the Salesforce simulator, into a real store: every fault the
// vendor shows, a SIGKILL mid-sync, refused credentials, and the exact requests on the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>

#include "connectors/connector_harness.hpp"
#include "simulators/simulator.hpp"
#include "simulators/vendors/salesforce.hpp"

namespace cdphub {
namespace {

using nlohmann::json;
using sim::Fault;
using sim::SalesforceVendor;
using test::ConnectorHarness;

const std::vector<std::string> kObjects{"Contact", "Lead", "Account"};

struct Org {
    explicit Org(std::size_t records, json settings = json::object(), sim::FaultPlan faults = {})
        : server("salesforce", options(records, std::move(settings), std::move(faults))),
          vendor(dynamic_cast<SalesforceVendor&>(server.vendor())),
          port(std::to_string(server.http().port())) {}

    static sim::VendorOptions options(std::size_t records, json settings, sim::FaultPlan faults) {
        sim::VendorOptions o;
        o.seed = 42;
        o.records = records;
        o.settings = std::move(settings);
        o.faults = std::move(faults);
        return o;
    }
    // Tokens come from "localhost", the API from the instance_url the token names (127.0.0.1),
    // so requests show which of the two the plugin used.
    std::string login_url() const { return "http://localhost:" + port; }
    std::string host() const { return "127.0.0.1:" + port; }
    json config(json extra = json::object()) const {
        json c = {{"login_url", login_url()},       {"client_id", "cdphub-test-client"},
                  {"client_secret", "test-secret"}, {"batch_size", 200},
                  {"daily_limit_retry_after_s", 0}, {"concurrency_retry_after_s", 0}};
        c.merge_patch(extra);
        return c;
    }

    sim::SimulatorServer server;
    SalesforceVendor& vendor;
    std::string port;
};

plugin_host::HostOptions fast_retries() {
    plugin_host::HostOptions o;
    o.http.backoff_base = std::chrono::milliseconds(2);
    o.http.backoff_max = std::chrono::milliseconds(20);
    o.http.timeout = std::chrono::milliseconds(5000);
    return o;
}

void configure(ConnectorHarness& h, const Org& org, json extra = json::object()) {
    auto c = org.config(std::move(extra));
    ConnectorHarness::Secrets secrets{{"client_secret", c["client_secret"].get<std::string>()}};
    if (c.contains("refresh_token"))
        secrets["refresh_token"] = c["refresh_token"].get<std::string>();
    h.configure(c, secrets, fast_retries());
}

std::string record_id(const std::string& object, const json& row) {
    return object + "/" + row["Id"].get<std::string>() + "@" +
           row["SystemModstamp"].get<std::string>();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// The store holds the latest version of every row the org has (deleted rows as "CRM Record
// Deleted" events), only versions that existed, nothing rejected, and the cursor sits at the
// newest stamp of each object with exactly the Ids of that stamp.
void expect_store_matches_org(const ConnectorHarness& h, const Org& org) {
    const auto stored = h.records();
    const auto versions = org.vendor.versions();
    std::size_t live = 0, deleted = 0;
    const json cursor = json::parse(h.cursor());
    for (const auto& object : kObjects) {
        std::string newest;
        std::set<std::string> newest_ids;
        for (const auto& row : org.vendor.rows(object)) {
            const auto id = record_id(object, row);
            auto it = stored.find(id);
            if (it == stored.end()) {
                ADD_FAILURE() << "missing the latest version " << id;
                continue;
            }
            const json& rec = it->second;
            EXPECT_EQ(rec["identifiers"].value("crm_id",
                                               rec["identifiers"].value("crm_account_id", json())),
                      row["Id"])
                << id;
            if (row["IsDeleted"].get<bool>()) {
                ++deleted;
                EXPECT_EQ(rec["type"], "track") << id;
                EXPECT_EQ(rec["event"], "CRM Record Deleted") << id;
                EXPECT_EQ(rec["properties"]["object"], object) << id;
            } else {
                ++live;
                EXPECT_EQ(rec["type"], "identify") << id;
                if (object != "Account" && row["Email"].is_string()) {
                    EXPECT_EQ(rec["identifiers"]["email"], lower(row["Email"].get<std::string>()))
                        << id;
                }
                if (object != "Account") {
                    EXPECT_EQ(rec["traits"]["last_name"], row["LastName"]) << id;
                } else {
                    EXPECT_EQ(rec["traits"]["company"], row["Name"]) << id;
                }
            }
            const auto stamp = row["SystemModstamp"].get<std::string>();
            if (stamp > newest) {
                newest = stamp;
                newest_ids.clear();
            }
            if (stamp == newest) newest_ids.insert(row["Id"].get<std::string>());
        }
        ASSERT_TRUE(cursor["objects"].contains(object)) << cursor.dump();
        EXPECT_EQ(cursor["objects"][object]["watermark"], newest) << object;
        EXPECT_EQ(cursor["objects"][object]["ids"].get<std::set<std::string>>(), newest_ids)
            << object;
    }
    for (const auto& [id, rec] : stored)
        EXPECT_EQ(versions.count(id), 1u) << "not a version the org had: " << id;
    EXPECT_GT(live, 0u);
    EXPECT_GT(deleted, 0u);
    EXPECT_TRUE(h.rejected().empty())
        << h.rejected().front().first << ": " << h.rejected().front().second;
}

// Syncs until a sync with faults switched off hands over nothing new.
std::uint64_t settle(ConnectorHarness& h, Org& org) {
    org.vendor.set_faults_enabled(false);
    std::uint64_t emitted = 0;
    for (int i = 0; i < 5; ++i) {
        auto r = h.sync();
        EXPECT_TRUE(r.status.ok()) << r.status.to_string();
        emitted += r.records;
        if (r.records == 0) return emitted;
    }
    ADD_FAILURE() << "the sync did not settle";
    return emitted;
}

TEST(SalesforceConnector, EveryFaultEndsWithExactlyTheOrgsRows) {
    const std::vector<Fault> kinds{
        Fault::expire_token, Fault::throttle,          Fault::throttle_silent,
        Fault::server_error, Fault::hang_up,           Fault::slow,
        Fault::short_page,   Fault::invalidate_cursor, Fault::mutate_rows};
    // SF_FAULT_SEED replays another schedule (seed 7 draws every kind at least once).
    const char* seed_env = std::getenv("SF_FAULT_SEED");
    sim::FaultPlan plan{.seed = seed_env ? std::stoull(seed_env) : 7,
                        .rate = 0.25,
                        .kinds = kinds,
                        .burst = 2,
                        .slow_ms = 20,
                        .quiet_first = 1};
    Org org(3000, {{"max_page", 30}, {"mutate_count", 6}}, plan);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);

    std::uint64_t emitted = 0;
    int failed = 0;
    bool finished = false;
    for (int i = 0; i < 150 && !finished; ++i) {
        auto r = h.sync();
        emitted += r.records;
        if (r.status.ok()) {
            finished = true;
        } else {
            ++failed;
            // Outages and limits end a read for the hub to retry; nothing else may come out.
            EXPECT_TRUE(r.status.code == StatusCode::retryable ||
                        r.status.code == StatusCode::rate_limited)
                << r.status.to_string();
            EXPECT_FALSE(r.status.message.empty());
        }
    }
    ASSERT_TRUE(finished) << "no sync completed in 150 attempts";
    emitted += settle(h, org);
    expect_store_matches_org(h, org);
    // Each version was handed to the hub once: restarts resumed exactly at the checkpoint.
    EXPECT_EQ(emitted, h.records().size());
    EXPECT_GT(failed, 0);
    const auto injected = org.vendor.faults().injected();
    for (auto k : kinds)
        EXPECT_GT(injected.count(std::string(sim::fault_name(k))), 0u) << sim::fault_name(k);
    const auto applied = org.vendor.state()["faults_applied"];
    std::cout << "syncs failed: " << failed << ", faults applied: " << applied.dump()
              << ", requests: " << org.vendor.api_requests() << "\n";
    for (auto k : kinds)
        EXPECT_GT(applied.value(std::string(sim::fault_name(k)), 0), 0) << sim::fault_name(k);
}

TEST(SalesforceConnector, KilledMidSyncResumesWithoutLossOrDoubles) {
    Org org(2000, {{"max_page", 40}});
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);
    const auto total = org.vendor.versions().size();
    ASSERT_TRUE(h.sync_killed_when([&] { return org.vendor.api_requests() >= 12; }));
    const auto after_first = h.records().size();
    EXPECT_FALSE(h.cursor().empty());
    EXPECT_LT(after_first, total);
    ASSERT_TRUE(h.sync_killed_when([&] { return org.vendor.api_requests() >= 40; }));
    EXPECT_GE(h.records().size(), after_first);
    EXPECT_LT(h.records().size(), total);
    const auto before = h.records().size();
    auto r = h.sync();
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    // The last sync handed over exactly what the killed ones had not committed.
    EXPECT_EQ(before + r.records, total);
    expect_store_matches_org(h, org);
    EXPECT_EQ(h.records().size(), total);
}

TEST(SalesforceConnector, BadClientSecretIsAnAuthErrorWithoutRetries) {
    Org org(50);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org, {{"client_secret", "wrong-secret-123"}});
    auto r = h.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
    EXPECT_NE(r.status.message.find("invalid_client"), std::string::npos) << r.status.message;
    EXPECT_NE(r.status.message.find("client_secret"), std::string::npos) << r.status.message;
    EXPECT_EQ(r.status.message.find("wrong-secret-123"), std::string::npos);
    EXPECT_EQ(org.server.http().requests().size(), 1u);  // one token request, no loop
    EXPECT_EQ(h.check().code, StatusCode::auth_error);
    EXPECT_TRUE(h.records().empty());

    Org org2(50);
    ConnectorHarness h2("salesforce", "crm-sf");
    configure(h2, org2, {{"grant_type", "refresh_token"}, {"refresh_token", "revoked"}});
    auto r2 = h2.sync();
    EXPECT_EQ(r2.status.code, StatusCode::auth_error);
    EXPECT_NE(r2.status.message.find("invalid_grant"), std::string::npos) << r2.status.message;
    EXPECT_EQ(org2.server.http().requests().size(), 1u);
}

TEST(SalesforceConnector, SessionThatKeepsFailingIsAnAuthError) {
    // Every API request revokes the session: a fresh token does not help, so the read stops.
    sim::FaultPlan plan{.seed = 1, .rate = 1.0, .kinds = {Fault::expire_token}};
    Org org(50, json::object(), plan);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);
    auto r = h.sync();
    EXPECT_EQ(r.status.code, StatusCode::auth_error) << r.status.to_string();
    EXPECT_NE(r.status.message.find("INVALID_SESSION_ID"), std::string::npos);
    EXPECT_LE(org.server.http().requests().size(), 8u);
}

std::string query_of(const test::HttpRequest& r) {
    return sim::form_value(r.query(), "q");
}

TEST(SalesforceConnector, SendsSalesforcesWireFormat) {
    Org org(300, {{"max_page", 100}});
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);
    ASSERT_TRUE(h.sync().status.ok());
    const auto reqs = org.server.http().requests();
    ASSERT_GE(reqs.size(), 4u);
    const auto& tok = reqs[0];
    EXPECT_EQ(tok.method, "POST");
    EXPECT_EQ(tok.target, "/services/oauth2/token");
    EXPECT_EQ(tok.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(sim::form_pairs(tok.body), (std::vector<std::pair<std::string, std::string>>{
                                             {"grant_type", "client_credentials"},
                                             {"client_id", "cdphub-test-client"},
                                             {"client_secret", "test-secret"}}));
    const auto& first = reqs[1];
    EXPECT_EQ(first.method, "GET");
    EXPECT_EQ(first.header("Host"), org.host());  // instance_url, not login_url
    EXPECT_EQ(first.path(), "/services/data/v62.0/queryAll");
    EXPECT_EQ(first.target.find(' '), std::string::npos);
    EXPECT_EQ(
        query_of(first),
        "SELECT Id, SystemModstamp, IsDeleted, Email, FirstName, LastName, Phone, "
        "MailingCountry, MailingCity, Title, AccountId FROM Contact ORDER BY SystemModstamp, Id");
    EXPECT_EQ(first.header("Sforce-Query-Options"), "batchSize=200");
    EXPECT_EQ(first.header("Authorization").substr(0, 14), "Bearer 00DDn00");
    std::set<std::string> objects;
    int locators = 0;
    for (std::size_t i = 1; i < reqs.size(); ++i) {
        const auto& r = reqs[i];
        EXPECT_EQ(r.method, "GET");
        EXPECT_EQ(r.header("Host"), org.host());
        if (r.path() == "/services/data/v62.0/queryAll") {
            std::smatch m;
            const auto q = query_of(r);
            ASSERT_TRUE(
                std::regex_search(q, m, std::regex(" FROM (\\w+) ORDER BY SystemModstamp, Id$")))
                << q;
            objects.insert(m[1]);
        } else {
            // nextRecordsUrl: a GET of the locator path, no parameters, no batch header.
            ++locators;
            EXPECT_TRUE(
                std::regex_match(std::string(r.target),
                                 std::regex("/services/data/v62\\.0/queryAll/01g\\w{15}-\\d+")))
                << r.target;
            EXPECT_FALSE(r.has_header("Sforce-Query-Options"));
        }
    }
    EXPECT_EQ(objects, (std::set<std::string>{"Contact", "Lead", "Account"}));
    EXPECT_GE(locators, 1);

    // The next sync filters from the watermark, with an unquoted literal in UTC.
    org.server.http().clear_requests();
    org.vendor.mutate(3);
    ASSERT_TRUE(h.sync().status.ok());
    const auto cursor = json::parse(h.cursor());
    const auto wm = cursor["objects"]["Lead"]["watermark"].get<std::string>();
    bool saw_lead = false;
    for (const auto& r : org.server.http().requests()) {
        const auto q = query_of(r);
        if (q.find("FROM Lead") == std::string::npos) continue;
        saw_lead = true;
        EXPECT_NE(q.find(" WHERE SystemModstamp >= 20"), std::string::npos) << q;
        EXPECT_TRUE(std::regex_search(
            q, std::regex(">= \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ORDER BY")))
            << q;
        EXPECT_EQ(q.find('\''), std::string::npos) << q;
    }
    EXPECT_TRUE(saw_lead);
    EXPECT_EQ(wm.substr(wm.size() - 5), "+0000");
}

TEST(SalesforceConnector, RefreshTokenGrant) {
    Org org(60);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org, {{"grant_type", "refresh_token"}, {"refresh_token", "test-refresh"}});
    ASSERT_TRUE(h.sync().status.ok());
    const auto tok = org.server.http().requests().at(0);
    EXPECT_EQ(sim::form_value(tok.body, "grant_type"), "refresh_token");
    EXPECT_EQ(sim::form_value(tok.body, "refresh_token"), "test-refresh");
    EXPECT_EQ(sim::form_value(tok.body, "client_id"), "cdphub-test-client");
    EXPECT_EQ(h.records().size(), org.vendor.versions().size());
}

TEST(SalesforceConnector, ExpiredSessionResumesTheSamePageAndExpiredLocatorRestartsFromCheckpoint) {
    // Requests: 1 token, 2 Contact query (page 1), 3 page 2, 4 page 3 (session expired),
    // 5 token, 6 page 3 again, 7 page 4, 8 page 5 (locator gone), 9 the query again.
    sim::FaultPlan plan{.seed = 1, .rate = 0.0, .kinds = {}};
    Org org(600, {{"max_page", 40}}, plan);
    org.vendor.faults().script(4, Fault::expire_token);
    org.vendor.faults().script(8, Fault::invalidate_cursor);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);
    auto r = h.sync();
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    const auto reqs = org.server.http().requests();
    ASSERT_GE(reqs.size(), 10u);
    EXPECT_EQ(reqs[4].target, "/services/oauth2/token");
    EXPECT_EQ(reqs[5].target, reqs[3].target);  // the same page, with the new session
    EXPECT_NE(reqs[5].header("Authorization"), reqs[3].header("Authorization"));
    EXPECT_EQ(reqs[8].path(), "/services/data/v62.0/queryAll");
    const auto q = query_of(reqs[8]);
    EXPECT_NE(q.find("FROM Contact WHERE SystemModstamp >= "), std::string::npos) << q;
    EXPECT_EQ(reqs[8].header("Sforce-Query-Options"), "batchSize=200");
    EXPECT_EQ(r.records, org.vendor.versions().size());  // nothing handed over twice
    expect_store_matches_org(h, org);
}

TEST(SalesforceConnector, DailyLimitStopsTheReadAsRateLimited) {
    Org org(600, {{"max_page", 40}, {"daily_limit", 5}});
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org, {{"daily_limit_retry_after_s", 7}});
    auto r = h.sync();
    EXPECT_EQ(r.status.code, StatusCode::rate_limited) << r.status.to_string();
    EXPECT_NE(r.status.message.find("daily API request limit"), std::string::npos)
        << r.status.message;
    EXPECT_NE(r.status.message.find("api-usage="), std::string::npos) << r.status.message;
    ASSERT_TRUE(r.status.retry_after.has_value());
    EXPECT_EQ(r.status.retry_after->count(), 7000);
    EXPECT_EQ(org.vendor.api_requests(), 6u);  // no retry loop against an exhausted limit
    EXPECT_EQ(h.records().size(), r.records);  // the pages before the limit are kept
    EXPECT_GT(r.records, 0u);
}

TEST(SalesforceConnector, DeletedRowsAsTraitOrNotAtAll) {
    Org org(400);
    ConnectorHarness h("salesforce", "trait");
    configure(h, org, {{"deleted_rows", "trait"}});
    ASSERT_TRUE(h.sync().status.ok());
    const auto stored = h.records();
    int deleted = 0;
    for (const auto& object : kObjects)
        for (const auto& row : org.vendor.rows(object)) {
            const auto& rec = stored.at(record_id(object, row));
            EXPECT_EQ(rec["type"], "identify");
            EXPECT_EQ(rec["traits"]["deleted_in_crm"], row["IsDeleted"]);
            deleted += row["IsDeleted"].get<bool>() ? 1 : 0;
        }
    EXPECT_GT(deleted, 0);

    ConnectorHarness h2("salesforce", "ignore");
    org.server.http().clear_requests();
    configure(h2, org, {{"deleted_rows", "ignore"}});
    ASSERT_TRUE(h2.sync().status.ok());
    EXPECT_EQ(org.server.http().requests().at(1).path(), "/services/data/v62.0/query");
    std::size_t live = 0;
    for (const auto& object : kObjects)
        for (const auto& row : org.vendor.rows(object))
            live += row["IsDeleted"].get<bool>() ? 0 : 1;
    EXPECT_EQ(h2.records().size(), live);
}

TEST(SalesforceConnector, CheckValidatesCredentialsObjectsAndFields) {
    Org org(20);
    ConnectorHarness h("salesforce", "crm-sf");
    configure(h, org);
    auto ok = h.check();
    EXPECT_TRUE(ok.ok()) << ok.to_string();
    configure(h, org,
              {{"objects", json::array({"Lead", json{{"name", "Contact"},
                                                     {"traits", {{"Nickname__c", "nick"}}}}})}});
    auto bad = h.check();
    EXPECT_EQ(bad.code, StatusCode::config_error) << bad.to_string();
    EXPECT_NE(bad.message.find("Contact.Nickname__c"), std::string::npos) << bad.message;
    auto read = h.sync();
    EXPECT_EQ(read.status.code, StatusCode::config_error) << read.status.to_string();
    EXPECT_NE(read.status.message.find("INVALID_FIELD"), std::string::npos) << read.status.message;
    configure(h, org, {{"objects", json::array({"Contact; DROP"})}});
    EXPECT_EQ(h.check().code, StatusCode::config_error);
}

}  // namespace
}  // namespace cdphub

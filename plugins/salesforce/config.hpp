// The salesforce plugin's configuration: its JSON Schema (what admins see in `cdphub validate`)
// and the parsed, checked form the connector works with.
//
// Field and object names end up inside SOQL text, so they are checked against Salesforce's own
// name syntax here: a config can then never change the shape of a query.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cdphub::salesforce {

using json = cdphub::json;
using FieldMap = std::vector<std::pair<std::string, std::string>>;  // field path -> name

// What becomes of a row that /queryAll reports with IsDeleted = true.
enum class DeletedRows {
    event,   // a track record "CRM Record Deleted" on the profile (default)
    trait,   // an identify record with traits.deleted_in_crm = true (false on live rows)
    ignore,  // not read at all: /query instead of /queryAll
};

struct ObjectSpec {
    std::string name;      // sObject API name: Contact, Lead, Account, Custom__c
    FieldMap identifiers;  // field path -> identifier type (email, crm_id, ...)
    FieldMap traits;       // field path -> trait name

    // The SELECT list: Id and SystemModstamp first, IsDeleted when deletions are read, then every
    // mapped field once, in config order.
    std::vector<std::string> fields(bool with_deleted) const;
};

struct Config {
    std::string login_url;  // token endpoint host, e.g. https://acme.my.salesforce.com
    std::string api_version = "62.0";
    std::string grant_type = "client_credentials";  // or refresh_token
    std::string client_id, client_secret, refresh_token;
    int batch_size = 2000;  // Sforce-Query-Options batchSize (200..2000)
    DeletedRows deleted_rows = DeletedRows::event;
    std::vector<ObjectSpec> objects;
    // Fresh sessions tried in a row before a 401 is taken as a revoked integration.
    int max_session_renewals = 3;
    // Query restarts per object and read after an expired locator (INVALID_QUERY_LOCATOR).
    int max_query_restarts = 5;
    // How long the hub should wait after Salesforce reports the org's daily API limit exhausted
    // (Salesforce sends no Retry-After; the 24 h window rolls, so an hour is a sane first wait).
    std::int64_t daily_limit_retry_after_ms = 3'600'000;
    // ... and after a concurrent-request limit, which clears in seconds.
    std::int64_t concurrency_retry_after_ms = 10'000;
};

// The default mapping of the objects a CDP usually wants from Sales Cloud.
ObjectSpec default_object(const std::string& name);
// Throws ConfigError naming the offending field and what is expected.
Config parse_config(const json& config);
// The config spec (JSON Schema draft 7) published in the plugin descriptor.
json config_spec();

}  // namespace cdphub::salesforce

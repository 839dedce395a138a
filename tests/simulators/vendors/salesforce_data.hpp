// The Salesforce simulator's data: sObject definitions, 18-character record Ids, timestamps in
// Salesforce's "+0000" spelling, and a seeded org of Contacts, Leads and Accounts.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace cdphub::sim::salesforce {

using json = nlohmann::json;

struct FieldDef {
    std::string name;
    std::string type;               // id, string, email, phone, datetime, boolean, reference
    std::string relationship = {};  // for references: the relationship name (Account)
};

struct ObjectDef {
    std::string name;
    std::string key_prefix;  // the first three characters of its Ids: 003 Contact, 00Q Lead
    std::vector<FieldDef> fields;

    const FieldDef* field(std::string_view name) const;  // case-insensitive, as SOQL is
};

const std::vector<ObjectDef>& object_defs();
const ObjectDef* object_def(std::string_view name);  // case-insensitive

// The 18-character, case-insensitive form of the n-th Id with this key prefix (15 characters
// plus Salesforce's 3-character checksum of the upper-case positions).
std::string make_id(std::string_view key_prefix, std::uint64_t n);

// "2024-05-01T10:02:03.000+0000", as the REST API writes datetimes.
std::string format_datetime(std::int64_t epoch_seconds);
// SOQL datetime literals: YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm|-hh:mm), in epoch milliseconds.
std::optional<std::int64_t> parse_soql_datetime(std::string_view s);
// The REST API's own spelling back to epoch seconds.
std::int64_t datetime_seconds(std::string_view s);

// `count` rows of `def`, stamped between base_seconds and base_seconds + spread (with ties);
// a share of them already deleted (IsDeleted = true, visible only to queryAll).
std::vector<json> seed_rows(const ObjectDef& def, std::size_t count, std::mt19937_64& rng,
                            std::int64_t base_seconds, std::int64_t spread, double deleted_share,
                            const std::vector<std::string>& account_ids);

// Changes one live row in place (a name, phone, email or status, at random): the caller stamps it.
void change_row(const ObjectDef& def, json& row, std::mt19937_64& rng);

}  // namespace cdphub::sim::salesforce

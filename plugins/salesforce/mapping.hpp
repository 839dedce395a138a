// A Salesforce row -> one canonical record.
//
// record_id is "<Object>/<Id>@<SystemModstamp>": the hub stores a record_id once, so re-reading a
// row version changes nothing, while every change of the row (which moves SystemModstamp) is a
// new record whose traits the profile engine applies by recency.
#pragma once

#include <cdphub/sdk.hpp>

#include <string>

#include "config.hpp"

namespace cdphub::salesforce {

// A field of a row by API name or relationship path ("Account.Name"); null if absent.
json field_value(const json& row, const std::string& path);

// The canonical record of `row` (a query result row of spec.name). `stamp` is its
// SystemModstamp as Salesforce wrote it, `stamp_ms` the same in epoch milliseconds.
json to_record(const ObjectSpec& spec, DeletedRows deleted_rows, const json& row,
               const std::string& id, const std::string& stamp, std::int64_t stamp_ms);

}  // namespace cdphub::salesforce

// The part of SOQL the Salesforce simulator understands: what incremental readers send.
//
//   SELECT f1, f2 FROM Object [WHERE DatetimeField (>|>=|<|<=|=) <literal>]
//                             [ORDER BY f1 [ASC], f2 [ASC]] [LIMIT n]
//
// Keywords and names are case-insensitive. Anything else is a MALFORMED_QUERY, as Salesforce
// would answer for a syntax it cannot read; names are checked by the vendor against its objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cdphub::sim::salesforce {

struct SoqlFilter {
    std::string field, op;
    std::string literal;  // as written
    bool quoted = false;  // 'value': a string literal, wrong for datetime fields
};

struct SoqlQuery {
    std::vector<std::string> fields;
    std::string object;
    std::optional<SoqlFilter> where;
    std::vector<std::string> order_by;  // ascending only
    std::optional<std::size_t> limit;
};

struct SoqlError {
    std::string code, message;
};

std::variant<SoqlQuery, SoqlError> parse_soql(std::string_view text);

}  // namespace cdphub::sim::salesforce

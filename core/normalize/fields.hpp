// Internal to the normalizer: readers for the typed sections of a record (order, consent, alias)
// and the small helpers they share. Not installed, not used outside core/normalize.
#pragma once

#include "normalize/identifiers.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/record.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::normalize::detail {

// Thrown inside the normalizer only, caught in Normalizer::normalize. Rejections are the rare
// path, and unwinding from deep field readers keeps each reader a straight line of checks.
struct Reject {
    RejectReason reason;
    std::string message;
};

[[noreturn]] void reject(RejectReason reason, std::string message);

// A short, always-valid-UTF-8 rendering of a JSON value for messages.
std::string brief(const nlohmann::json& j);
// "a string", "a number", ... for "expected X, got Y" messages.
std::string_view kind(const nlohmann::json& j);

// obj[key] as a string of 1..max bytes without control characters; integers are accepted and
// written in decimal (ids are often numeric in source systems). nullopt when absent or null;
// rejects with invalid_field and `path` in the message otherwise.
std::optional<std::string> optional_text(const nlohmann::json& obj, std::string_view key,
                                         std::string_view path, std::size_t max,
                                         bool allow_integer);
std::string required_text(const nlohmann::json& obj, std::string_view key, std::string_view path,
                          std::size_t max, bool allow_integer);

Order read_order(const nlohmann::json& j);
Consent read_consent(const nlohmann::json& j);
Alias read_alias(const nlohmann::json& j, const IdentifierCleanser& cleanser);

}  // namespace cdphub::normalize::detail

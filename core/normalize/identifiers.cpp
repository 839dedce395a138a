#include "normalize/identifiers.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <stdexcept>

#include "common/sha256.hpp"

namespace cdphub::normalize {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::array<std::string_view, 8> kKnownTypes{
    "email",  "phone",           "user_id",      "anonymous_id",
    "crm_id", "pos_customer_id", "email_sha256", "phone_sha256"};

// Longest value kept for opaque ids: longer ones are almost always a mapping error (a whole
// payload in an id field), and the store indexes these values.
constexpr std::size_t kMaxIdLength = 512;
constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321 path limit
constexpr std::size_t kMaxPhoneInput = 64;

// libphonenumber's util is a process-wide singleton, thread-safe for const use; fetching it once
// keeps its (lazy, metadata-loading) initialisation out of the per-record path.
const PhoneNumberUtil& phone_util() {
    static const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    return util;
}

bool is_lower_alnum_or_underscore(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool has_control_char(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

Identifier make(std::string_view type, std::string value, bool hashed, std::string_view original) {
    return Identifier{std::string(type), std::move(value), hashed, std::string(original)};
}

std::variant<Identifier, std::string> cleanse_hash(std::string_view type, std::string_view v,
                                                   std::string_view original) {
    if (!is_sha256_hex(v))
        return std::string(type) +
               " must be a SHA-256 digest as 64 hex digits (hash the cleansed value: lower-case "
               "trimmed email, E.164 phone with '+')";
    return make(type, lowered(v), true, original);
}

}  // namespace

bool is_known_identifier_type(std::string_view type) {
    for (auto t : kKnownTypes)
        if (t == type) return true;
    return false;
}

bool is_valid_identifier_type(std::string_view type) {
    if (type.empty() || type.size() > 64 || type[0] < 'a' || type[0] > 'z') return false;
    for (char c : type)
        if (!is_lower_alnum_or_underscore(c)) return false;
    return true;
}

bool is_hashed_identifier_type(std::string_view type) {
    return type == "email_sha256" || type == "phone_sha256";
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

IdentifierCleanser::IdentifierCleanser(CleanserOptions options) : options_(std::move(options)) {
    // A wrong region would silently give every national number the wrong country code.
    if (phone_util().GetCountryCodeForRegion(options_.default_region) == 0)
        throw std::invalid_argument("unknown phone default region \"" + options_.default_region +
                                    "\"; use an ISO 3166-1 alpha-2 code such as \"US\" or \"DE\"");
}

std::variant<Identifier, std::string> IdentifierCleanser::cleanse(std::string_view type,
                                                                  std::string_view value) const {
    auto result = cleanse_trimmed(type, trim(value));
    // `original` is the value exactly as the source sent it, surrounding whitespace included.
    if (auto* id = std::get_if<Identifier>(&result)) id->original.assign(value);
    return result;
}

std::variant<Identifier, std::string> IdentifierCleanser::cleanse_trimmed(
    std::string_view type, std::string_view v) const {
    if (v.empty()) return std::string(type) + " is empty";
    if (type == "email") return cleanse_email(v);
    if (type == "phone") return cleanse_phone(v);
    if (is_hashed_identifier_type(type)) return cleanse_hash(type, v, v);
    if (v.size() > kMaxIdLength)
        return std::string(type) + " is longer than " + std::to_string(kMaxIdLength) + " bytes";
    if (has_control_char(v)) return std::string(type) + " contains control characters";
    // Opaque ids keep their case: "AbC" and "abc" may be different customers in the source.
    return make(type, std::string(v), false, v);
}

std::variant<Identifier, std::string> IdentifierCleanser::cleanse_email(std::string_view v) const {
    // A digest sent as "email" (common in ad-platform exports) is an email_sha256; a real address
    // can never be 64 hex digits because it needs an '@'.
    if (is_sha256_hex(v)) return make("email_sha256", lowered(v), true, v);
    if (v.size() > kMaxEmailLength) return std::string("email is longer than 254 characters");
    // Deliberately basic: one '@', a non-empty local part, a dotted domain, no spaces or controls.
    // Full RFC 5322 syntax accepts things no mailbox uses; anything stricter rejects real ones.
    const auto at = v.find('@');
    if (at == std::string_view::npos || v.find('@', at + 1) != std::string_view::npos)
        return std::string("email must contain exactly one '@'");
    const auto local = v.substr(0, at);
    const auto domain = v.substr(at + 1);
    if (local.empty() || local.size() > 64)
        return std::string("email local part is empty or too long");
    if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.' || domain.find("..") != std::string_view::npos)
        return std::string("email domain is not a dotted domain name");
    for (unsigned char c : v)
        if (c <= 0x20 || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>')
            return std::string("email contains a space, control character or separator");
    // Lower-casing the local part too is a deliberate trade: nearly every provider treats it
    // case-insensitively, and matching across sources needs one spelling.
    return make("email", lowered(v), false, v);
}

std::variant<Identifier, std::string> IdentifierCleanser::cleanse_phone(std::string_view v) const {
    if (is_sha256_hex(v)) return make("phone_sha256", lowered(v), true, v);
    if (v.size() > kMaxPhoneInput) return std::string("phone is longer than 64 characters");
    PhoneNumber number;
    const auto err = phone_util().Parse(std::string(v), options_.default_region, &number);
    if (err != PhoneNumberUtil::NO_PARSING_ERROR) return std::string("phone is not a phone number");
    const bool ok = options_.strict_phone_validation ? phone_util().IsValidNumber(number)
                                                     : phone_util().IsPossibleNumber(number);
    if (!ok)
        return "phone is not a valid number (numbers without '+' are read as region " +
               options_.default_region + ")";
    std::string e164;
    phone_util().Format(number, PhoneNumberUtil::E164, &e164);
    return make("phone", std::move(e164), false, v);
}

}  // namespace cdphub::normalize

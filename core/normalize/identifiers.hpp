// Identifier cleansing, in one place for the whole hub: every identifier that reaches identity
// resolution went through IdentifierCleanser::cleanse.
#pragma once

#include "normalize/record.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace cdphub::normalize {

// The identifier types the hub knows by name; others are custom types.
bool is_known_identifier_type(std::string_view type);
// A known type or a custom one spelled ^[a-z][a-z0-9_]{0,63}$ (checked without regex).
bool is_valid_identifier_type(std::string_view type);
// Types whose values are SHA-256 hex digests.
bool is_hashed_identifier_type(std::string_view type);

struct CleanserOptions {
    // ISO 3166-1 alpha-2 region used for phone numbers without a leading '+', e.g. "US", "DE".
    std::string default_region = "US";
    // true: the number must be valid per libphonenumber's metadata (assigned ranges); false: it
    // only has to have a possible length for its country. Strict keeps typos out of matching.
    bool strict_phone_validation = true;
};

class IdentifierCleanser {
  public:
    // Throws std::invalid_argument for a default region libphonenumber does not know.
    explicit IdentifierCleanser(CleanserOptions options);

    // Cleanses one value of `type`. Returns the identifier (possibly with a different type: a
    // SHA-256 digest sent as "email" becomes "email_sha256") or a message saying why the value
    // cannot be used. Does not throw for any input.
    std::variant<Identifier, std::string> cleanse(std::string_view type,
                                                  std::string_view value) const;

  private:
    std::variant<Identifier, std::string> cleanse_trimmed(std::string_view type,
                                                          std::string_view v) const;
    std::variant<Identifier, std::string> cleanse_email(std::string_view v) const;
    std::variant<Identifier, std::string> cleanse_phone(std::string_view v) const;

    CleanserOptions options_;
};

// Trims ASCII whitespace (space, tab, CR, LF, FF, VT) at both ends.
std::string_view trim(std::string_view s);

}  // namespace cdphub::normalize

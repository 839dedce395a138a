// The little cryptography Mailchimp needs, from OpenSSL's libcrypto: base64 for HTTP Basic auth,
// MD5 for subscriber hashes, SHA-256 for stable webhook record ids.
#pragma once

#include <string>
#include <string_view>

namespace cdphub::mailchimp {

std::string base64(std::string_view bytes);
std::string md5_hex(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
// Mailchimp's member id: the MD5 of the lower-cased (and trimmed) email address.
std::string subscriber_hash(std::string_view email);

}  // namespace cdphub::mailchimp

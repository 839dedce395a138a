// SHA-256 as ad platforms want it: the lower-case hex digest of a UTF-8 string, plus the check
// that a value already is one. Header-only over OpenSSL's EVP interface; a plugin that includes
// it links OpenSSL::Crypto (see plugins/meta-audiences/CMakeLists.txt).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cdphub::plugins {

// The lower-case hex SHA-256 digest of `s`.
inline std::string sha256_hex(std::string_view s) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), s.data(), s.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
        throw std::runtime_error("SHA-256 failed (OpenSSL)");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// True for exactly 64 lower-case hex digits: what the vendors accept as a SHA-256 value.
inline bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace cdphub::plugins

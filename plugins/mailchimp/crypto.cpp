#include "crypto.hpp"

#include <openssl/evp.h>

#include <stdexcept>
#include <vector>

namespace cdphub::mailchimp {

namespace {

std::string digest_hex(const EVP_MD* md, std::string_view bytes) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr) != 1)
        throw std::runtime_error("OpenSSL digest failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        hex += digits[out[i] >> 4];
        hex += digits[out[i] & 15];
    }
    return hex;
}

}  // namespace

std::string base64(std::string_view bytes) {
    std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
    const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n));
}

std::string md5_hex(std::string_view bytes) {
    return digest_hex(EVP_md5(), bytes);
}
std::string sha256_hex(std::string_view bytes) {
    return digest_hex(EVP_sha256(), bytes);
}

std::string subscriber_hash(std::string_view email) {
    while (!email.empty() && (email.front() == ' ' || email.front() == '\t'))
        email.remove_prefix(1);
    while (!email.empty() && (email.back() == ' ' || email.back() == '\t')) email.remove_suffix(1);
    std::string lower(email);
    for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return md5_hex(lower);
}

}  // namespace cdphub::mailchimp

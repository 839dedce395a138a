#include "common/sha256.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>

namespace cdphub {
namespace {

struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

Ctx new_ctx() {
    Ctx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return nullptr;
    return ctx;
}

std::string finish(EVP_MD_CTX* ctx) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md.data(), &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    auto ctx = new_ctx();
    if (!ctx) return {};
    EVP_DigestUpdate(ctx.get(), data.data(), data.size());
    return finish(ctx.get());
}

std::int64_t sha256_prefix64(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | md[static_cast<std::size_t>(i)];
    return static_cast<std::int64_t>(v);
}

std::optional<std::string> sha256_hex_fd(int fd) {
    auto ctx = new_ctx();
    if (!ctx) return std::nullopt;
    std::array<char, 1 << 16> buf{};
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    }
    return finish(ctx.get());
}

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace cdphub

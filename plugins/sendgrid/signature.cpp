#include "signature.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <cdphub/sdk.hpp>

#include <cstring>

namespace cdphub::sendgrid {

struct Verifier::Key {
    struct Free {
        void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    };
    std::unique_ptr<EVP_PKEY, Free> pkey;
};

std::optional<std::string> base64_decode(std::string_view text) {
    std::string clean;
    clean.reserve(text.size());
    for (char c : text)
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean += c;
    if (clean.empty() || clean.size() % 4 != 0) return std::nullopt;
    std::string out(clean.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()),
                                  static_cast<int>(clean.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts the padding as zero bytes; drop them.
    size_t pad = clean.back() == '=' ? (clean[clean.size() - 2] == '=' ? 2 : 1) : 0;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

Verifier::Verifier(std::string_view key) : key_(std::make_unique<Key>()) {
    // PEM: keep the base64 between the armour lines.
    std::string body(key);
    if (auto begin = body.find("-----BEGIN"); begin != std::string::npos) {
        const auto start = body.find('\n', begin);
        const auto end = body.find("-----END");
        body = start == std::string::npos || end == std::string::npos || end < start
                   ? std::string()
                   : body.substr(start + 1, end - start - 1);
    }
    const auto der = base64_decode(body);
    const char* hint =
        "; copy the verification key from Settings > Mail Settings > Event Webhook (signed)";
    if (!der) throw ConfigError(std::string("verification_key is not base64") + hint);
    auto* p = reinterpret_cast<const unsigned char*>(der->data());
    key_->pkey.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
    if (!key_->pkey) throw ConfigError(std::string("verification_key is not a public key") + hint);
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_base_id(key_->pkey.get()) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(key_->pkey.get(), group, sizeof group, &len) != 1 ||
        std::strcmp(group, "prime256v1") != 0)
        throw ConfigError(std::string("verification_key is not an ECDSA P-256 key") + hint);
}

Verifier::~Verifier() = default;

bool Verifier::verify(std::string_view timestamp, std::string_view body,
                      std::string_view signature_b64) const {
    const auto sig = base64_decode(signature_b64);
    if (!sig || sig->empty()) return false;
    struct FreeCtx {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, FreeCtx> ctx(EVP_MD_CTX_new());
    if (!ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
        EVP_DigestVerifyUpdate(ctx.get(), timestamp.data(), timestamp.size()) != 1 ||
        EVP_DigestVerifyUpdate(ctx.get(), body.data(), body.size()) != 1)
        return false;
    return EVP_DigestVerifyFinal(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                                 sig->size()) == 1;
}

}  // namespace cdphub::sendgrid

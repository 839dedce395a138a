// The Signed Event Webhook: SendGrid signs timestamp + raw body with ECDSA P-256 / SHA-256 and
// sends the base64 DER signature in X-Twilio-Email-Event-Webhook-Signature, the timestamp in
// X-Twilio-Email-Event-Webhook-Timestamp. Verified with OpenSSL's libcrypto.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::sendgrid {

// Standard base64 (whitespace ignored); nullopt if it is not base64.
std::optional<std::string> base64_decode(std::string_view text);

class Verifier {
  public:
    // Throws ConfigError if the key is not a base64 DER (or PEM) ECDSA P-256 public key.
    explicit Verifier(std::string_view key);
    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;

    // Whether `signature_b64` is the key's signature of timestamp + body.
    bool verify(std::string_view timestamp, std::string_view body,
                std::string_view signature_b64) const;

  private:
    struct Key;
    std::unique_ptr<Key> key_;
};

}  // namespace cdphub::sendgrid

#include "secrets/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace cdphub::secrets {
namespace {

// A value shorter than this is not redacted on its own: masking every "1" or "ab" would shred
// logs without protecting anything real. Such short values are refused as secrets at resolve time.
constexpr size_t kMinSecretLength = 4;

std::string percent_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

Redactor& Redactor::global() {
    static Redactor r;
    return r;
}

void Redactor::add(std::string_view secret) {
    if (secret.size() < kMinSecretLength) return;
    std::lock_guard lock(mu_);
    // Secrets also leak in encoded form: in URLs (percent-encoding) and in JSON bodies.
    secrets_.emplace(secret);
    auto pe = percent_encode(secret);
    if (pe != secret) secrets_.insert(pe);
    auto je = json_escape(secret);
    if (je != secret) secrets_.insert(je);
}

std::string Redactor::redact(std::string_view text) const {
    std::lock_guard lock(mu_);
    std::string out(text);
    if (secrets_.empty()) return out;
    // Longest secrets first, so that a secret containing another is masked whole.
    std::vector<const std::string*> order;
    for (const auto& s : secrets_) order.push_back(&s);
    std::sort(order.begin(), order.end(),
              [](const std::string* a, const std::string* b) { return a->size() > b->size(); });
    for (const auto* s : order) {
        size_t pos = 0;
        while ((pos = out.find(*s, pos)) != std::string::npos) {
            out.replace(pos, s->size(), "***");
            pos += 3;
        }
    }
    return out;
}

bool Redactor::empty() const {
    std::lock_guard lock(mu_);
    return secrets_.empty();
}

void Redactor::clear() {
    std::lock_guard lock(mu_);
    secrets_.clear();
}

std::string redact(std::string_view text) {
    return Redactor::global().redact(text);
}

std::string describe(const manifest::SecretRef& ref) {
    return (ref.source == manifest::SecretRef::Source::env ? "env " : "file ") + ref.location;
}

Resolved resolve(const manifest::SecretRef& ref, const std::filesystem::path& root) {
    Resolved r;
    std::string value;
    if (ref.source == manifest::SecretRef::Source::env) {
        const char* v = std::getenv(ref.location.c_str());
        if (v == nullptr) {
            r.error = "environment variable " + ref.location + " is not set";
            return r;
        }
        value = v;
    } else {
        std::filesystem::path p = ref.location;
        if (p.is_relative()) p = root / p;
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            r.error = "secret file " + p.string() + " cannot be read";
            return r;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        value = ss.str();
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    }
    if (value.empty()) {
        r.error = describe(ref) + " is empty";
        return r;
    }
    if (value.size() < kMinSecretLength) {
        r.error = describe(ref) + " is too short to be a secret (under 4 characters)";
        return r;
    }
    Redactor::global().add(value);
    r.value = std::move(value);
    return r;
}

}  // namespace cdphub::secrets

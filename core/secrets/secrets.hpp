// Secrets: resolving the references admins write in manifests, and keeping the values out of every
// log line, error and CLI output. Every resolved value is registered with the Redactor, which the
// logging sink and the CLI's error output pass text through.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "manifest/manifest.hpp"

namespace cdphub::secrets {

struct Resolved {
    std::optional<std::string> value;  // set on success
    std::string error;                 // otherwise: why, without any secret in it
};

// Reads an env variable or a file (trailing newline stripped; relative paths against `root`).
// On success the value is registered with the global Redactor before it is returned.
Resolved resolve(const manifest::SecretRef& ref, const std::filesystem::path& root);

// Human description of a reference, safe to print: "env CDPHUB_SF_SECRET", "file /run/x".
std::string describe(const manifest::SecretRef& ref);

// Replaces every registered secret (and common encodings of it) in text with "***".
class Redactor {
  public:
    static Redactor& global();
    void add(std::string_view secret);
    std::string redact(std::string_view text) const;
    bool empty() const;
    void clear();  // for tests

  private:
    mutable std::mutex mu_;
    std::set<std::string, std::greater<>> secrets_;  // longest-first among shared prefixes
};

std::string redact(std::string_view text);

}  // namespace cdphub::secrets

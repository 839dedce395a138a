// SHA-256 through OpenSSL, for plugin pins and hashed identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

// Lower-case hex digest of everything readable from the open file descriptor `fd` (from its
// current offset); nullopt on a read error. Hashing the descriptor that is also used to load a
// plugin means the pin covers exactly the bytes that were loaded.
std::optional<std::string> sha256_hex_fd(int fd);

// The digest's first 8 bytes as a big-endian signed integer: a compact fingerprint of `data` for
// "did this text change?" checks where storing the text costs too much. Two different texts
// share it with probability 2^-64, and crafting a pair that does is as hard as for SHA-256
// truncated to 64 bits.
std::int64_t sha256_prefix64(std::string_view data);

// True for 64 hex digits (either case).
bool is_sha256_hex(std::string_view s);

}  // namespace cdphub

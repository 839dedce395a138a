// UTF-8 helpers the manifest locator and the segment parser share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cdphub::utf8 {

// Appends code point `cp` (at most 0x10FFFF) encoded as UTF-8.
void append(std::string& out, std::uint32_t cp);

// Length of the well-formed UTF-8 sequence at s[i] (1-4), or 0 if it is not one: a bad lead or
// continuation byte, a truncated sequence, an overlong form, a surrogate or a value above 0x10FFFF.
std::size_t sequence_length(std::string_view s, std::size_t i);

}  // namespace cdphub::utf8

// How deep arrays and objects nest in JSON text, found without parsing it.
//
// nlohmann::json parses text of any depth, but copying, dumping or walking the result recurses
// once per level: a few hundred kilobytes of "[[[[..." in a request, a file line or a vendor's
// answer overflow the stack of whatever handles them, and a plugin runs inside the hub's
// process. So text from outside is checked with exceeds_depth() before it is parsed, by the hub
// and by plugins alike. Header-only and dependency-free, part of the SDK.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace cdphub::json_text {

// Deeper than this is refused everywhere: no record or vendor answer nests like that.
inline constexpr std::size_t kMaxDepth = 512;

// `i` is at a string's opening quote; returns the index just past its closing quote (the end
// of `s` if it has none).
inline std::size_t string_end(std::string_view s, std::size_t i) {
    for (std::size_t j = i + 1; j < s.size();) {
        const void* q = std::memchr(s.data() + j, '"', s.size() - j);
        if (q == nullptr) return s.size();
        const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
        std::size_t backslashes = 0;
        while (at - backslashes > i + 1 && s[at - backslashes - 1] == '\\') ++backslashes;
        if (backslashes % 2 == 0) return at + 1;  // not escaped
        j = at + 1;
    }
    return s.size();
}

// True when arrays and objects nest more than `max_depth` levels deep outside strings. Text that
// is not JSON gets an answer too; what matters is that deep text is never handed to a parser.
inline bool exceeds_depth(std::string_view s, std::size_t max_depth = kMaxDepth) {
    std::size_t depth = 0;
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == '"') {
            i = string_end(s, i);
            continue;
        }
        if ((c == '{' || c == '[') && ++depth > max_depth) return true;
        if ((c == '}' || c == ']') && depth > 0) --depth;
        ++i;
    }
    return false;
}

}  // namespace cdphub::json_text

// A scanner over JSON text that remembers where each value (and each member's key) starts, so that
// a diagnostic about /config/port can say line 7, column 13. It runs on text the JSON parser has
// accepted; on anything else it stops quietly and keeps what it has found so far.
#include <algorithm>
#include <set>

#include "common/utf8.hpp"
#include "manifest/json_util.hpp"
#include "manifest/manifest.hpp"

namespace cdphub::manifest {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Pointers grow with depth, so recording every level of a pathologically nested text would cost
// quadratic memory; nothing an admin writes comes close to this.
constexpr size_t kMaxDepth = 128;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool read_hex4(std::string_view t, size_t at, uint32_t& out) {
    if (at + 4 > t.size()) return false;
    out = 0;
    for (size_t i = at; i < at + 4; ++i) {
        char c = t[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = static_cast<uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = static_cast<uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = static_cast<uint32_t>(c - 'A' + 10);
        else
            return false;
        out = out * 16 + d;
    }
    return true;
}

// Decodes the string starting at t[i] == '"' the way the JSON parser does, so that keys match
// the parsed document's keys. Leaves i after the closing quote; false on malformed input.
bool read_string(std::string_view t, size_t& i, std::string* out) {
    ++i;
    while (i < t.size()) {
        char c = t[i];
        if (c == '"') {
            ++i;
            return true;
        }
        if (c != '\\') {
            if (out) *out += c;
            ++i;
            continue;
        }
        if (i + 1 >= t.size()) return false;
        char e = t[i + 1];
        i += 2;
        if (!out) {
            if (e == 'u') i += 4;
            continue;
        }
        switch (e) {
            case 'b':
                *out += '\b';
                break;
            case 'f':
                *out += '\f';
                break;
            case 'n':
                *out += '\n';
                break;
            case 'r':
                *out += '\r';
                break;
            case 't':
                *out += '\t';
                break;
            case 'u': {
                uint32_t cp = 0;
                if (!read_hex4(t, i, cp)) return false;
                i += 4;
                uint32_t low = 0;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < t.size() && t[i] == '\\' &&
                    t[i + 1] == 'u' && read_hex4(t, i + 2, low) && low >= 0xDC00 && low < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                utf8::append(*out, cp);
                break;
            }
            default:
                *out += e;  // \" \\ \/
        }
    }
    return false;
}

}  // namespace

JsonLocator::JsonLocator(std::string text) : text_(std::move(text)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
    scan();
}

void JsonLocator::scan() {
    // Iterative rather than recursive: a deeply nested file must not overflow the stack.
    struct Frame {
        bool object;
        std::string pointer;
        size_t next_index = 0;
        std::set<std::string> keys;
    };
    std::string_view t = text_;
    size_t i = t.starts_with(kBom) ? kBom.size() : 0;
    auto skip_space = [&] {
        while (i < t.size() && is_space(t[i])) ++i;
    };
    std::vector<Frame> stack;
    std::string pointer;  // of the value about to be read
    bool want_value = true;
    while (true) {
        skip_space();
        if (i >= t.size()) return;
        if (want_value) {
            offsets_[pointer] = i;
            char c = t[i];
            if (c == '{' || c == '[') {
                if (stack.size() >= kMaxDepth) return;
                stack.push_back(Frame{c == '{', pointer, 0, {}});
                ++i;
                skip_space();
                if (i < t.size() && (t[i] == '}' || t[i] == ']')) {
                    ++i;
                    stack.pop_back();
                    want_value = false;
                    continue;
                }
            } else if (c == '"') {
                if (!read_string(t, i, nullptr)) return;
                want_value = false;
                continue;
            } else {
                while (i < t.size() && !is_space(t[i]) && t[i] != ',' && t[i] != ']' &&
                       t[i] != '}') {
                    ++i;
                }
                want_value = false;
                continue;
            }
        } else {
            if (stack.empty()) return;
            char c = t[i];
            if (c == '}' || c == ']') {
                ++i;
                stack.pop_back();
                continue;
            }
            if (c != ',') return;
            ++i;
            skip_space();
        }
        // At the start of an object member or array item.
        Frame& top = stack.back();
        if (top.object) {
            if (i >= t.size() || t[i] != '"') return;
            size_t key_at = i;
            std::string key;
            if (!read_string(t, i, &key)) return;
            pointer = detail::pointer_join(top.pointer, key);
            if (!top.keys.insert(key).second) duplicates_.push_back(pointer);
            key_offsets_[pointer] = key_at;
            skip_space();
            if (i >= t.size() || t[i] != ':') return;
            ++i;
        } else {
            pointer = top.pointer + "/" + std::to_string(top.next_index++);
        }
        want_value = true;
    }
}

std::pair<int, int> JsonLocator::position(size_t byte_offset) const {
    byte_offset = std::min(byte_offset, text_.size());
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), byte_offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    size_t start = line_starts_[line - 1];
    if (line == 1 && std::string_view(text_).starts_with(kBom)) start = kBom.size();
    int column = 1;
    for (size_t i = start; i < byte_offset; ++i) {
        // Count code points: continuation bytes do not start a character.
        if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
    }
    return {static_cast<int>(line), column};
}

std::pair<int, int> JsonLocator::locate(std::string_view pointer) const {
    while (true) {
        auto it = offsets_.find(pointer);
        if (it != offsets_.end()) return position(it->second);
        if (pointer.empty()) return {0, 0};
        pointer = pointer.substr(0, pointer.rfind('/'));
    }
}

std::pair<int, int> JsonLocator::locate_in_string(std::string_view pointer, size_t offset) const {
    auto it = offsets_.find(pointer);
    if (it == offsets_.end() || text_[it->second] != '"') return locate(pointer);
    std::string_view t = text_;
    size_t i = it->second + 1;  // in the text
    size_t decoded = 0;         // bytes of the value before t[i]
    while (i < t.size() && t[i] != '"') {
        // One character: its length in the text and in the value.
        size_t raw = 1, bytes = 1;
        auto lead = static_cast<unsigned char>(t[i]);
        if (t[i] == '\\') {
            if (i + 1 >= t.size()) break;
            raw = 2;
            uint32_t cp = 0, low = 0;
            if (t[i + 1] == 'u') {
                // A u-escape (4 hex digits), or a surrogate pair of them: as many bytes as its
                // UTF-8.
                if (!read_hex4(t, i + 2, cp)) break;
                raw = 6;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 7 < t.size() && t[i + 6] == '\\' &&
                    t[i + 7] == 'u' && read_hex4(t, i + 8, low) && low >= 0xDC00 && low < 0xE000) {
                    cp = 0x10000;
                    raw = 12;
                }
                bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            }
        } else if (lead >= 0xC0) {
            raw = bytes = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        }
        // An offset inside a character (a multi-byte one, an escape) lands on its start.
        if (decoded + bytes > offset) break;
        decoded += bytes;
        i = std::min(i + raw, t.size());
    }
    return position(i);
}

std::pair<int, int> JsonLocator::locate_key(std::string_view pointer) const {
    auto it = key_offsets_.find(pointer);
    if (it != key_offsets_.end()) return position(it->second);
    return locate(pointer);
}

}  // namespace cdphub::manifest

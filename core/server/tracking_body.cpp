#include "server/tracking_body.hpp"

#include <simdjson.h>

#include <cdphub/json_depth.hpp>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace cdphub::server {

namespace {

// One parser per I/O thread: its buffers grow to the largest body seen and are reused, so a
// request costs no allocation once the thread has warmed up.
struct ThreadParser {
    simdjson::dom::parser parser;
    std::string padded;  // the body with the zero padding simdjson reads past its end
    bool ready = false;
};

simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view body) {
    thread_local ThreadParser t;
    if (!t.ready) {
        // The depth is fixed when the parser allocates; later growth keeps it.
        if (t.parser.allocate(64 * 1024, json_text::kMaxDepth) != simdjson::SUCCESS)
            return simdjson::MEMALLOC;
        t.ready = true;
    }
    t.padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(t.padded.data(), body.data(), body.size());
    std::memset(t.padded.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    return t.parser.parse(t.padded.data(), body.size(), false);
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view s, std::size_t i) {
    while (i < s.size() && is_space(s[i])) ++i;
    return i;
}

// `i` is at the first byte of a value; moves `i` past it and returns its length without the
// whitespace between tokens.
std::size_t compact_value(std::string_view s, std::size_t& i) {
    std::size_t length = 0;
    int depth = 0;
    do {
        const char c = s[i];
        if (c == '"') {
            const auto end = json_text::string_end(s, i);
            length += end - i;
            i = end;
        } else if (c == '{' || c == '[') {
            ++depth, ++length, ++i;
        } else if (c == '}' || c == ']') {
            --depth, ++length, ++i;
        } else if (is_space(c)) {
            ++i;
        } else if (depth == 0) {
            // A number, true, false or null on its own: up to the next delimiter.
            while (i < s.size() && !is_space(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
                ++length, ++i;
        } else {
            ++length, ++i;
        }
    } while (depth > 0 && i < s.size());
    return length;
}

// The key starting at `i` (a quote) equals `name` once unescaped.
bool key_is(std::string_view s, std::size_t i, std::size_t end, std::string_view name) {
    const auto raw = s.substr(i + 1, end - i - 2);
    if (raw.find('\\') == std::string_view::npos) return raw == name;
    return nlohmann::json::parse(s.substr(i, end - i)).get_ref<const std::string&>() == name;
}

}  // namespace

BodyScan scan_tracking_body(std::string_view body, bool batch) {
    BodyScan out;
    simdjson::dom::element root;
    if (auto error = parse(body).get(root)) {
        out.result = error == simdjson::DEPTH_ERROR ? BodyScan::Result::too_deep
                                                    : BodyScan::Result::undecided;
        return out;
    }
    out.result = BodyScan::Result::ok;
    simdjson::dom::object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) return out;
    out.object = true;
    simdjson::dom::element events;
    bool has_batch = false;
    for (auto field : top) {
        if (field.key == "writeKey") out.has_write_key = true;
        // Like nlohmann, the last of duplicate members counts.
        if (batch && field.key == "batch") events = field.value, has_batch = true;
    }
    if (!has_batch) return out;
    simdjson::dom::array array;
    if (events.get_array().get(array) != simdjson::SUCCESS) return out;
    out.batch_is_array = true;
    for (auto event : array) {
        ++out.events;
        simdjson::dom::object members;
        if (event.get_object().get(members) != simdjson::SUCCESS) continue;
        for (auto field : members)
            if (field.key == "writeKey") out.has_write_key = true;
    }
    return out;
}

std::size_t largest_batch_event(std::string_view s) {
    std::size_t largest = 0;
    std::size_t i = skip_space(s, 0);
    if (i >= s.size() || s[i] != '{') return 0;
    i = skip_space(s, i + 1);
    while (i < s.size() && s[i] == '"') {
        const auto key_end = json_text::string_end(s, i);
        const bool is_batch = key_is(s, i, key_end, "batch");
        i = skip_space(s, key_end);
        i = skip_space(s, i + 1);  // past ':'
        if (is_batch && i < s.size() && s[i] == '[') {
            largest = 0;  // a later "batch" member replaces an earlier one
            i = skip_space(s, i + 1);
            while (i < s.size() && s[i] != ']') {
                largest = std::max(largest, compact_value(s, i));
                i = skip_space(s, i);
                if (i < s.size() && s[i] == ',') i = skip_space(s, i + 1);
            }
            ++i;  // past ']'
        } else if (i < s.size()) {
            compact_value(s, i);
        }
        i = skip_space(s, i);
        if (i < s.size() && s[i] == ',') i = skip_space(s, i + 1);
    }
    return largest;
}

}  // namespace cdphub::server

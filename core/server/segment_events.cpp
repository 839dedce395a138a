#include "server/segment_events.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <random>

#include "normalize/time.hpp"

namespace cdphub::server {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 6> kTypes = {"identify", "track", "page",
                                                    "screen",   "group", "alias"};

std::string base64_decode(std::string_view in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+' || c == '-') return 62;
        if (c == '/' || c == '_') return 63;
        return -1;
    };
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        int v = value(c);
        if (v < 0) return {};
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::optional<std::int64_t> epoch_ms(const json* value) {
    if (value == nullptr || !value->is_string()) return std::nullopt;
    auto parsed = normalize::parse_rfc3339(value->get_ref<const std::string&>());
    if (const auto* t = std::get_if<normalize::Timestamp>(&parsed))
        return t->time_since_epoch().count();
    return std::nullopt;
}

const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

// The member moved out of `object` (left null there), or `otherwise` if absent or null.
json take(json& object, const char* key, json otherwise) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? std::move(otherwise) : std::move(*it);
}

// A record needs a stable id; Segment's libraries always send messageId. Without one there is
// nothing to de-duplicate against, so any unique value will do.
std::string generated_message_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "hub-%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

std::string iso(std::int64_t ms) {
    return normalize::format_rfc3339(normalize::Timestamp(std::chrono::milliseconds(ms)));
}

}  // namespace

bool is_segment_type(std::string_view type) {
    for (auto t : kTypes)
        if (t == type) return true;
    return false;
}

Credentials parse_authorization(std::string_view header) {
    Credentials c;
    header = trim(header);
    if (header.empty()) return c;
    auto space = header.find(' ');
    auto scheme = header.substr(0, space);
    auto rest = space == std::string_view::npos ? std::string_view{} : trim(header.substr(space));
    if (iequals(scheme, "Basic")) {
        auto decoded = base64_decode(rest);
        auto colon = decoded.find(':');
        // Segment's clients send "<writeKey>:"; a key without the colon is accepted too.
        std::string user = decoded.substr(0, colon);
        if (user.empty())
            c.malformed_header = true;
        else
            c.basic_user = std::move(user);
    } else if (iequals(scheme, "Bearer") && !rest.empty()) {
        c.bearer_token = std::string(rest);
    } else {
        c.malformed_header = true;
    }
    return c;
}

std::optional<std::string> write_key_of(const Credentials& c, const json& body) {
    if (c.basic_user) return c.basic_user;
    if (body.is_object()) {
        auto it = body.find("writeKey");
        if (it != body.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
            return it->get<std::string>();
    }
    if (c.bearer_token) return c.bearer_token;
    return std::nullopt;
}

json merge_objects(const json& base, const json& over) {
    if (!base.is_object() || !over.is_object()) return over;
    json out = base;
    for (auto it = over.begin(); it != over.end(); ++it) {
        auto found = out.find(it.key());
        if (found != out.end() && found->is_object() && it->is_object())
            *found = merge_objects(*found, *it);
        else
            out[it.key()] = *it;
    }
    return out;
}

std::int64_t corrected_timestamp_ms(std::int64_t received_at, std::int64_t sent_at,
                                    std::int64_t original) {
    return received_at - (sent_at - original);
}

json to_canonical(json event, const BatchEnvelope& envelope, std::string_view forced_type) {
    if (!event.is_object()) return event;
    const std::int64_t received_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         envelope.received_at.time_since_epoch())
                                         .count();
    std::string type(forced_type);
    if (const auto* t = member(event, "type"); forced_type.empty() && t != nullptr)
        type = t->is_string() ? t->get<std::string>() : t->dump();

    json segment = json::object();
    segment["type"] = type;
    segment["receivedAt"] = iso(received_ms);

    json out = json::object();
    // The record id: messageId as sent (numbers too), else one made up (see above).
    if (const auto* id = member(event, "messageId")) {
        out["record_id"] = id->is_string() ? id->get<std::string>() : id->dump();
        segment["messageId"] = *id;
    } else {
        out["record_id"] = generated_message_id();
    }

    // Timestamps: the client's clock is corrected by how far its sentAt is from our receivedAt.
    const json* original = member(event, "originalTimestamp");
    if (original == nullptr) original = member(event, "timestamp");
    const json* sent_at = member(event, "sentAt");
    if (sent_at == nullptr) sent_at = envelope.sent_at;
    if (original != nullptr) segment["originalTimestamp"] = *original;
    if (sent_at != nullptr) segment["sentAt"] = *sent_at;
    auto original_ms = epoch_ms(original);
    auto sent_ms = epoch_ms(sent_at);
    if (original_ms && sent_ms)
        out["occurred_at"] = iso(corrected_timestamp_ms(received_ms, *sent_ms, *original_ms));
    else if (original != nullptr)
        out["occurred_at"] = *original;  // as sent: the normalizer checks (and may reject) it
    else
        out["occurred_at"] = iso(received_ms);

    // Identifiers. Values are passed on as sent; the normalizer cleanses or rejects them.
    json ids = json::object();
    if (const auto* v = member(event, "userId")) ids["user_id"] = *v;
    if (const auto* v = member(event, "anonymousId")) ids["anonymous_id"] = *v;
    const json* traits = member(event, "traits");
    json context = take(event, "context", json::object());
    if (envelope.context != nullptr && envelope.context->is_object())
        context = merge_objects(*envelope.context, context);
    if (traits == nullptr && context.is_object() && context.contains("traits"))
        traits = &context["traits"];  // track/page calls carry the user's traits here
    if (traits != nullptr && traits->is_object()) {
        auto email = traits->find("email");
        if (email != traits->end() && email->is_string() &&
            !email->get_ref<const std::string&>().empty())
            ids["email"] = *email;
    }
    out["identifiers"] = std::move(ids);

    json integrations = take(event, "integrations", json::object());
    if (envelope.integrations != nullptr && envelope.integrations->is_object())
        integrations = merge_objects(*envelope.integrations, integrations);
    if (!context.empty()) segment["context"] = std::move(context);
    if (!integrations.empty()) segment["integrations"] = std::move(integrations);

    json properties = take(event, "properties", json::object());
    if (!properties.is_object()) properties = json::object({{"value", properties}});
    auto named = [&](const char* fallback) {
        out["type"] = "track";
        out["event"] = fallback;
        for (const char* key : {"name", "category"})
            if (const auto* v = member(event, key)) properties[key] = *v;
    };
    if (type == "identify") {
        out["type"] = "identify";
        if (member(event, "traits") != nullptr) out["traits"] = take(event, "traits", nullptr);
    } else if (type == "track") {
        out["type"] = "track";
        if (const auto* e = member(event, "event")) out["event"] = *e;
    } else if (type == "page") {
        named("Page Viewed");
    } else if (type == "screen") {
        named("Screen Viewed");
    } else if (type == "group") {
        // Group traits describe the company, not the person: kept on the event, never merged
        // into the person's traits (a company "name" must not overwrite the person's).
        out["type"] = "track";
        out["event"] = "Group";
        if (const auto* g = member(event, "groupId")) properties["group_id"] = *g;
        if (member(event, "traits") != nullptr)
            properties["group_traits"] = take(event, "traits", nullptr);
    } else if (type == "alias") {
        out["type"] = "alias";
        if (const auto* p = member(event, "previousId"))
            out["alias"] = {{"previous_id", {{"type", "anonymous_id"}, {"value", *p}}}};
        else
            out["alias"] = json::object();  // rejected by the normalizer: no previous_id
    } else {
        out["type"] = type;  // unknown: the normalizer rejects it with the raw record
    }
    properties["_segment"] = std::move(segment);
    out["properties"] = std::move(properties);
    return out;
}

}  // namespace cdphub::server

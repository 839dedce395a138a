#include "server/tracking_api.hpp"

#include <cdphub/json_depth.hpp>
#include <nlohmann/json.hpp>

#include "server/segment_events.hpp"
#include "server/tracking_body.hpp"

namespace cdphub::server {

using nlohmann::json;

namespace {

ImmediateReply error(int status, const std::string& message) {
    return {status, json({{"success", false}, {"error", message}}).dump()};
}

std::string kb(std::size_t bytes) {
    return std::to_string(bytes / 1024) + " KB";
}

// The body as the inbox keeps it: as received, unless it carries a write key (Segment's clients
// may send it in the body), which is a secret and never goes into a database file. Only those
// requests pay for serializing the body again.
std::string stored_body(json& doc, std::string_view body) {
    bool had_key = doc.erase("writeKey") > 0;
    if (auto events = doc.find("batch"); events != doc.end() && events->is_array())
        for (auto& e : *events)
            if (e.is_object()) had_key = e.erase("writeKey") > 0 || had_key;
    return had_key ? doc.dump(-1, ' ', false, json::error_handler_t::replace) : std::string(body);
}

}  // namespace

TrackingOutcome handle_tracking(std::string_view route, std::string_view body,
                                std::string_view authorization, const ServerOptions& options,
                                std::chrono::system_clock::time_point received_at) {
    return handle_tracking(route, body, authorization, options, options.write_keys, received_at);
}

TrackingOutcome handle_tracking(std::string_view route, std::string_view body,
                                std::string_view authorization, const ServerOptions& options,
                                const WriteKeys& keys,
                                std::chrono::system_clock::time_point received_at) {
    const bool batch = route == "batch";
    const std::size_t limit = batch ? options.max_batch_bytes : options.max_event_bytes;
    if (body.size() > limit)
        return error(400, std::string(batch ? "batch" : "event") + " larger than " + kb(limit));

    // What the body says, found by simdjson (the common case) or, when it cannot tell or the
    // body holds a write key to strip, by nlohmann (tracking_body.hpp).
    const auto scan = scan_tracking_body(body, batch);
    const auto too_deep = [] {
        return error(400,
                     "JSON nested deeper than " + std::to_string(json_text::kMaxDepth) + " levels");
    };
    if (scan.result == BodyScan::Result::too_deep) return too_deep();
    static const json kNoBody = json::object();
    json doc;
    const json* key_source = &kNoBody;
    bool object = scan.object, batch_is_array = scan.batch_is_array;
    std::size_t count = scan.events;
    if (scan.result == BodyScan::Result::undecided || scan.has_write_key) {
        // simdjson stops at the first error, which may come before the nesting gets too deep.
        if (json_text::exceeds_depth(body)) return too_deep();
        doc = json::parse(body, nullptr, false);
        if (doc.is_discarded()) return error(400, "invalid JSON");
        object = doc.is_object();
        if (object) {
            key_source = &doc;
            auto events = doc.find("batch");
            batch_is_array = batch && events != doc.end() && events->is_array();
            count = batch_is_array ? events->size() : 0;
        }
    }
    if (!object) return error(400, "the body must be a JSON object");

    auto credentials = parse_authorization(authorization);
    auto key = write_key_of(credentials, *key_source);
    if (!key) return error(401, "no write key: send Authorization: Basic base64(writeKey:)");
    auto source = keys.find(*key);
    if (source == keys.end()) return error(401, "unknown write key");

    const auto received_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(received_at.time_since_epoch())
            .count();
    // The request is stored as received and converted by the processor (canonical_records):
    // converting and serializing here cost the I/O threads more than parsing did.
    auto stored = [&] { return doc.is_object() ? stored_body(doc, body) : std::string(body); };
    AcceptedEvents out;
    if (!batch) {
        out.entries.push_back({source->second, stored(), received_ms, 1, std::string(route)});
        return out;
    }
    if (!batch_is_array) return error(400, "the body of /v1/batch needs a \"batch\" array");
    // A body within the event limit cannot hold an event above it: measure only when needed.
    if (body.size() > options.max_event_bytes &&
        largest_batch_event(body) > options.max_event_bytes)
        return error(400, "an event of the batch is larger than " + kb(options.max_event_bytes));
    if (count == 0) return out;
    out.entries.push_back({source->second, stored(), received_ms, count, std::string(route)});
    return out;
}

json canonical_records(std::string_view route, std::string_view body, std::int64_t received_ms) {
    json records = json::array();
    auto doc = json::parse(body, nullptr, false);
    // handle_tracking accepted it, so this is an object; anything else is kept as text for the
    // normalizer to reject with the raw record rather than lost.
    if (!doc.is_object()) {
        records.push_back(std::string(body));
        return records;
    }
    BatchEnvelope envelope;
    envelope.received_at =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(received_ms));
    if (route != "batch") {
        records.push_back(to_canonical(std::move(doc), envelope, route));
        return records;
    }
    auto member = [&](const char* k) -> const json* {
        auto it = doc.find(k);
        return it == doc.end() || it->is_null() ? nullptr : &*it;
    };
    envelope.context = member("context");
    envelope.integrations = member("integrations");
    envelope.sent_at = member("sentAt");
    auto events = doc.find("batch");
    if (events == doc.end() || !events->is_array()) return records;
    for (auto& e : *events) records.push_back(to_canonical(std::move(e), envelope));
    return records;
}

}  // namespace cdphub::server

// The Segment HTTP Tracking API's request bodies, turned into the hub's canonical records.
//
// Pure functions (no I/O, no clock), so that the request path can call them from any I/O thread
// and tests can check the mapping without a server. What maps to what is documented in
// docs/ingest-api.md; the short version:
//   identify -> identify        track  -> track
//   page     -> track "Page Viewed"      screen -> track "Screen Viewed"
//   group    -> track "Group"            alias  -> alias (previousId as an anonymous_id)
// userId -> user_id, anonymousId -> anonymous_id, traits.email -> email, messageId -> record_id.
// Segment-only fields (context, integrations, sentAt, ...) are kept under properties._segment.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::server {

// The Segment event types and their single-event routes (/v1/<type>).
bool is_segment_type(std::string_view type);

// Where the write key of a request came from, in the order the hub looks for it.
struct Credentials {
    std::optional<std::string> basic_user;    // Authorization: Basic base64("<writeKey>:")
    std::optional<std::string> bearer_token;  // Authorization: Bearer <token>
    bool malformed_header = false;            // an Authorization header we could not read
};
Credentials parse_authorization(std::string_view header);

// The write key a request authenticates with: the Basic user if present, else the body's
// writeKey, else the Bearer token (see docs/ingest-api.md: OAuth tokens are not verified here).
std::optional<std::string> write_key_of(const Credentials& c, const nlohmann::json& body);

// What the request carried besides its events, applied to each of them.
struct BatchEnvelope {
    const nlohmann::json* context = nullptr;       // batch-level context (object) or null
    const nlohmann::json* integrations = nullptr;  // batch-level integrations (object) or null
    const nlohmann::json* sent_at = nullptr;       // batch-level sentAt
    std::chrono::system_clock::time_point received_at;
};

// Deep-merges `over` into a copy of `base` (objects recursively; anything else: `over` wins).
nlohmann::json merge_objects(const nlohmann::json& base, const nlohmann::json& over);

// One Segment event (any JSON; a non-object stays as it is so that the normalizer rejects it
// with the raw text) -> one canonical record. `forced_type` is the route's type for single-event
// calls (/v1/track sets "track" whatever the body says). Semantic problems (no userId or
// anonymousId, a track without event, a bad timestamp) are left for the normalizer, which puts
// the record into the rejected store with a reason instead of failing the request.
// By value: the tracking API owns its parsed events and moves them in, so that their large
// members (properties, context, traits) move into the record instead of being copied.
nlohmann::json to_canonical(nlohmann::json event, const BatchEnvelope& envelope,
                            std::string_view forced_type = {});

// timestamp = receivedAt - (sentAt - originalTimestamp), all in milliseconds since the epoch.
std::int64_t corrected_timestamp_ms(std::int64_t received_at, std::int64_t sent_at,
                                    std::int64_t original);

}  // namespace cdphub::server

// One Segment HTTP Tracking API request (POST /v1/batch, /v1/<type>), from body to inbox entries
// or an immediate answer. No I/O: the server calls it on an I/O thread and does the rest.
//
// Only transport problems reach the client (400 for invalid JSON and size limits, 401 for a
// missing or unknown write key), because Segment's clients drop a batch on most 4xx; anything
// else about an event (no userId/anonymousId, a track without event, a bad timestamp) becomes a
// rejected record with a reason, found with `cdphub rejected`.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/inbox.hpp"
#include "server/options.hpp"

namespace cdphub::server {

struct ImmediateReply {
    int status = 400;
    std::string body;  // JSON
};
struct AcceptedEvents {
    std::vector<Inbox::Entry> entries;
};
using TrackingOutcome = std::variant<ImmediateReply, AcceptedEvents>;

// `route` is "batch" or an event type ("track", ...); `authorization` the header's value.
// Accepted events are one inbox entry holding the request's body as received and its route;
// the processor turns it into canonical records with canonical_records().
// `keys` are the write keys in force (they change on a reload); the other overload uses
// options.write_keys.
TrackingOutcome handle_tracking(std::string_view route, std::string_view body,
                                std::string_view authorization, const ServerOptions& options,
                                const WriteKeys& keys,
                                std::chrono::system_clock::time_point received_at);
TrackingOutcome handle_tracking(std::string_view route, std::string_view body,
                                std::string_view authorization, const ServerOptions& options,
                                std::chrono::system_clock::time_point received_at);

// The canonical records (a JSON array) of a request handle_tracking accepted, as received at
// `received_ms`: one per event, in order.
nlohmann::json canonical_records(std::string_view route, std::string_view body,
                                 std::int64_t received_ms);

}  // namespace cdphub::server

// One Segment HTTP Tracking API request (POST /v1/batch, /v1/<type>), from body to inbox entries
// or an immediate answer. No I/O: the server calls it on an I/O thread and does the rest.
//
// Only transport problems reach the client (400 for invalid JSON and size limits, 401 for a
// missing or unknown write key), because Segment's clients drop a batch on most 4xx; anything
// else about an event (no userId/anonymousId, a track without event, a bad timestamp) becomes a
// rejected record with a reason, found with `cdphub rejected`.
#pragma once

#include <chrono>
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
TrackingOutcome handle_tracking(std::string_view route, std::string_view body,
                                std::string_view authorization, const ServerOptions& options,
                                std::chrono::system_clock::time_point received_at);

}  // namespace cdphub::server

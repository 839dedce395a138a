// What an I/O thread must know about a tracking request's body before the body is stored as
// received: is it valid JSON, is it an object, does it carry a write key, how many events does a
// batch hold, and is any of them over the per-event limit. Finding that out with nlohmann's DOM
// cost about a third of the I/O threads' time on 100-event batches, so the body is checked with
// simdjson instead, which validates without building a tree of allocations.
//
// The scan answers only what it can answer exactly like nlohmann would: a body simdjson rejects
// for a reason other than depth (numbers beyond 64 bits, say, which nlohmann reads as doubles), or
// one that carries a "writeKey" member (which must be stripped before storing), goes back to the
// nlohmann path (handle_tracking's slow path).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cdphub::server {

struct BodyScan {
    enum class Result {
        ok,         // valid JSON; the fields below are filled
        too_deep,   // valid or not, it nests deeper than json_text::kMaxDepth (refused: 400)
        undecided,  // let nlohmann decide (see above)
    };
    Result result = Result::undecided;
    bool object = false;          // the top level is an object
    bool has_write_key = false;   // a "writeKey" member at the top or in an event of "batch"
    bool batch_is_array = false;  // the last "batch" member is an array
    std::size_t events = 0;       // its elements
};

// `batch`: the body is a /v1/batch request (events are the elements of its "batch" member).
BodyScan scan_tracking_body(std::string_view body, bool batch);

// The size of the largest element of the body's last top-level "batch" array, counted as its
// text without the whitespace between tokens (what a client's JSON.stringify would send, minus
// number re-formatting). `body` must be valid JSON with an object at the top; 0 without a
// "batch" array.
std::size_t largest_batch_event(std::string_view body);

}  // namespace cdphub::server

// The read position per object: the highest SystemModstamp handed to the hub and the Ids handed
// over at exactly that stamp.
//
// Queries filter SystemModstamp >= watermark, because many rows can share one stamp (a mass
// update) and a page can end in the middle of them. The rows at the watermark that were already
// handed over are skipped by Id, so nothing is read twice and nothing at the boundary is lost.
//
// Stored as {"version": 1, "objects": {"Contact": {"watermark": "2024-05-01T10:02:03.000+0000",
// "ids": ["003..."]}}}; the watermark keeps Salesforce's own spelling.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace cdphub::salesforce {

struct ObjectPosition {
    std::string watermark;  // empty: the object was never read
    std::int64_t watermark_ms = 0;
    std::set<std::string> ids;  // handed over at exactly watermark_ms

    // Whether a row was handed over before this position was taken.
    bool covers(std::int64_t stamp_ms, const std::string& id) const {
        if (watermark.empty()) return false;
        return stamp_ms < watermark_ms || (stamp_ms == watermark_ms && ids.count(id) != 0);
    }
    // Records that a row (stamped `stamp`, `stamp_ms`) was handed over.
    void advance(const std::string& stamp, std::int64_t stamp_ms, const std::string& id);
};

struct Cursor {
    std::map<std::string, ObjectPosition> objects;

    // From call.cursor_json(); null is the empty cursor. Throws FatalError for a cursor this
    // plugin did not write (so the read never silently starts over).
    static Cursor from_json(const json& j);
    json to_json() const;
};

}  // namespace cdphub::salesforce

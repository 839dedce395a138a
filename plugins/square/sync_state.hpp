// The square source's cursor. Square pages by an opaque cursor that is only valid for the exact
// query that produced it, so the state keeps that query's start_at next to the page cursor, and
// the watermark (the highest updated_at stored) with the orders seen at exactly that instant.
//
//   {"start_at": "<the paging run's query start>", "page": "<Square cursor>" (absent between
//    runs), "watermark": "<updated_at>", "seen": ["<order id>@v<version>", ...]}
//
// A new run queries updated_at >= watermark (Square's start_at is inclusive) and skips the
// versions in `seen`; a page cursor Square no longer accepts is dropped for a new run from the
// watermark. Nothing is lost, and repeats are no-ops in the store (record_id is id@version).
#pragma once

#include <cdphub/sdk.hpp>

#include <set>
#include <string>

namespace cdphub::square {

struct SyncState {
    std::string start_at;   // start_at of the current paging run's query
    std::string page;       // Square's cursor for the next page of that run; empty: no run open
    std::string watermark;  // highest updated_at handed to the hub ("" before the first order)
    std::set<std::string> seen;  // "<id>@v<version>" of orders updated exactly at the watermark

    json to_json() const {
        json j = {{"start_at", start_at}, {"watermark", watermark}, {"seen", seen}};
        if (!page.empty()) j["page"] = page;
        return j;
    }

    static SyncState parse(const json& c, const std::string& default_start) {
        SyncState s;
        s.start_at = default_start;
        if (c.is_null()) return s;
        auto bad = [&] {
            return FatalError("the stored cursor " + c.dump().substr(0, 200) +
                              " is not a square cursor; reset this instance's cursor to read "
                              "every order again");
        };
        if (!c.is_object() || !c.contains("watermark") || !c["watermark"].is_string()) throw bad();
        s.watermark = c["watermark"].get<std::string>();
        s.start_at = c.value("start_at", default_start);
        if (c.contains("page")) {
            if (!c["page"].is_string()) throw bad();
            s.page = c["page"].get<std::string>();
        }
        if (c.contains("seen")) {
            if (!c["seen"].is_array()) throw bad();
            for (const auto& k : c["seen"]) {
                if (!k.is_string()) throw bad();
                s.seen.insert(k.get<std::string>());
            }
        }
        return s;
    }
};

}  // namespace cdphub::square

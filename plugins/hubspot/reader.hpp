// Reading one object type: the initial full load through the list API, then incremental reads
// through the search API by modification stamp. The state of each object type lives in the
// cursor and is handed to the hub with every page of records it covers.
//
// Cursor (the whole connector's): {"version": 1, "objects": {"contacts": <state>, ...}}
//   list phase:   {"phase": "list", "after": "<list paging token>", "started_ms": N}
//   search phase: {"phase": "search", "watermark_ms": W, "ids": [...], "strict": bool,
//                  "tie_after": "<id>" (only while paging through a tie, see reader.cpp)}
// W is the newest stamp handed over; "ids" are the objects handed over at exactly W ("strict":
// all of them were), so a restart neither skips nor repeats.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>

#include "api.hpp"
#include "settings.hpp"

namespace cdphub_hubspot {

class Reader {
  public:
    Reader(const Settings& settings, const ObjectSpec& spec, Api& api, const cdphub::Call& call,
           const cdphub::Host& host, json& cursor);

    // Reads everything new for this object type, emitting page by page.
    void run();
    uint64_t records() const { return records_; }

  private:
    enum class End { complete, rewindow, ceiling };

    void list_phase();
    void search_phase();
    End window(int64_t end, bool& advanced);
    json search_body(int64_t end, const std::string& after);
    void emit(const json& records);
    json& state();

    const Settings& settings_;
    const ObjectSpec& spec_;
    Api& api_;
    const cdphub::Call& call_;
    const cdphub::Host& host_;
    json& cursor_;
    uint64_t records_ = 0;
};

}  // namespace cdphub_hubspot

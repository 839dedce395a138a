// One HubSpot CRM object (as list and search return it) -> one canonical identify record.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "settings.hpp"

namespace cdphub_hubspot {

struct Mapped {
    json record;     // canonical record, or {"_raw", "_error"} for the hub to reject
    std::string id;  // HubSpot object id ("" if missing)
    std::optional<int64_t> modified;  // the modification stamp, ms since the epoch
};

// record_id is "<type>/<id>@<modified as ISO-8601 ms>": a new version is a new record, the same
// version read twice is the same record.
Mapped map_object(const ObjectSpec& spec, const json& object);

}  // namespace cdphub_hubspot

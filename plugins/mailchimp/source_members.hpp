// The members pull: GET /3.0/lists/{list_id}/members, incremental by last_changed.
#pragma once

#include <cdphub/sdk.hpp>

#include "api.hpp"
#include "config.hpp"

namespace cdphub::mailchimp {

// Reads every member changed since the stored cursor, page by page, committing each page with
// the cursor it makes true. See README.md ("Reading members") for why this cannot skip a member.
void read_members(const Call& call, const Config& config, const Api& api);

// GET /3.0/lists/{list_id}: the key works and the audience exists. Logs the member count.
void check_audience(const Call& call, const Config& config, const Api& api);

}  // namespace cdphub::mailchimp

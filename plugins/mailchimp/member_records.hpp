// Mailchimp members as canonical records: who they are (identify, with merge fields as traits)
// and whether they may be emailed (consent, purpose email_marketing). Shared by the members pull
// and the audience webhook.
#pragma once

#include <cdphub/sdk.hpp>

#include <string>

#include "config.hpp"

namespace cdphub::mailchimp {

// Merge fields (tag -> value) as traits, named by config.merge_fields. Empty values are left out:
// Mailchimp reports every unset field as "", which says nothing about the person. EMAIL is the
// identifier, not a trait.
json merge_traits(const Config& config, const json& merges);

// A member status as consent: only "subscribed" members may receive marketing email; pending
// (not yet confirmed), transactional, unsubscribed and cleaned members may not.
json consent_for_status(const std::string& status);

// One member of GET /lists/{id}/members as records: an identify and a consent, both versioned by
// last_changed so a changed member is a new record and a re-read one is a repeat.
void append_member_records(const Config& config, const json& member, json& records);

// A record the hub puts into its rejected store with `error` (the ndjson-file convention).
json unreadable(std::string raw, std::string error, std::string where);

}  // namespace cdphub::mailchimp

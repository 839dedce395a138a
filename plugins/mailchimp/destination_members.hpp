// The destination role: keeps audience members in step with a segment. Each operation becomes a
// member upsert (PUT /lists/{id}/members/{md5(lower(email))}, status_if_new + merge fields) and
// a tag (POST .../members/{hash}/tags, active); a removal marks the tag inactive or archives the
// member (DELETE). Small batches call those routes directly; larger ones go through
// POST /3.0/batches, polled until finished, with per-operation results read from the tar.gz at
// response_body_url. See README.md ("Destination").
#pragma once

#include <cdphub/sdk.hpp>

#include "api.hpp"
#include "config.hpp"

namespace cdphub::mailchimp {

// Delivers `batch` (docs/delivery.md operations), reporting every record.
void write_members(const Call& call, const Config& config, const Api& api, const json& batch);

}  // namespace cdphub::mailchimp

// The destination role: Marketing Contacts kept in step with a segment. Upserts go out as
// PUT /v3/marketing/contacts (list_ids + contacts; 202 + job_id), polled at
// GET /v3/marketing/contacts/imports/{id} until completed / errored / failed, with per-contact
// errors read from errors_url. Removals look the contacts up by email
// (POST /v3/marketing/contacts/search/emails) and take them off the lists
// (DELETE /v3/marketing/lists/{id}/contacts?contact_ids=...). See README.md ("Destination").
#pragma once

#include <cdphub/sdk.hpp>

#include "config.hpp"

namespace cdphub::sendgrid {

// Throws ConfigError if the destination settings are missing (api_key, list_ids).
void check_contacts_destination(const Call& call, const Config& config);
// Delivers `batch` (docs/delivery.md operations), reporting every record.
void write_contacts(const Call& call, const Config& config, const json& batch);

}  // namespace cdphub::sendgrid

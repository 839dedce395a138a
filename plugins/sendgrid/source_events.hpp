// SendGrid Event Webhook deliveries: a JSON array of mixed events, each mapped to canonical
// records (see README.md for the table).
#pragma once

#include <cdphub/sdk.hpp>

#include "config.hpp"
#include "signature.hpp"

namespace cdphub::sendgrid {

// Appends the records of one event. The track record's id is the event's sg_event_id, so a
// redelivered event is a repeat the hub drops.
void append_event_records(const json& event, json& records);

// Checks the signature (if a key is configured), then stores the batch's records in one commit
// and answers 200. `verifier` is null when no key is configured.
void receive_events(const Call& call, const Config& config, const Verifier* verifier,
                    const WebhookRequest& request);

}  // namespace cdphub::sendgrid

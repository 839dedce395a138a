// Mailchimp audience webhooks: form-encoded POSTs (subscribe, unsubscribe, profile, upemail,
// cleaned, campaign) and the GET Mailchimp sends to validate the URL. Mailchimp does not sign
// them, so the URL carries a secret as its last path segment.
#pragma once

#include <cdphub/sdk.hpp>

#include <string_view>

#include "config.hpp"

namespace cdphub::mailchimp {

void receive_webhook(const Call& call, const Config& config, const WebhookRequest& request);

// "data[merges][FNAME]=Ann&type=profile" as {"data": {"merges": {"FNAME": "Ann"}}, "type": ...}.
// The first value of a repeated key wins; a key that is both a value and a parent keeps the value.
json parse_webhook_form(std::string_view body);

}  // namespace cdphub::mailchimp

// HubSpot API access for one connector instance: the bearer token (a private-app token, or an
// OAuth access token refreshed ahead of its expires_in), and requests with HubSpot's failure
// handling on top of the hub's own retries.
#pragma once

#include <cdphub/sdk.hpp>

#include <cstdint>
#include <string>

#include "settings.hpp"

namespace cdphub_hubspot {

class Api {
  public:
    Api(const Settings& settings, const cdphub::Host& host);

    // Sends a CRM request and returns the answer for the caller to judge (2xx, 400, 404, ...).
    // Handled here: 401 (one re-authentication for OAuth, else AuthError), 403 (AuthError),
    // 429 and 5xx and network failures the hub gave up on (bounded waits, then
    // RateLimitedError / RetryableError). `what` names the request in messages.
    cdphub::HttpResponse send(const cdphub::Call& call, const std::string& method,
                              const std::string& url, const std::string& json_body,
                              const std::string& what);

    // Makes sure a usable token is at hand (refreshing an OAuth token that is about to expire).
    void ensure_token(const cdphub::Call& call);

    // Spaces search requests to settings.search_requests_per_second: the search endpoints have
    // their own, lower limit per token besides the burst limit the hub enforces.
    void pace_search(const cdphub::Call& call);

    // Requests that were refreshes of the OAuth token in this instance's life (for logs).
    int refreshes() const { return refreshes_; }

  private:
    void refresh(const cdphub::Call& call);
    int64_t backoff_ms(int attempt) const;

    const Settings& settings_;
    const cdphub::Host& host_;
    std::string token_;
    int64_t expires_at_ms_ = 0;  // host clock; 0: no token yet
    int64_t refresh_margin_ms_ = 0;
    std::string refresh_token_;  // the newest one HubSpot gave (it may rotate)
    int refreshes_ = 0;
    int64_t last_search_ms_ = 0;
};

// "HTTP 401 EXPIRED_AUTHENTICATION: The OAuth token used ..." from a HubSpot error answer, for
// messages (HubSpot's bodies never echo credentials).
std::string describe(const cdphub::HttpResponse& r);

}  // namespace cdphub_hubspot

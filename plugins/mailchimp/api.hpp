// GET requests to the Mailchimp Marketing API 3.0, with its failures turned into the hub's
// statuses. Mailchimp throttles by concurrency (more than 10 open connections per key) and sends
// no Retry-After, so besides the hub's own retries a page gets a few paced attempts of its own.
#pragma once

#include <cdphub/sdk.hpp>

#include <string>
#include <string_view>

#include "config.hpp"

namespace cdphub::mailchimp {

class Api {
  public:
    explicit Api(const Config& config);

    // GET base_url + "/3.0" + target; the parsed JSON answer of a 2xx. Throws AuthError (401,
    // a 403 with an error document), ConfigError (404), FatalError (other 4xx), and after
    // max_attempts RateLimitedError (429, bare 403) or RetryableError (5xx, network, not JSON).
    // `what` names the request in messages ("audience members").
    json get(const Call& call, const std::string& target, std::string_view what) const;

  private:
    const Config& config_;
    std::string authorization_;
};

}  // namespace cdphub::mailchimp

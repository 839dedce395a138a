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

    // Destination role: `req.url` is a target under /3.0 ("/lists/x/members/h"); adds the
    // host, Basic auth, JSON content type and the timeout. Any HTTP status comes back.
    HttpResponse send(const Call& call, HttpRequest req) const;

    // Throws the SDK error for a failed answer that is not about one member: AuthError (401,
    // 403 with a problem document), ConfigError (404 on the audience), RateLimitedError (429,
    // bare 403: never a Retry-After), RetryableError (5xx), FatalError (other).
    [[noreturn]] void fail(const std::string& what, const HttpResponse& r) const;

    // "title: detail" of a problem+json answer, with field errors; "" if it is none.
    static std::string problem_text(const HttpResponse& r);

  private:
    const Config& config_;
    std::string authorization_;
};

}  // namespace cdphub::mailchimp

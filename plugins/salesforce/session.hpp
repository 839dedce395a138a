// One OAuth session with a Salesforce org: the token request, and GETs against the instance
// that re-authenticate when Salesforce says the session is gone.
//
// Salesforce's token response has no expires_in: a session ends after the org's inactivity
// timeout, or when an admin revokes it. The only reliable signal is a 401 INVALID_SESSION_ID on
// an API call, so that is where a new token is fetched and the same request repeated.
#pragma once

#include <cdphub/sdk.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace cdphub::salesforce {

// A query locator (nextRecordsUrl) that Salesforce no longer knows. The reader restarts the
// query from its checkpoint; the exception never leaves the plugin.
struct QueryLocatorExpired : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One element of Salesforce's error array: [{"message", "errorCode", "fields"}].
struct ApiError {
    std::string code, message;
};
// The first error of a response body, or a stand-in when the body is no error array (an HTML
// maintenance page from the edge, an empty body).
ApiError parse_api_error(int status, std::string_view body);

class Session {
  public:
    explicit Session(const Config& config) : config_(config) {}

    // Fetches a token now (also used by check()). Throws AuthError for refused credentials.
    void authenticate(Call& call);
    // GET `path` (absolute path on the instance, with its query string) and return the JSON
    // answer of a 200. Every other answer becomes the matching cdphub error.
    json get(Call& call, const std::string& path,
             const std::vector<std::pair<std::string, std::string>>& headers = {});

    // The last Sforce-Limit-Info seen ("api-usage=18/15000"), for log lines.
    const std::string& limit_info() const { return limit_info_; }

  private:
    [[noreturn]] void fail(const HttpResponse& r, const std::string& what) const;

    const Config& config_;
    std::string token_, instance_url_, limit_info_;
};

}  // namespace cdphub::salesforce

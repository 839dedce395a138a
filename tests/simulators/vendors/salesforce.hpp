// Salesforce Sales Cloud REST API simulator (vendor "salesforce").
//
// Serves the OAuth token endpoint (client_credentials and refresh_token grants), SOQL through
// /services/data/vNN.0/query and /queryAll with nextRecordsUrl locators, and sobject describe.
// Every API answer carries Sforce-Limit-Info; errors are Salesforce's JSON arrays.
//
// Faults, drawn per request from the FaultSchedule and rendered as Salesforce does:
//   expire_token       every session is revoked: 401 INVALID_SESSION_ID
//   throttle           403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." (daily limit;
//                      Salesforce sends no 429 and no Retry-After for it)
//   throttle_silent    403 REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn Limit exceeded."
//   server_error       alternately 503 with the edge's HTML page and 500 UNKNOWN_EXCEPTION
//   hang_up / slow     connection closed without an answer / a late answer
//   short_page         fewer rows than the batch size, with done:false
//   invalidate_cursor  the locator is forgotten: 400 INVALID_QUERY_LOCATOR
//   mutate_rows        rows change (a few get deleted) before the answer: new SystemModstamp
// The daily limit is also real: settings.daily_limit API requests, then 403 TotalRequests.
//
// Settings: client_id, client_secret, refresh_token, instance_url (default: the server's own
// URL), max_page (rows per page at most, below the asked batch size), daily_limit,
// mutate_count (rows per mutate_rows), delete_share (share of mutations that delete),
// deleted_share (share of seeded rows already deleted).
#pragma once

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "simulators/simulator.hpp"
#include "simulators/vendors/salesforce_data.hpp"

namespace cdphub::sim {

class SalesforceVendor : public Vendor {
  public:
    explicit SalesforceVendor(const VendorOptions& options);

    HttpResponse handle(const HttpRequest& request) override;
    // {"objects": {"Contact": {"rows", "deleted"}}, "api_requests", "tokens_issued",
    //  "open_locators", "faults_enabled", "faults_applied": {"short_page": 3, ...}}
    json state() const override;

    // For tests: the rows of an object as they are now (every field).
    std::vector<json> rows(const std::string& object) const;
    // Every row version that ever existed, as "Object/Id@SystemModstamp".
    std::set<std::string> versions() const;
    // Turns fault injection off (a quiet org) or back on.
    void set_faults_enabled(bool on);
    // Changes `n` live rows now, as mutate_rows does.
    void mutate(std::size_t n);
    std::uint64_t api_requests() const;

  private:
    struct Locator {
        std::string object;
        std::vector<json> records;  // the result, rendered when the query ran
        bool all = false;           // from queryAll
    };

    HttpResponse token(const HttpRequest& r);
    HttpResponse api(const HttpRequest& r, std::string_view version, std::string_view rest);
    HttpResponse run_query(const HttpRequest& r, std::string_view version, bool all, Fault f);
    HttpResponse next_page(std::string_view version, std::string_view locator_and_offset, bool all,
                           Fault f);
    HttpResponse page(std::string_view version, const std::string& id, std::size_t offset,
                      std::size_t size, Fault f);
    HttpResponse describe(std::string_view object) const;
    HttpResponse sf_error(int status, const std::string& code, const std::string& message) const;
    HttpResponse with_limits(HttpResponse r) const;
    void mutate_locked(std::size_t n);
    // Counts a fault that took effect (a scripted one may land where it cannot).
    void applied(Fault f) { ++applied_[std::string(fault_name(f))]; }

    mutable std::mutex mu_;
    std::mt19937_64 rng_;
    std::map<std::string, std::vector<json>> rows_;  // object -> rows
    std::set<std::string> versions_;
    std::set<std::string> tokens_;
    std::map<std::string, Locator> locators_;
    std::map<std::string, std::size_t> page_sizes_;  // locator -> rows per page
    std::map<std::string, std::uint64_t> applied_;
    std::uint64_t api_requests_ = 0, tokens_issued_ = 0, locator_seq_ = 0, errors_ = 0;
    std::int64_t clock_ = 0;  // the latest SystemModstamp handed out, in seconds
    bool faults_enabled_ = true;
};

}  // namespace cdphub::sim

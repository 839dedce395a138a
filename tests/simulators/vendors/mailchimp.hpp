// Mailchimp Marketing API 3.0 simulator (vendor "mailchimp"): one audience of seeded members
// behind HTTP Basic auth (any user name, the API key as password), with Mailchimp's paging,
// filters and problem+json errors, and its failure modes on a seeded FaultSchedule.
//
// Endpoints: GET /3.0/ping, GET /3.0/lists/{list_id}, GET /3.0/lists/{list_id}/members
// (count <= 1000, offset, fields, status, since_/before_last_changed, sort_field, sort_dir).
// Writes (what a destination uses): PUT /3.0/lists/{id}/members/{hash} (upsert: status_if_new
// applies only to new members, `status` changes existing ones; the hash must be md5 of the
// lower-cased body email), POST /3.0/lists/{id}/members (add; 400 "Member Exists" if known),
// DELETE .../members/{hash} (archive), POST .../members/{hash}/tags ({"tags": [{"name",
// "status": "active"|"inactive"}]} -> 204), POST /3.0/batches (operations with `body` as a JSON
// string) and GET /3.0/batches/{id}, which walks pending -> preprocessing -> started ->
// finalizing -> finished and then names a tar.gz of [{status_code, operation_id, response}] at
// response_body_url (a pre-signed storage URL on this port: it refuses an Authorization header).
// Emails at fake_domain are refused as Mailchimp refuses fake addresses (400 Invalid Resource).
//
// Settings (VendorOptions::settings): api_key ("0123456789abcdef0123456789abcdef-us21"),
// list_id ("a1b2c3d4e5"), max_connections (10), mutate_per_fault (3: members changed per
// mutate_rows fault), tie_block (40: members of one bulk import sharing a last_changed),
// bare_403_every (0: every n-th throttle answers a bare 403 instead of a 429; 0 never),
// fake_domain ("fake.test"), polls_per_state (1: batch status polls per state),
// max_batch_bytes (10 MiB; larger POST /batches bodies get 413), results_per_file (100),
// failed_op_share (0.25: share of a partial_failure batch's operations answered 500),
// partial_every (0: every n-th batch is a partial failure besides the scheduled ones).
//
// Faults: throttle (429 + Retry-After: 0), throttle_silent (429 without it, as Mailchimp really
// answers), server_error (500 problem+json, every other one a 503 HTML page from the edge),
// hang_up, slow, short_page (half the rows asked for), mutate_rows (members change, their
// last_changed moves to now, before the page is answered), partial_failure (POST /batches: some
// operations of that batch end with a 500 result). expire_token does not apply: API keys
// do not expire (a revoked key is a bad key from then on; tests configure a wrong key instead).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "simulators/simulator.hpp"

namespace cdphub::sim {

struct MailchimpMember {
    std::string id;  // md5(lower(email))
    std::string email, unique_email_id, status, unsubscribe_reason, language;
    std::int64_t web_id = 0;
    bool vip = false;
    json merge_fields = json::object();
    json tags = json::array();
    std::int64_t timestamp_opt = 0;  // epoch seconds
    std::int64_t last_changed = 0;   // epoch seconds

    std::string version() const;  // "<id>@<last_changed as Mailchimp prints it>"
    json to_json() const;
};

class MailchimpVendor : public Vendor {
  public:
    explicit MailchimpVendor(const VendorOptions& options);

    HttpResponse handle(const HttpRequest& request) override;
    // {"list_id", "members": [MailchimpMember::to_json()...], "versions": n}
    // {"list_id", "members": [{id, email_address, status, last_changed, merge_fields, tags:
    // [names]}...], "versions": n, "batches": n, "batch_submissions": {"<method> <op id>": n},
    // "creates": {"<lower email>": n}, "member_exists": n, "partial_batches": n, "too_large": n}
    json state() const override;

    std::vector<MailchimpMember> members() const;
    // Every member version ever held ("<id>@<last_changed>"), seeded or mutated.
    std::set<std::string> versions() const;
    // Changes `n` members now (status or FNAME; last_changed moves to the current second).
    void mutate(std::size_t n);
    // While paused, no request draws a fault (tests settle the data before comparing).
    void pause_faults(bool paused) { faults_paused_ = paused; }
    std::string api_key() const { return api_key_; }
    std::string list_id() const { return list_id_; }

    static std::string time_text(std::int64_t epoch_s);  // "2024-03-01T09:30:00+00:00"
    static std::string subscriber_hash(const std::string& email);

  private:
    struct Batch {
        std::string id;
        json operations;
        bool partial = false;
        int polls = 0;
        std::int64_t submitted_at = 0;
        json results;         // once finished
        std::string archive;  // tar.gz of results
        int errored = 0;
    };

    HttpResponse members_page(const HttpRequest& request, Fault fault);
    // One write against the audience (direct or from a batch); mu_ held. `path` is below /3.0.
    std::pair<int, std::string> apply(const std::string& method, const std::string& path,
                                      const std::string& body);
    HttpResponse submit_batch(const HttpRequest& request, Fault fault);
    HttpResponse batch_status(const std::string& id);
    json batch_json(const Batch& b) const;
    void mutate_locked(std::size_t n);

    mutable std::mutex mu_;
    std::string api_key_, list_id_;
    int max_connections_ = 10, bare_403_every_ = 0;
    std::size_t mutate_per_fault_ = 3;
    std::vector<MailchimpMember> members_;
    std::set<std::string> versions_;
    std::mt19937_64 rng_;
    int in_flight_ = 0;
    std::atomic<bool> faults_paused_{false};
    std::uint64_t throttles_ = 0, server_errors_ = 0, mutation_count_ = 0;
    std::string fake_domain_;
    int polls_per_state_ = 1;
    std::size_t max_batch_bytes_ = 10u << 20, results_per_file_ = 100;
    double failed_op_share_ = 0.25;
    std::size_t partial_every_ = 0;
    std::map<std::string, Batch> batches_;
    std::map<std::string, int> batch_submissions_, creates_, tag_ids_;
    std::uint64_t member_exists_ = 0, partial_batches_ = 0, too_large_ = 0;
};

}  // namespace cdphub::sim

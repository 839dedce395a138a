// Square Orders API simulator (POST /v2/orders/search), as the vendor notes describe it:
// Bearer token plus Square-Version header, 1-10 location_ids, limit <= 1000 with pages that may
// hold fewer, a date_time_filter whose field must equal the sort field, follow-up pages that must
// resend the identical query, money in minor units (JPY without decimals), return orders, and
// errors as {"errors":[{"category","code","detail","field"}]}.
//
// The data set: `records` orders over three locations (USD, EUR, JPY), several sharing one
// updated_at to the millisecond, a few without customer_id (walk-in sales), some return orders
// with negative net amounts and a few weighed items with fractional quantities.
//
// Settings (VendorOptions::settings):
//   access_token     the token that authorizes (default "sq-sandbox-token")
//   locations        {"L1": "USD", ...} location id -> currency (default L1 USD, L2 EUR, L3 JPY)
//   mutate_count     orders bumped (version + 1, updated_at = now) per mutate_rows fault (3)
//   max_page         the server's own page cap below the client's limit (default 1000)
//
// Paging: a cursor encodes the query's hash, the run's end time (the time of the first request,
// as Square defaults a missing end_at) and the last (updated_at, id) returned, so an order that
// is updated mid-run leaves the run (its new updated_at is past the end) without shifting the
// rest. invalidate_cursor makes every cursor issued so far unacceptable (400 INVALID_CURSOR).
//
// state(): {"orders": {id: {"version", "updated_at", "versions": [every version it had]}}}.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "simulators/simulator.hpp"

namespace cdphub::sim {

class SquareVendor : public Vendor {
  public:
    explicit SquareVendor(const VendorOptions& options);

    HttpResponse handle(const HttpRequest& request) override;
    json state() const override;

    // Test hooks: stop drawing faults (so a last sync can converge), and bump orders directly.
    void set_faults_enabled(bool on) { faults_enabled_ = on; }
    void mutate(std::size_t count);
    // The orders as Square holds them now (id -> order JSON).
    std::map<std::string, json> orders() const;

  private:
    struct Order {
        json body;                      // the Order object as the API returns it
        std::vector<int64_t> versions;  // every version it ever had, oldest first
    };

    HttpResponse search(const HttpRequest& request);
    void mutate_locked(std::size_t count);
    std::string next_timestamp_locked();

    mutable std::mutex mu_;
    std::map<std::string, Order> orders_;
    std::vector<std::string> ids_;  // for picking orders to mutate
    std::map<std::string, std::string> locations_;
    std::string token_;
    std::size_t mutate_count_ = 3;
    std::size_t max_page_ = 1000;
    int64_t now_ms_ = 0;         // the simulated clock: later than every updated_at
    uint64_t cursor_epoch_ = 1;  // cursors of older epochs were invalidated
    uint64_t rng_state_ = 0;
    std::atomic<bool> faults_enabled_{true};
};

}  // namespace cdphub::sim

// The underlying population of people, derived on demand from (seed, person index): nothing about a
// person is stored, so memory does not grow with --records or --people.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rng.hpp"
#include "timefmt.hpp"

namespace cdphub::gen {

struct Config {
    uint64_t records = 1'000'000;
    uint64_t seed = 42;
    uint64_t people = 0;  // resolved by main: --people, or records / 5
    int64_t now_ms = 0;
    int64_t span_ms = 730 * kDay;  // occurred_at lies in [now - span, now)
    double crm_share = 0.20;
    double pos_share = 0.20;  // web gets the rest
    double bad_rate = 0.01;
    double duplicate_rate = 0.005;
    double placeholder_rate = 0.01;
    double shared_device_rate = 0.03;
    double recycled_email_rate = 0.01;
    double second_email_rate = 0.30;
    double visitor_share = 0.15;  // web sessions by never-identified visitors

    int64_t window_start() const { return now_ms - span_ms; }
    // Latest occurred_at written for a good record.
    int64_t window_end() const { return now_ms - kMinute; }
};

enum class Country : uint8_t { US, DE, GB, FR };
std::string_view country_code(Country c);

struct Name {
    const char* display;  // UTF-8 as people write it
    const char* ascii;    // lower-case ASCII for email addresses
};

struct Person {
    uint64_t index = 0;
    Country country = Country::US;
    const Name* first = nullptr;
    const Name* last = nullptr;
    std::string emails[2];  // canonical (lower-case, trimmed); emails[0] is the primary
    int email_count = 1;
    std::string phone;  // national significant number (no trunk prefix); empty if none
    std::string user_id;
    std::string crm_id;
    std::string pos_customer_id;
    int devices = 1;        // own web devices
    bool sharer = false;    // also uses device 0 of `partner` (shared device)
    bool recycler = false;  // primary email is the former address of `partner`
    bool donor = false;     // own primary email is recycled to person index - 1 later
    uint64_t partner = 0;
    int64_t lo_ms = 0, hi_ms = 0;  // when the person is active
    int plan = 0;                  // index into kPlans
    int city = 0;
    int region = 0;      // US: 0 east coast, 1 west coast; DE: 0 Berlin, 1 Munich
    int engagement = 1;  // 1-8: scales web activity
    int64_t ltv_cents = 0;
};

extern const char* const kPlans[4];
std::string_view city_name(Country c, int city);

class Population {
  public:
    explicit Population(const Config& cfg);

    uint64_t size() const { return n_; }
    Person person(uint64_t p) const;
    bool recycler(uint64_t p) const;
    // Appends the anonymous_id of person p's device `dev` (0-3), or of visitor `v`.
    void append_device_id(std::string& o, uint64_t p, int dev) const;
    void append_visitor_device_id(std::string& o, uint64_t source_visitor) const;
    // A UUID v4 spelling of x, unique for distinct x under the same key.
    static void append_uuid(std::string& o, uint64_t x, uint64_t key);

  private:
    Person base(uint64_t p) const;
    bool recycle_flag(uint64_t p) const;
    int64_t recycle_time(uint64_t p) const;

    const Config& cfg_;
    uint64_t n_;
    Affine email_num_, phone_num_, user_num_, crm_num_, pos_num_;
    uint64_t user_base_;
    uint64_t device_key_;
};

// Writes `email` as a source might hold it: mostly as is, sometimes capitalized, upper-cased or
// with stray whitespace. The hub cleanses all of these to the same address.
void render_email(std::string& o, std::string_view email, Rng& r);
// Writes a phone number (national significant number of `c`) in one of several national or
// international spellings that libphonenumber reads with the hub's default region US.
void render_phone(std::string& o, Country c, std::string_view nsn, Rng& r);
// Local UTC offset in minutes for a person or store of country c and region at time ms
// (daylight saving approximated as April to October).
int utc_offset_minutes(Country c, int region, int64_t ms);

enum class Currency : uint8_t { EUR, USD, GBP, JPY };
std::string_view currency_code(Currency c);
Currency home_currency(Country c);

struct Product {
    std::string sku;
    std::string name;
    std::string_view category;
    int64_t eur_minor;
};
const std::vector<Product>& catalog();
int64_t price_minor(const Product& p, Currency c);

// Placeholder values that real sources put where an identifier should be.
extern const char* const kPlaceholders[6];

}  // namespace cdphub::gen

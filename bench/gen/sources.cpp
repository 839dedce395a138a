// The three sources. Each writes interleaved "histories": one person's CRM changes, web visits or
// POS purchases, several of them in flight at once the way a real export mixes people. Every
// history starts from the same deterministic recipe, so a person looks the same in every source.
#include <algorithm>
#include <charconv>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "generator.hpp"
#include "json_out.hpp"

namespace cdphub::gen {

std::string_view source_name(SourceId s) {
    static constexpr std::string_view kNames[] = {"crm", "web", "pos"};
    return kNames[static_cast<int>(s)];
}

std::string_view rec_type_name(RecType t) {
    static constexpr std::string_view kNames[] = {"identify", "track", "order", "alias", "consent"};
    return kNames[static_cast<int>(t)];
}

std::string_view bad_kind_name(BadKind k) {
    static constexpr std::string_view kNames[] = {
        "bad_timestamp", "missing_identifiers", "decimal_money", "unknown_type", "malformed_json"};
    return kNames[static_cast<int>(k)];
}

std::string_view expected_reason(BadKind k) {
    // malformed_json: the ndjson-file source hands the line over as {"_raw", "_error", ...}.
    static constexpr std::string_view kReasons[] = {
        "bad_timestamp", "no_identifier", "invalid_money", "unknown_type", "plugin_reported_error"};
    return kReasons[static_cast<int>(k)];
}

std::array<uint64_t, kSources> plan_counts(const Config& cfg) {
    const auto share = [&](double s) {
        return static_cast<uint64_t>(static_cast<double>(cfg.records) * s);
    };
    const uint64_t crm = std::min(cfg.records, share(cfg.crm_share));
    const uint64_t pos = std::min(cfg.records - crm, share(cfg.pos_share));
    return {crm, cfg.records - crm - pos, pos};
}

namespace {

constexpr int kSlots = 16;  // histories in flight per source
constexpr int kRing = 16;   // recent good lines kept for duplicates
constexpr int kSharedDevice = 3;

enum class Corrupt { none, bad_timestamp, missing_identifiers, decimal_money, unknown_type };

// Person for the k-th history of a source: a pseudo-random permutation of [0, N) per lap, so that
// who appears in which source is independent between sources and between neighbours (partners in
// the shared-device and recycled-email cases), and can be recomputed at the end without a table.
struct Layout {
    uint64_t n = 1;
    Permutation perm;
    uint64_t person(uint64_t k) const { return perm(k % n); }
    uint64_t history_of(uint64_t p) const { return perm.inverse(p); }
};

Layout make_layout(const Config& cfg, uint64_t n, SourceId s) {
    Layout l;
    l.n = n;
    l.perm = Permutation(n, hash_of(cfg.seed, kTagSourceLayout, static_cast<uint64_t>(s)));
    return l;
}

int64_t mul_div_round(int64_t a, int64_t b, int64_t c) {
    return (a * b + c / 2) / c;
}

// What every source shares: record ids, timestamps, the corruption of bad records, statistics.
class SourceBase {
  public:
    SourceBase(const Config& cfg, const Population& pop, SourceId id, SourceStats& st)
        : cfg_(cfg), pop_(pop), id_(id), st_(st), layout_(make_layout(cfg, pop.size(), id)) {}

    const std::string& last_record_id() const { return record_id_; }
    // Bad records are built with the normal builders; their content is not counted.
    void set_counting(bool on) { counting_ = on; }

  protected:
    void note(uint64_t SourceStats::*field, uint64_t n = 1) {
        if (counting_) st_.*field += n;
    }
    uint64_t next_person() { return layout_.person(st_.person_sessions++); }

    void put_record_id(Json& j) {
        record_id_.clear();
        const uint64_t seq = seq_++;
        switch (id_) {
            case SourceId::crm:
                record_id_ = "chg-";
                append_padded(record_id_, seq, 10);
                break;
            case SourceId::web:
                Population::append_uuid(record_id_, seq, hash_of(cfg_.seed, kTagMessage, 0));
                break;
            case SourceId::pos:
                record_id_ = "rcpt-";
                append_padded(record_id_, seq, 10);
                break;
        }
        j.key("record_id").str(record_id_);
    }

    void put_type(Json& j, std::string_view type, Corrupt c, Rng& r) {
        if (c == Corrupt::unknown_type) {
            switch (r.below(6)) {
                case 0:
                    return;  // no type at all
                case 1:
                    j.key("type").str("page");
                    return;
                case 2:
                    j.key("type").str("screen");
                    return;
                case 3:
                    j.key("type").str("group");
                    return;
                case 4: {
                    std::string t(type);
                    t[0] = static_cast<char>(t[0] - 32);  // "Identify": types are lower case
                    j.key("type").str(t);
                    return;
                }
                default:
                    j.key("type").str("purchase");
                    return;
            }
        }
        j.key("type").str(type);
    }

    void put_time(Json& j, int64_t ms, int offset, bool zulu, bool millis, Corrupt c, Rng& r) {
        j.key("occurred_at");
        tmp_.clear();
        if (c != Corrupt::bad_timestamp) {
            append_rfc3339(tmp_, ms, offset, zulu, millis);
            j.str(tmp_);
            return;
        }
        switch (r.below(8)) {
            case 0:  // local time without an offset
                append_rfc3339(tmp_, ms, offset, false, millis);
                tmp_.resize(tmp_.size() - 6);
                j.str(tmp_);
                break;
            case 1:  // impossible date
                append_rfc3339(tmp_, ms, 0, true, false);
                tmp_.replace(5, 5, "02-30");
                j.str(tmp_);
                break;
            case 2:
                j.num(ms / kSecond);
                break;  // epoch seconds
            case 3:     // epoch milliseconds as a string
                append_int(tmp_, ms);
                j.str(tmp_);
                break;
            case 4: {  // US-style local date
                const Civil cv = civil_from_ms(ms);
                append_padded(tmp_, static_cast<uint64_t>(cv.month), 2);
                tmp_ += '/';
                append_padded(tmp_, static_cast<uint64_t>(cv.day), 2);
                tmp_ += '/';
                append_int(tmp_, cv.year);
                tmp_ += ' ';
                append_padded(tmp_, static_cast<uint64_t>(cv.hour), 2);
                tmp_ += ':';
                append_padded(tmp_, static_cast<uint64_t>(cv.minute), 2);
                j.str(tmp_);
                break;
            }
            case 5:
                j.str("");
                break;
            case 6:
                j.str("9999-12-31T23:59:59Z");
                break;  // "no date" sentinel, far future
            default:
                j.null();
        }
    }

    // For Corrupt::missing_identifiers writes identifiers that leave nothing usable and returns
    // true; otherwise writes nothing and returns false.
    bool put_bad_identifiers(Json& j, Corrupt c, Rng& r) {
        if (c != Corrupt::missing_identifiers) return false;
        switch (r.below(6)) {
            case 0:
                break;  // no identifiers at all
            case 1:
                j.key("identifiers").obj().end();
                break;
            case 2:
                j.key("identifiers").obj().key("email").str("").end();
                break;
            case 3:
                j.key("identifiers").obj().key("email").str("n/a").end();
                break;
            case 4:
                j.key("identifiers").obj().key("user_id").null().end();
                break;
            default:
                j.key("identifiers").obj().key("email").str("not-an-email");
                j.key("phone").str("0000").end();
        }
        return true;
    }

    void put_email(Json& j, std::string_view email, Rng& r) {
        tmp_.clear();
        render_email(tmp_, email, r);
        j.str(tmp_);
    }
    void put_phone(Json& j, const Person& p, Rng& r) {
        tmp_.clear();
        render_phone(tmp_, p.country, p.phone, r);
        j.key("phone").str(tmp_);
        note(&SourceStats::records_with_phone);
    }
    std::string_view placeholder(Rng& r, bool email_like) {
        note(&SourceStats::placeholder_values);
        static const char* const kEmailish[] = {"test@test.com", "n/a", "null"};
        static const char* const kIdish[] = {"null", "anonymous", "0000", "undefined"};
        return email_like ? r.pick(kEmailish) : r.pick(kIdish);
    }

    const Config& cfg_;
    const Population& pop_;
    SourceId id_;
    SourceStats& st_;
    Layout layout_;
    std::string tmp_;
    std::string record_id_;
    uint64_t seq_ = 0;
    bool counting_ = true;
};

// ---------------------------------------------------------------------------------------------
// CRM: a contact is created, then updated now and then (plan, lifetime value, second email,
// phone), with an occasional consent change.
class CrmSource : public SourceBase {
  public:
    using SourceBase::SourceBase;

    uint64_t start(int i, uint64_t max_len) {
        Slot& s = slots_[static_cast<size_t>(i)];
        const uint64_t k = st_.person_sessions;
        s.person = pop_.person(next_person());
        s.rng = Rng(hash_of(cfg_.seed, kTagSession, k << 2));
        s.len = std::min<uint64_t>(static_cast<uint64_t>(s.rng.length(0.4, 8)), max_len);
        s.pos = 0;
        const Person& p = s.person;
        s.t = p.lo_ms +
              static_cast<int64_t>(s.rng.real() * 0.6 * static_cast<double>(p.hi_ms - p.lo_ms));
        s.gap = std::max<int64_t>(kHour, (p.hi_ms - s.t) / static_cast<int64_t>(s.len + 1));
        s.plan = p.plan;
        s.ltv = p.ltv_cents;
        return s.len;
    }

    RecType next(int i, std::string& line) {
        Slot& s = slots_[static_cast<size_t>(i)];
        RecType type = RecType::identify;
        if (s.pos == 0) {
            identify(line, s.person, s.rng, s.t, true, s.plan, s.ltv, Corrupt::none);
        } else {
            s.t = std::min(s.t + s.rng.between(kHour, 2 * s.gap), s.person.hi_ms - kSecond);
            if (s.rng.chance(0.25)) s.plan = std::min(3, s.plan + 1);
            s.ltv += s.rng.between(0, 25000);
            if (s.rng.chance(0.12)) {
                consent(line, s.person, s.rng, s.t);
                type = RecType::consent;
            } else {
                identify(line, s.person, s.rng, s.t, false, s.plan, s.ltv, Corrupt::none);
            }
        }
        ++s.pos;
        return type;
    }

    std::optional<RecType> extra(double, Rng&, std::string&) { return std::nullopt; }

    BadKind pick_bad(Rng& r) {
        const double x = r.real();
        return x < 0.35   ? BadKind::bad_timestamp
               : x < 0.65 ? BadKind::missing_identifiers
               : x < 0.85 ? BadKind::unknown_type
                          : BadKind::malformed_json;
    }
    void bad(Corrupt c, Rng& r, std::string& line) {
        const Person p = pop_.person(r.below(pop_.size()));
        const int64_t t = p.lo_ms + r.between(0, p.hi_ms - p.lo_ms - kSecond);
        identify(line, p, r, t, true, p.plan, p.ltv_cents, c);
    }

  private:
    struct Slot {
        Person person;
        Rng rng;
        uint64_t len = 0, pos = 0;
        int64_t t = 0, gap = 0;
        int plan = 0;
        int64_t ltv = 0;
    };

    void put_crm_time(Json& j, const Person& p, Rng& r, int64_t t, Corrupt c) {
        const double x = r.real();
        if (x < 0.7)
            put_time(j, t, 0, true, false, c, r);
        else if (x < 0.8)
            put_time(j, t, 0, false, false, c, r);
        else
            put_time(j, t, utc_offset_minutes(p.country, p.region, t), false, false, c, r);
    }

    void identify(std::string& line, const Person& p, Rng& r, int64_t t, bool create, int plan,
                  int64_t ltv, Corrupt c) {
        Json j(line);
        j.obj();
        put_type(j, "identify", c, r);
        put_record_id(j);
        put_crm_time(j, p, r, t, c);
        if (!put_bad_identifiers(j, c, r)) {
            j.key("identifiers").obj();
            j.key("crm_id").str(p.crm_id);
            j.key("email");
            if (!create && r.chance(cfg_.placeholder_rate)) {
                j.str(placeholder(r, true));
            } else if (!create && p.email_count == 2 && r.chance(0.25)) {
                note(&SourceStats::second_email_records);
                if (r.chance(0.4)) {
                    j.arr();
                    put_email(j, p.emails[0], r);
                    put_email(j, p.emails[1], r);
                    j.end();
                } else {
                    put_email(j, p.emails[1], r);
                }
            } else {
                put_email(j, p.emails[0], r);
            }
            if (!p.phone.empty() && r.chance(create ? 0.7 : 0.3))
                put_phone(j, p, r);
            else if (!create && r.chance(cfg_.placeholder_rate))
                j.key("phone").str(r.chance(0.5) ? placeholder(r, false) : placeholder(r, true));
            j.end();
        }
        j.key("traits").obj();
        if (create) {
            j.key("first_name").str(p.first->display);
            j.key("last_name").str(p.last->display);
            j.key("country").str(country_code(p.country));
            j.key("city").str(city_name(p.country, p.city));
            j.key("email_opt_in").boolean(r.chance(0.6));
        }
        j.key("plan").str(kPlans[plan]);
        j.key("lifetime_value").decimal2(ltv);
        j.end();
        j.end();
    }

    void consent(std::string& line, const Person& p, Rng& r, int64_t t) {
        static const char* const kPurposes[] = {"email_marketing", "sms_marketing", "profiling"};
        Json j(line);
        j.obj();
        put_type(j, "consent", Corrupt::none, r);
        put_record_id(j);
        put_crm_time(j, p, r, t, Corrupt::none);
        j.key("identifiers").obj().key("crm_id").str(p.crm_id).key("email");
        put_email(j, p.emails[0], r);
        j.end();
        j.key("consent").obj();
        j.key("purpose").str(r.pick(kPurposes));
        j.key("granted").boolean(r.chance(0.7));
        j.key("source").str("crm");
        j.end();
        j.end();
    }

    std::array<Slot, kSlots> slots_;
};

// ---------------------------------------------------------------------------------------------
// Web: visits of a person on their devices (or a shared one), each with page and product views,
// carts and orders, and a login (identify) the first time a device is used; some visits also
// alias the device. Anonymous visitors browse on a fresh device and never log in.
class WebSource : public SourceBase {
  public:
    using SourceBase::SourceBase;

    uint64_t start(int i, uint64_t max_len) {
        Slot& s = slots_[static_cast<size_t>(i)];
        const uint64_t w = sessions_++;
        s.rng = Rng(hash_of(cfg_.seed, kTagSession, (w << 2) | 1));
        Rng& r = s.rng;
        s.visitor = r.chance(cfg_.visitor_share);
        uint64_t total = 0;
        s.nvisits = 0;
        if (s.visitor) {
            s.visitor_index = st_.visitor_sessions++;
            const double c = r.real();
            s.country = c < 0.4    ? Country::US
                        : c < 0.65 ? Country::DE
                        : c < 0.85 ? Country::GB
                                   : Country::FR;
            s.region = static_cast<int>(r.below(2));
            s.lo = cfg_.window_start();
            s.hi = cfg_.window_end();
            Visit v;
            v.len = static_cast<uint16_t>(
                std::min<uint64_t>(static_cast<uint64_t>(r.length(0.6, 10)), max_len));
            s.visits[s.nvisits++] = v;
            total = v.len;
        } else {
            s.person = pop_.person(next_person());
            const Person& p = s.person;
            s.country = p.country;
            s.region = p.region;
            s.lo = p.lo_ms;
            s.hi = p.hi_ms;
            const int nv = r.length(0.45, static_cast<int>(s.visits.size()));
            const double more = 1.0 - 1.0 / (1.0 + 1.2 * p.engagement);
            std::array<bool, 4> identified{};
            for (int v = 0; v < nv && total < max_len; ++v) {
                Visit vis;
                vis.device = static_cast<uint8_t>(v == 0 ? 0
                                                  : p.sharer && r.chance(0.4)
                                                      ? kSharedDevice
                                                      : r.below(static_cast<uint64_t>(p.devices)));
                int len = r.length(more, 60);
                vis.first_on_device = !identified[vis.device];
                if (vis.first_on_device || r.chance(0.3))
                    vis.identify_at = static_cast<int16_t>(r.below(static_cast<uint64_t>(len)));
                identified[vis.device] = true;
                if (vis.identify_at >= 0 && p.email_count == 2 && len >= 2 && r.chance(0.35))
                    vis.second_at = other_position(r, len, vis.identify_at, -1);
                if (len >= 2 && r.chance(0.2))
                    vis.alias_at = other_position(r, len, vis.identify_at, vis.second_at);
                if (total + static_cast<uint64_t>(len) > max_len) {
                    len = static_cast<int>(max_len - total);
                    vis.identify_at =
                        std::min<int16_t>(vis.identify_at, static_cast<int16_t>(len - 1));
                    if (vis.second_at >= len || vis.second_at == vis.identify_at)
                        vis.second_at = -1;
                    if (vis.alias_at >= len || vis.alias_at == vis.identify_at ||
                        vis.alias_at == vis.second_at)
                        vis.alias_at = -1;
                }
                vis.len = static_cast<uint16_t>(len);
                total += static_cast<uint64_t>(len);
                s.visits[s.nvisits++] = vis;
            }
        }
        s.currency = home_currency(s.country);
        s.t = s.lo + static_cast<int64_t>(r.real() * 0.7 * static_cast<double>(s.hi - s.lo));
        s.gap = std::max<int64_t>(kHour, (s.hi - s.t) / (s.nvisits + 1));
        s.vi = 0;
        s.pos = 0;
        return total;
    }

    RecType next(int i, std::string& line) {
        Slot& s = slots_[static_cast<size_t>(i)];
        Rng& r = s.rng;
        const Visit& v = s.visits[static_cast<size_t>(s.vi)];
        if (s.pos == 0) {
            if (s.vi > 0) s.t = std::min(s.t + r.between(kHour, 2 * s.gap), s.hi - kSecond);
            s.device.clear();
            if (s.visitor) {
                pop_.append_visitor_device_id(s.device, s.visitor_index);
            } else if (v.device == kSharedDevice) {
                pop_.append_device_id(s.device, s.person.partner, 0);
                note(&SourceStats::shared_device_visits);
            } else {
                pop_.append_device_id(s.device, s.person.index, v.device);
            }
            s.cart_n = 0;
            s.last_viewed = -1;
            s.cart_key = r.next();
        } else {
            s.t = std::min(s.t + r.between(3 * kSecond, 3 * kMinute), s.hi - kSecond);
        }
        RecType type = RecType::track;
        if (s.pos == v.identify_at) {
            identify(line, s, false, !v.first_on_device);
            type = RecType::identify;
        } else if (s.pos == v.second_at) {
            identify(line, s, true, false);
            type = RecType::identify;
        } else if (s.pos == v.alias_at) {
            alias(line, s);
            type = RecType::alias;
        } else {
            track(line, s, Corrupt::none);
        }
        if (++s.pos == v.len) {
            s.pos = 0;
            ++s.vi;
        }
        return type;
    }

    // A broken tracking snippet: the page view carries a placeholder instead of a device id.
    std::optional<RecType> extra(double x, Rng& r, std::string& line) {
        if (x >= cfg_.placeholder_rate / 2) return std::nullopt;
        loose_slot(r);
        loose_.device = placeholder(r, false);
        note(&SourceStats::placeholder_only_records);
        track(line, loose_, Corrupt::none);
        return RecType::track;
    }

    BadKind pick_bad(Rng& r) {
        const double x = r.real();
        return x < 0.35   ? BadKind::bad_timestamp
               : x < 0.60 ? BadKind::missing_identifiers
               : x < 0.85 ? BadKind::unknown_type
                          : BadKind::malformed_json;
    }
    void bad(Corrupt c, Rng& r, std::string& line) {
        // A page view of a random person's first device.
        loose_slot(r);
        pop_.append_device_id(loose_.device, loose_.person.index, 0);
        track(line, loose_, c);
    }

  private:
    struct Visit {
        uint8_t device = 0;  // 0-2 own devices, kSharedDevice: partner's device 0
        bool first_on_device = true;
        uint16_t len = 1;
        int16_t identify_at = -1, second_at = -1, alias_at = -1;
    };
    struct Slot {
        bool visitor = false;
        Person person;
        uint64_t visitor_index = 0;
        Country country = Country::US;
        int region = 0;
        Currency currency = Currency::USD;
        Rng rng;
        std::array<Visit, 12> visits{};
        int nvisits = 0, vi = 0;
        int pos = 0;
        int64_t lo = 0, hi = 0, t = 0, gap = 0;
        std::string device;
        std::array<uint16_t, 4> cart{};
        std::array<int, 4> qty{};
        int cart_n = 0;
        int last_viewed = -1;
        uint64_t cart_key = 0;
    };

    // A one-off page view outside any history, for bad records and extras.
    void loose_slot(Rng& r) {
        Slot& s = loose_;
        s.rng = Rng(r.next());
        s.person = pop_.person(r.below(pop_.size()));
        s.visitor = false;
        s.country = s.person.country;
        s.region = s.person.region;
        s.currency = home_currency(s.country);
        s.t = s.person.lo_ms + r.between(0, s.person.hi_ms - s.person.lo_ms - kSecond);
        s.device.clear();
        s.cart_n = 0;
        s.last_viewed = -1;
        s.pos = 0;
    }

    static int16_t other_position(Rng& r, int len, int a, int b) {
        int x = static_cast<int>(r.below(static_cast<uint64_t>(len)));
        for (int tries = 0; tries < 3 && (x == a || x == b); ++tries) x = (x + 1) % len;
        return x == a || x == b ? int16_t{-1} : static_cast<int16_t>(x);
    }

    void put_web_time(Json& j, Slot& s, Corrupt c) {
        if (s.rng.chance(0.85))
            put_time(j, s.t, 0, true, true, c, s.rng);
        else
            put_time(j, s.t, utc_offset_minutes(s.country, s.region, s.t), false, true, c, s.rng);
    }

    void identify(std::string& line, Slot& s, bool second, bool placeholder_allowed) {
        Rng& r = s.rng;
        const Person& p = s.person;
        Json j(line);
        j.obj();
        put_type(j, "identify", Corrupt::none, r);
        put_record_id(j);
        put_web_time(j, s, Corrupt::none);
        j.key("identifiers").obj();
        j.key("anonymous_id").str(s.device);
        j.key("user_id");
        if (placeholder_allowed && r.chance(cfg_.placeholder_rate)) {
            j.str(placeholder(r, false));
        } else if (r.chance(0.1)) {
            int64_t n = 0;  // some SDKs send numeric ids as numbers
            std::from_chars(p.user_id.data(), p.user_id.data() + p.user_id.size(), n);
            j.num(n);
        } else {
            j.str(p.user_id);
        }
        j.key("email");
        if (second) note(&SourceStats::second_email_records);
        put_email(j, p.emails[second ? 1 : 0], r);
        if (!p.phone.empty() && r.chance(0.15)) put_phone(j, p, r);
        j.end();
        if (r.chance(0.4)) {
            j.key("traits").obj();
            j.key("first_name").str(p.first->display);
            j.key("last_name").str(p.last->display);
            j.end();
        }
        j.end();
    }

    void alias(std::string& line, Slot& s) {
        Json j(line);
        j.obj();
        put_type(j, "alias", Corrupt::none, s.rng);
        put_record_id(j);
        put_web_time(j, s, Corrupt::none);
        j.key("identifiers").obj().key("user_id").str(s.person.user_id).end();
        j.key("alias").obj().key("previous_id").obj();
        j.key("type").str("anonymous_id").key("value").str(s.device);
        j.end().end();
        j.end();
    }

    void track(std::string& line, Slot& s, Corrupt c) {
        struct Page {
            const char* path;
            const char* title;
        };
        static const Page kPages[] = {{"/", "Home"},
                                      {"/category/tea", "Tea"},
                                      {"/category/coffee", "Coffee"},
                                      {"/category/kitchen", "Kitchen"},
                                      {"/sale", "Sale"},
                                      {"/account", "My account"},
                                      {"/blog/brewing-guide", "Brewing guide"},
                                      {"/stores", "Our stores"}};
        static const char* const kReferrers[] = {"https://www.google.com/", "https://www.bing.com/",
                                                 "https://www.instagram.com/",
                                                 "https://newsletter.example.com/"};
        Rng& r = s.rng;
        const auto& products = catalog();
        const double x = r.real();
        enum { page, product, cart, order } ev;
        if (s.pos == 0 || x < 0.35)
            ev = page;
        else if (x < 0.70 || s.last_viewed < 0)
            ev = product;
        else if (x < 0.90 || s.cart_n == 0)
            ev = cart;
        else
            ev = order;
        static const char* const kNames[] = {"Page Viewed", "Product Viewed", "Added to Cart",
                                             "Order Completed"};
        Json j(line);
        j.obj();
        put_type(j, "track", c, r);
        put_record_id(j);
        put_web_time(j, s, c);
        if (!put_bad_identifiers(j, c, r))
            j.key("identifiers").obj().key("anonymous_id").str(s.device).end();
        j.key("event").str(kNames[ev]);
        j.key("properties").obj();
        const std::string_view cur = currency_code(s.currency);
        switch (ev) {
            case page: {
                const Page& pg = r.pick(kPages);
                j.key("path").str(pg.path);
                tmp_ = "https://shop.example.com";
                tmp_ += pg.path;
                j.key("url").str(tmp_);
                j.key("title").str(pg.title);
                if (s.pos == 0 && r.chance(0.5)) j.key("referrer").str(r.pick(kReferrers));
                break;
            }
            case product: {
                s.last_viewed = static_cast<int>(r.below(products.size()));
                const Product& pr = products[static_cast<size_t>(s.last_viewed)];
                j.key("sku").str(pr.sku).key("name").str(pr.name).key("category").str(pr.category);
                j.key("price_minor").num(price_minor(pr, s.currency)).key("currency").str(cur);
                break;
            }
            case cart: {
                const Product& pr = products[static_cast<size_t>(s.last_viewed)];
                const int q = r.chance(0.8) ? 1 : 2;
                if (s.cart_n < 4) {
                    s.cart[static_cast<size_t>(s.cart_n)] = static_cast<uint16_t>(s.last_viewed);
                    s.qty[static_cast<size_t>(s.cart_n++)] = q;
                }
                tmp_ = "cart-";
                Population::append_uuid(tmp_, s.cart_key, 0);
                j.key("cart_id").str(std::string_view(tmp_).substr(0, 17));
                j.key("sku").str(pr.sku).key("name").str(pr.name).key("quantity").num(q);
                j.key("price_minor").num(price_minor(pr, s.currency)).key("currency").str(cur);
                break;
            }
            case order: {
                tmp_ = "WEB-";
                append_padded(tmp_, web_orders_++, 9);
                j.key("order_id").str(tmp_);
                int64_t revenue = 0;
                for (int k = 0; k < s.cart_n; ++k)
                    revenue += price_minor(products[s.cart[static_cast<size_t>(k)]], s.currency) *
                               s.qty[static_cast<size_t>(k)];
                j.key("revenue_minor").num(revenue);
                // Sales tax on top in the US; VAT included elsewhere (19% for EUR, 20% for GBP).
                const int64_t tax = s.currency == Currency::USD   ? mul_div_round(revenue, 8, 100)
                                    : s.currency == Currency::GBP ? mul_div_round(revenue, 20, 120)
                                                                  : mul_div_round(revenue, 19, 119);
                j.key("tax_minor").num(tax);
                j.key("shipping_minor").num(revenue >= 4900 ? 0 : 495);
                j.key("currency").str(cur);
                j.key("products").arr();
                for (int k = 0; k < s.cart_n; ++k) {
                    const Product& pr = products[s.cart[static_cast<size_t>(k)]];
                    j.obj()
                        .key("sku")
                        .str(pr.sku)
                        .key("quantity")
                        .num(s.qty[static_cast<size_t>(k)]);
                    j.key("price_minor").num(price_minor(pr, s.currency)).end();
                }
                j.end();
                s.cart_n = 0;
                break;
            }
        }
        j.end();
        j.end();
    }

    std::array<Slot, kSlots> slots_;
    Slot loose_;
    uint64_t sessions_ = 0;
    uint64_t web_orders_ = 0;
};

// ---------------------------------------------------------------------------------------------
// POS: a customer's purchases in their home store (sometimes the Tokyo store, in yen), with the
// email given at the till the first time and now and then later; some orders are refunded or
// partly returned in a later record for the same order id. Walk-in sales carry placeholder ids.
class PosSource : public SourceBase {
  public:
    using SourceBase::SourceBase;

    uint64_t start(int i, uint64_t max_len) {
        Slot& s = slots_[static_cast<size_t>(i)];
        const uint64_t k = st_.person_sessions;
        s.person = pop_.person(next_person());
        s.rng = Rng(hash_of(cfg_.seed, kTagSession, (k << 2) | 2));
        s.len = std::min<uint64_t>(static_cast<uint64_t>(s.rng.length(0.55, 15)), max_len);
        s.pos = 0;
        s.pending_refund = false;
        const Person& p = s.person;
        s.t = p.lo_ms +
              static_cast<int64_t>(s.rng.real() * 0.7 * static_cast<double>(p.hi_ms - p.lo_ms));
        s.gap = std::max<int64_t>(kDay, (p.hi_ms - s.t) / static_cast<int64_t>(s.len + 1));
        s.home = home_store(p);
        return s.len;
    }

    RecType next(int i, std::string& line) {
        Slot& s = slots_[static_cast<size_t>(i)];
        Rng& r = s.rng;
        const Person& p = s.person;
        if (s.pending_refund) {
            s.pending_refund = false;
            const int64_t t = std::min(s.order.t + r.between(kDay, 30 * kDay), p.hi_ms - kSecond);
            refund(line, s, t);
        } else {
            if (s.pos > 0) s.t = std::min(s.t + r.between(4 * kHour, 2 * s.gap), p.hi_ms - kSecond);
            const int store = r.chance(0.05) ? kTokyo : s.home;
            make_order(r, store, s.t, s.order);
            write_order(line, r, s.order, false, Corrupt::none, [&](Json& j) {
                j.key("pos_customer_id").str(p.pos_customer_id);
                if (s.pos == 0) {
                    j.key("email");
                    put_email(j, p.emails[0], r);
                } else if (r.chance(0.3)) {
                    const bool second = p.email_count == 2 && r.chance(0.3);
                    if (second) note(&SourceStats::second_email_records);
                    j.key("email");
                    put_email(j, p.emails[second ? 1 : 0], r);
                } else if (r.chance(cfg_.placeholder_rate)) {
                    j.key("email").str(placeholder(r, true));
                }
                if (!p.phone.empty() && r.chance(0.08)) put_phone(j, p, r);
            });
            s.pending_refund = s.pos + 1 < s.len && r.chance(0.06);
        }
        ++s.pos;
        return RecType::order;
    }

    // Walk-in sales: the cashier typed a placeholder instead of a customer id.
    std::optional<RecType> extra(double x, Rng& r, std::string& line) {
        if (x >= cfg_.placeholder_rate) return std::nullopt;
        const int store = static_cast<int>(r.below(kStoreCount));
        const int64_t t = cfg_.window_start() + r.between(0, cfg_.span_ms - kMinute - kSecond);
        Order o;
        make_order(r, store, t, o);
        note(&SourceStats::placeholder_only_records);
        write_order(line, r, o, false, Corrupt::none, [&](Json& j) {
            switch (r.below(4)) {
                case 0:
                    j.key("pos_customer_id").str(placeholder(r, false));
                    break;
                case 1:
                    note(&SourceStats::placeholder_values);
                    j.key("email").str("test@test.com");
                    break;
                case 2:
                    j.key("pos_customer_id").str(placeholder(r, false));
                    j.key("email").str(placeholder(r, true));
                    break;
                default:
                    note(&SourceStats::placeholder_values);
                    j.key("pos_customer_id").str("n/a");
            }
        });
        return RecType::order;
    }

    BadKind pick_bad(Rng& r) {
        const double x = r.real();
        return x < 0.25   ? BadKind::bad_timestamp
               : x < 0.45 ? BadKind::missing_identifiers
               : x < 0.80 ? BadKind::decimal_money
               : x < 0.90 ? BadKind::unknown_type
                          : BadKind::malformed_json;
    }
    void bad(Corrupt c, Rng& r, std::string& line) {
        const Person p = pop_.person(r.below(pop_.size()));
        Order o;
        make_order(r, home_store(p), p.lo_ms + r.between(0, p.hi_ms - p.lo_ms - kSecond), o);
        write_order(line, r, o, false, c,
                    [&](Json& j) { j.key("pos_customer_id").str(p.pos_customer_id); });
    }

  private:
    struct Store {
        const char* code;
        Country country;  // for the UTC offset (Tokyo handled apart)
        int region;
        Currency currency;
        int64_t tax_e5;  // tax rate in 1/100000
        bool tax_included;
    };
    static constexpr int kStoreCount = 7;
    static constexpr int kTokyo = 6;
    static constexpr Store kStores[kStoreCount] = {
        {"NYC01", Country::US, 0, Currency::USD, 8875, false},
        {"SFO01", Country::US, 1, Currency::USD, 8625, false},
        {"BER01", Country::DE, 0, Currency::EUR, 19000, true},
        {"MUC01", Country::DE, 1, Currency::EUR, 19000, true},
        {"LON01", Country::GB, 0, Currency::GBP, 20000, true},
        {"PAR01", Country::FR, 0, Currency::EUR, 20000, true},
        {"TYO01", Country::US, 0, Currency::JPY, 10000, true}};

    struct Order {
        std::string id;
        int store = 0;
        int n = 0;
        std::array<uint16_t, 4> sku{};
        std::array<int, 4> qty{};
        int64_t subtotal = 0, discount = 0, tax = 0, total = 0;
        int64_t t = 0;
    };
    struct Slot {
        Person person;
        Rng rng;
        uint64_t len = 0, pos = 0;
        int64_t t = 0, gap = 0;
        int home = 0;
        bool pending_refund = false;
        Order order;
    };

    static int home_store(const Person& p) {
        switch (p.country) {
            case Country::US:
                return p.region == 0 ? 0 : 1;
            case Country::DE:
                return p.region == 0 ? 2 : 3;
            case Country::GB:
                return 4;
            case Country::FR:
                return 5;
        }
        return 0;
    }

    void make_order(Rng& r, int store, int64_t t, Order& o) {
        const Store& st = kStores[store];
        const auto& products = catalog();
        o.id = st.code;
        o.id += '-';
        append_padded(o.id, orders_++, 9);
        o.store = store;
        o.t = t;
        o.n = r.length(0.45, 4);
        o.subtotal = 0;
        for (int k = 0; k < o.n; ++k) {
            o.sku[static_cast<size_t>(k)] = static_cast<uint16_t>(r.below(products.size()));
            o.qty[static_cast<size_t>(k)] = r.chance(0.8) ? 1 : static_cast<int>(r.between(2, 4));
            o.subtotal += price_minor(products[o.sku[static_cast<size_t>(k)]], st.currency) *
                          o.qty[static_cast<size_t>(k)];
        }
        o.discount = r.chance(0.15) ? o.subtotal / 10 : 0;
        const int64_t net = o.subtotal - o.discount;
        if (st.tax_included) {
            o.total = net;
            o.tax = mul_div_round(net, st.tax_e5, 100000 + st.tax_e5);
        } else {
            o.tax = mul_div_round(net, st.tax_e5, 100000);
            o.total = net + o.tax;
        }
    }

    void put_pos_time(Json& j, Rng& r, int store, int64_t t, Corrupt c) {
        const Store& st = kStores[store];
        const int offset = store == kTokyo ? 540 : utc_offset_minutes(st.country, st.region, t);
        put_time(j, t, offset, false, false, c, r);
    }

    template <class Ids>
    void write_order(std::string& line, Rng& r, const Order& o, bool is_refund, Corrupt c,
                     Ids&& ids) {
        const Store& st = kStores[o.store];
        const auto& products = catalog();
        if (counting_) ++st_.orders_by_currency[static_cast<size_t>(st.currency)];
        Json j(line);
        j.obj();
        put_type(j, "order", c, r);
        put_record_id(j);
        put_pos_time(j, r, o.store, o.t, c);
        if (!put_bad_identifiers(j, c, r)) {
            j.key("identifiers").obj();
            ids(j);
            j.end();
        }
        const int money = c == Corrupt::decimal_money ? static_cast<int>(r.below(4)) : -1;
        j.key("order").obj();
        j.key("id").str(o.id);
        j.key("currency").str(currency_code(st.currency));
        j.key("total_minor");
        if (money == 0) {
            j.decimal2(o.total);  // major units with decimals: 45.98
        } else if (money == 1) {
            tmp_.clear();
            append_int(tmp_, o.total);
            j.str(tmp_);  // a string
        } else {
            j.num(o.total);
        }
        j.key("tax_minor");
        if (money == 2)
            j.decimal2(o.tax);
        else
            j.num(o.tax);
        if (o.discount != 0) j.key("discount_minor").num(o.discount);
        j.key("status").str(is_refund ? (o.n == 1 && o.total < 0 ? "returned" : "refunded")
                                      : "paid");
        j.key("lines").arr();
        for (int k = 0; k < o.n; ++k) {
            const Product& pr = products[o.sku[static_cast<size_t>(k)]];
            j.obj().key("sku").str(pr.sku).key("name").str(pr.name);
            j.key("quantity").num(o.qty[static_cast<size_t>(k)]).key("price_minor");
            if (money == 3 && k == 0)
                j.decimal2(price_minor(pr, st.currency));
            else
                j.num(price_minor(pr, st.currency));
            j.end();
        }
        j.end();
        j.end();
        j.key("properties").obj();
        j.key("store").str(st.code);
        j.key("register").num(static_cast<int64_t>(1 + r.below(6)));
        j.key("channel").str("store");
        static const char* const kPayments[] = {"card", "card", "card", "cash", "mobile"};
        j.key("payment").str(r.pick(kPayments));
        j.end();
        j.end();
    }

    // A later record for the same order id: a full refund, or the return of one line.
    void refund(std::string& line, Slot& s, int64_t t) {
        Rng& r = s.rng;
        const Store& st = kStores[s.order.store];
        Order o = s.order;
        o.t = t;
        if (o.n > 1 && r.chance(0.3)) {
            const int k = static_cast<int>(r.below(static_cast<uint64_t>(o.n)));
            o.sku[0] = o.sku[static_cast<size_t>(k)];
            o.n = 1;
            const int64_t net = price_minor(catalog()[o.sku[0]], st.currency);
            o.qty[0] = -1;
            o.discount = 0;
            o.tax = st.tax_included ? mul_div_round(net, st.tax_e5, 100000 + st.tax_e5)
                                    : mul_div_round(net, st.tax_e5, 100000);
            o.total = -(st.tax_included ? net : net + o.tax);
            o.tax = -o.tax;
        } else {
            for (int k = 0; k < o.n; ++k)
                o.qty[static_cast<size_t>(k)] = -o.qty[static_cast<size_t>(k)];
            o.total = -o.total;
            o.tax = -o.tax;
            o.discount = -o.discount;
        }
        note(&SourceStats::refunds);
        const Person& p = s.person;
        write_order(line, r, o, true, Corrupt::none, [&](Json& j) {
            j.key("pos_customer_id").str(p.pos_customer_id);
            if (r.chance(0.2)) {
                j.key("email");
                put_email(j, p.emails[0], r);
            }
        });
    }

    std::array<Slot, kSlots> slots_;
    uint64_t orders_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Interleaves histories and extras (bad records, duplicates, walk-ins) into exactly `total`
// lines. A history is only started with a length that still fits, so none is cut short and every
// history contains the record that links its identifiers.
template <class Gen>
void run_source(Gen& g, const Config& cfg, SourceId id, uint64_t total, OutputFile& out,
                OutputFile& rejections, SourceStats& st) {
    Rng sched(hash_of(cfg.seed, kTagSchedule, static_cast<uint64_t>(id)));
    std::array<uint64_t, kSlots> left{};
    std::array<std::string, kRing> ring;
    size_t ring_n = 0, ring_at = 0;
    uint64_t emitted = 0, owed = 0;
    std::string line, rej;
    auto good = [&](RecType t) {
        out.line(line);
        ++emitted;
        ++st.good;
        ++st.by_type[static_cast<size_t>(t)];
        ring[ring_at] = line;
        ring_at = (ring_at + 1) % kRing;
        ring_n = std::min<size_t>(ring_n + 1, kRing);
    };
    while (emitted < total) {
        const uint64_t remaining = total - emitted;
        if (remaining > owed) {
            double x = sched.real();
            if (x < cfg.bad_rate) {
                const BadKind kind = g.pick_bad(sched);
                line.clear();
                g.set_counting(false);
                if (kind == BadKind::malformed_json) {
                    g.bad(Corrupt::none, sched, line);
                    // Cut the line short (not inside a UTF-8 sequence): never valid JSON.
                    size_t cut = 1 + sched.below(line.size() - 2);
                    while (cut > 1 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
                    line.resize(cut);
                } else {
                    g.bad(static_cast<Corrupt>(static_cast<int>(kind) + 1), sched, line);
                }
                g.set_counting(true);
                out.line(line);
                ++emitted;
                ++st.bad;
                ++st.bad_by_kind[static_cast<size_t>(kind)];
                rej.clear();
                Json j(rej);
                j.obj().key("line").num(static_cast<int64_t>(out.lines()));
                j.key("record_id").str(g.last_record_id());
                j.key("kind").str(bad_kind_name(kind)).key("reason").str(expected_reason(kind));
                j.end();
                rejections.line(rej);
                continue;
            }
            x -= cfg.bad_rate;
            if (x < cfg.duplicate_rate && ring_n > 0) {
                out.line(ring[sched.below(ring_n)]);
                ++emitted;
                ++st.duplicates;
                continue;
            }
            x -= cfg.duplicate_rate;
            line.clear();
            if (auto t = g.extra(x, sched, line)) {
                good(*t);
                continue;
            }
            for (size_t i = 0; i < kSlots && remaining > owed; ++i) {
                if (left[i] == 0) {
                    left[i] = g.start(static_cast<int>(i), remaining - owed);
                    owed += left[i];
                }
            }
        }
        size_t i = sched.below(kSlots);
        while (left[i] == 0) i = (i + 1) % kSlots;
        line.clear();
        const RecType t = g.next(static_cast<int>(i), line);
        --left[i];
        --owed;
        good(t);
    }
}

template <class Gen>
void run_one(const Config& cfg, const Population& pop, SourceId id, uint64_t total,
             const std::filesystem::path& dir, SourceStats& st) {
    const std::string name(source_name(id));
    OutputFile out(dir / (name + ".ndjson"));
    OutputFile rejections(dir / (name + ".expected-rejections.jsonl"));
    auto g = std::make_unique<Gen>(cfg, pop, id, st);
    run_source(*g, cfg, id, total, out, rejections, st);
    out.close();
    rejections.close();
    st.records = out.lines();
    st.bytes = out.bytes();
}

}  // namespace

Summary generate(const Config& cfg, const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    Summary sum;
    sum.planned = plan_counts(cfg);
    const Population pop(cfg);
    sum.people = pop.size();
    std::array<std::exception_ptr, kSources> errors;
    {
        std::vector<std::jthread> threads;
        for (int s = 0; s < kSources; ++s) {
            threads.emplace_back([&, s] {
                const auto id = static_cast<SourceId>(s);
                auto& st = sum.sources[static_cast<size_t>(s)];
                const uint64_t n = sum.planned[static_cast<size_t>(s)];
                try {
                    switch (id) {
                        case SourceId::crm:
                            run_one<CrmSource>(cfg, pop, id, n, dir, st);
                            break;
                        case SourceId::web:
                            run_one<WebSource>(cfg, pop, id, n, dir, st);
                            break;
                        case SourceId::pos:
                            run_one<PosSource>(cfg, pop, id, n, dir, st);
                            break;
                    }
                } catch (...) {
                    errors[static_cast<size_t>(s)] = std::current_exception();
                }
            });
        }
    }
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);

    // Who appears: person p is in source s if its history index there is below the number of
    // histories written. Each history has at least one record that links all its identifiers.
    std::array<Layout, kSources> layouts;
    for (int s = 0; s < kSources; ++s)
        layouts[static_cast<size_t>(s)] = make_layout(cfg, pop.size(), static_cast<SourceId>(s));
    auto sources_of = [&](uint64_t p) {
        int c = 0;
        for (size_t s = 0; s < kSources; ++s)
            if (layouts[s].history_of(p) < sum.sources[s].person_sessions) ++c;
        return c;
    };
    for (uint64_t p = 0; p < pop.size(); ++p) {
        const int c = sources_of(p);
        ++sum.people_by_source_count[static_cast<size_t>(c)];
        if (c > 0 && pop.recycler(p) && sources_of((p + 1) % pop.size()) > 0)
            ++sum.recycled_email_pairs;
    }
    sum.people_with_records = sum.people - sum.people_by_source_count[0];
    sum.visitor_devices = sum.sources[static_cast<size_t>(SourceId::web)].visitor_sessions;
    sum.expected_distinct_people = sum.people_with_records + sum.visitor_devices;
    return sum;
}

}  // namespace cdphub::gen

#include "simulators/vendors/salesforce_data.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace cdphub::sim::salesforce {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

constexpr std::array<const char*, 12> kFirst{"Ann", "Bob",   "Chloé", "Dev", "Eva", "Farid",
                                             "Gus", "Hanna", "Ines",  "Jon", "Kai", "Lena"};
constexpr std::array<const char*, 10> kLast{"Meyer", "Okafor", "Rossi",  "Tanaka", "Weber",
                                            "Silva", "Novak",  "Dubois", "Smith",  "O'Neil"};
constexpr std::array<const char*, 6> kCountry{"US", "DE", "France", "United Kingdom", "JP", "BR"};
constexpr std::array<const char*, 5> kIndustry{"Retail", "Banking", "Energy", "Media", "Biotech"};
constexpr std::array<const char*, 4> kLeadStatus{"Open - Not Contacted", "Working - Contacted",
                                                 "Closed - Converted", "Closed - Not Converted"};

template <class A>
const char* pick(const A& a, std::mt19937_64& rng) {
    return a[rng() % a.size()];
}

std::string phone(std::mt19937_64& rng) {
    char buf[32];
    const auto n = static_cast<int>(rng() % 10000);
    // The spellings CRM users type: E.164, US national, with extension-less punctuation.
    if (rng() % 2 == 0)
        std::snprintf(buf, sizeof buf, "+1 415 555 %04d", n);
    else
        std::snprintf(buf, sizeof buf, "(212) 555-%04d", n);
    return buf;
}

}  // namespace

const FieldDef* ObjectDef::field(std::string_view n) const {
    for (const auto& f : fields)
        if (iequals(f.name, n)) return &f;
    return nullptr;
}

const std::vector<ObjectDef>& object_defs() {
    static const std::vector<ObjectDef> defs = [] {
        const std::vector<FieldDef> system{{"Id", "id"},
                                           {"IsDeleted", "boolean"},
                                           {"MasterRecordId", "reference"},
                                           {"CreatedDate", "datetime"},
                                           {"LastModifiedDate", "datetime"},
                                           {"SystemModstamp", "datetime"}};
        auto with = [&](std::vector<FieldDef> own) {
            own.insert(own.begin(), system.begin(), system.end());
            return own;
        };
        return std::vector<ObjectDef>{
            {"Contact", "003",
             with({{"AccountId", "reference", "Account"},
                   {"FirstName", "string"},
                   {"LastName", "string"},
                   {"Email", "email"},
                   {"Phone", "phone"},
                   {"MailingCity", "string"},
                   {"MailingCountry", "string"},
                   {"Title", "string"}})},
            {"Lead", "00Q",
             with({{"FirstName", "string"},
                   {"LastName", "string"},
                   {"Email", "email"},
                   {"Phone", "phone"},
                   {"Company", "string"},
                   {"Country", "string"},
                   {"Status", "picklist"}})},
            {"Account", "001",
             with({{"Name", "string"},
                   {"Industry", "picklist"},
                   {"BillingCountry", "string"},
                   {"Phone", "phone"}})},
        };
    }();
    return defs;
}

const ObjectDef* object_def(std::string_view name) {
    for (const auto& d : object_defs())
        if (iequals(d.name, name)) return &d;
    return nullptr;
}

std::string make_id(std::string_view key_prefix, std::uint64_t n) {
    static constexpr char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id(key_prefix);
    id += "Dn0";  // pod and reserved characters
    std::string digits(9, '0');
    for (int i = 8; i >= 0 && n > 0; --i, n /= 62)
        digits[static_cast<std::size_t>(i)] = b62[n % 62];
    id += digits;
    static constexpr char check[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    for (int chunk = 0; chunk < 3; ++chunk) {
        int bits = 0;
        for (int i = 0; i < 5; ++i) {
            const char c = id[static_cast<std::size_t>(chunk * 5 + i)];
            if (c >= 'A' && c <= 'Z') bits |= 1 << i;
        }
        id += check[bits];
    }
    return id;
}

std::string format_datetime(std::int64_t secs) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];  // room for any int, so -O2 sees no possible truncation
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.000+0000", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::optional<std::int64_t> parse_soql_datetime(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (s.size() < 20 || std::sscanf(std::string(s.substr(0, 19)).c_str(),
                                     "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
        return std::nullopt;
    std::size_t i = 19;
    int ms = 0;
    if (s[i] == '.') {
        if (s.size() < i + 4) return std::nullopt;
        ms = std::atoi(std::string(s.substr(i + 1, 3)).c_str());
        i += 4;
    }
    int offset_min = 0;
    const auto rest = s.substr(i);
    if (rest == "Z") {
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        const int oh = std::atoi(std::string(rest.substr(1, 2)).c_str());
        const int om = std::atoi(std::string(rest.substr(4, 2)).c_str());
        offset_min = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
        return std::nullopt;  // no offset, or "+0000" (only responses spell it that way)
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const std::int64_t epoch = static_cast<std::int64_t>(timegm(&tm)) - offset_min * 60;
    return epoch * 1000 + ms;
}

std::int64_t datetime_seconds(std::string_view s) {
    std::tm tm{};
    int y = 0, mo = 0, d = 0;
    std::sscanf(std::string(s.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d,
                &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::vector<json> seed_rows(const ObjectDef& def, std::size_t count, std::mt19937_64& rng,
                            std::int64_t base, std::int64_t spread, double deleted_share,
                            const std::vector<std::string>& account_ids) {
    std::vector<json> rows;
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    for (std::size_t i = 0; i < count; ++i) {
        // Ids are issued in creation order, stamps are not: the two orders differ, as in an
        // org where old rows get edited.
        const auto stamp =
            base + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(spread));
        json r = json::object();
        r["Id"] = make_id(def.key_prefix, i + 1);
        r["IsDeleted"] = false;
        r["MasterRecordId"] = nullptr;
        r["CreatedDate"] = format_datetime(stamp - static_cast<std::int64_t>(rng() % 86400));
        const std::string first = pick(kFirst, rng), last = pick(kLast, rng);
        if (def.name == "Account") {
            r["Name"] = last + " " + pick(kIndustry, rng) + " " + std::to_string(i + 1);
            r["Industry"] = coin(rng) < 0.8 ? json(pick(kIndustry, rng)) : json(nullptr);
            r["BillingCountry"] = pick(kCountry, rng);
            r["Phone"] = phone(rng);
        } else {
            r["FirstName"] = first;
            r["LastName"] = last;
            // Most people have an email, in the case people type it; some have none.
            r["Email"] =
                coin(rng) < 0.9
                    ? json(first.substr(0, 1) + "." + last + std::to_string(i) + "@Example.com")
                    : json(nullptr);
            r["Phone"] = coin(rng) < 0.7 ? json(phone(rng)) : json(nullptr);
            if (def.name == "Contact") {
                r["AccountId"] = account_ids.empty()
                                     ? json(nullptr)
                                     : json(account_ids[rng() % account_ids.size()]);
                r["MailingCity"] = coin(rng) < 0.5 ? json("Springfield") : json(nullptr);
                r["MailingCountry"] = pick(kCountry, rng);
                r["Title"] = coin(rng) < 0.5 ? json("Buyer") : json(nullptr);
            } else {
                r["Company"] = last + " Ltd";
                r["Country"] = pick(kCountry, rng);
                r["Status"] = pick(kLeadStatus, rng);
            }
        }
        r["LastModifiedDate"] = format_datetime(stamp);
        r["SystemModstamp"] = format_datetime(stamp);
        if (coin(rng) < deleted_share) r["IsDeleted"] = true;
        rows.push_back(std::move(r));
    }
    return rows;
}

void change_row(const ObjectDef& def, json& row, std::mt19937_64& rng) {
    const auto n = std::to_string(rng() % 100000);
    if (def.name == "Account") {
        row["Industry"] = pick(kIndustry, rng);
        row["Phone"] = phone(rng);
        return;
    }
    switch (rng() % 3) {
        case 0:
            row["LastName"] = std::string(pick(kLast, rng)) + "-" + n;
            break;
        case 1:
            row["Phone"] = phone(rng);
            break;
        default:
            row["Email"] = "moved." + n + "@example.org";
            break;
    }
    if (def.name == "Lead") row["Status"] = pick(kLeadStatus, rng);
}

}  // namespace cdphub::sim::salesforce

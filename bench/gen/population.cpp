#include "population.hpp"

#include <array>

#include "json_out.hpp"

namespace cdphub::gen {

const char* const kPlans[4] = {"free", "basic", "pro", "enterprise"};
const char* const kPlaceholders[6] = {"null", "anonymous",     "0000",
                                      "n/a",  "test@test.com", "undefined"};

namespace {

// clang-format off
const Name kUsFirst[] = {
    {"James", "james"}, {"Mary", "mary"}, {"Robert", "robert"}, {"Patricia", "patricia"},
    {"John", "john"}, {"Jennifer", "jennifer"}, {"Michael", "michael"}, {"Linda", "linda"},
    {"David", "david"}, {"Elizabeth", "elizabeth"}, {"William", "william"}, {"Barbara", "barbara"},
    {"Richard", "richard"}, {"Susan", "susan"}, {"Joseph", "joseph"}, {"Jessica", "jessica"},
    {"Thomas", "thomas"}, {"Sarah", "sarah"}, {"Christopher", "christopher"}, {"Karen", "karen"},
    {"Daniel", "daniel"}, {"Emily", "emily"}, {"Matthew", "matthew"}, {"Ashley", "ashley"},
    {"Anthony", "anthony"}, {"Olivia", "olivia"}, {"José", "jose"}, {"María", "maria"},
    {"Wei", "wei"}, {"Priya", "priya"}, {"DeShawn", "deshawn"}, {"Mei-Ling", "meiling"}};
const Name kUsLast[] = {
    {"Smith", "smith"}, {"Johnson", "johnson"}, {"Williams", "williams"}, {"Brown", "brown"},
    {"Jones", "jones"}, {"Garcia", "garcia"}, {"Miller", "miller"}, {"Davis", "davis"},
    {"Rodriguez", "rodriguez"}, {"Martinez", "martinez"}, {"Hernández", "hernandez"},
    {"Lopez", "lopez"}, {"Wilson", "wilson"}, {"Anderson", "anderson"}, {"Taylor", "taylor"},
    {"Moore", "moore"}, {"Jackson", "jackson"}, {"Lee", "lee"}, {"Pérez", "perez"},
    {"Thompson", "thompson"}, {"White", "white"}, {"Harris", "harris"}, {"Nguyen", "nguyen"},
    {"Kim", "kim"}, {"Patel", "patel"}, {"O'Brien", "obrien"}, {"Washington", "washington"},
    {"Chen", "chen"}};
const Name kDeFirst[] = {
    {"Jürgen", "juergen"}, {"Anna", "anna"}, {"Lukas", "lukas"}, {"Sophie", "sophie"},
    {"Maximilian", "maximilian"}, {"Marie", "marie"}, {"Felix", "felix"}, {"Lena", "lena"},
    {"Jonas", "jonas"}, {"Laura", "laura"}, {"Björn", "bjoern"}, {"Katharina", "katharina"},
    {"Stefan", "stefan"}, {"Julia", "julia"}, {"Thomas", "thomas"}, {"Sabine", "sabine"},
    {"Andreas", "andreas"}, {"Claudia", "claudia"}, {"Jörg", "joerg"}, {"Petra", "petra"},
    {"Uwe", "uwe"}, {"Mia", "mia"}, {"Leon", "leon"}, {"Hannah", "hannah"}, {"Özlem", "oezlem"},
    {"Paul", "paul"}, {"Emma", "emma"}, {"Käthe", "kaethe"}};
const Name kDeLast[] = {
    {"Müller", "mueller"}, {"Schmidt", "schmidt"}, {"Schneider", "schneider"},
    {"Fischer", "fischer"}, {"Weber", "weber"}, {"Meyer", "meyer"}, {"Wagner", "wagner"},
    {"Becker", "becker"}, {"Schulz", "schulz"}, {"Hoffmann", "hoffmann"}, {"Schäfer", "schaefer"},
    {"Koch", "koch"}, {"Bauer", "bauer"}, {"Richter", "richter"}, {"Klein", "klein"},
    {"Wolf", "wolf"}, {"Schröder", "schroeder"}, {"Neumann", "neumann"}, {"Schwarz", "schwarz"},
    {"Zimmermann", "zimmermann"}, {"Braun", "braun"}, {"Krüger", "krueger"},
    {"Hartmann", "hartmann"}, {"Lange", "lange"}, {"Weiß", "weiss"}, {"Jäger", "jaeger"},
    {"Groß", "gross"}, {"Yılmaz", "yilmaz"}};
const Name kGbFirst[] = {
    {"Oliver", "oliver"}, {"Amelia", "amelia"}, {"George", "george"}, {"Isla", "isla"},
    {"Harry", "harry"}, {"Ava", "ava"}, {"Jack", "jack"}, {"Mia", "mia"}, {"Charlie", "charlie"},
    {"Ivy", "ivy"}, {"Noah", "noah"}, {"Lily", "lily"}, {"Thomas", "thomas"}, {"Emily", "emily"},
    {"James", "james"}, {"Grace", "grace"}, {"William", "william"}, {"Sophie", "sophie"},
    {"Siobhan", "siobhan"}, {"Rhys", "rhys"}, {"Niamh", "niamh"}, {"Callum", "callum"},
    {"Freya", "freya"}, {"Arthur", "arthur"}, {"Zoë", "zoe"}, {"Aaliyah", "aaliyah"}};
const Name kGbLast[] = {
    {"Smith", "smith"}, {"Jones", "jones"}, {"Taylor", "taylor"}, {"Brown", "brown"},
    {"Williams", "williams"}, {"Wilson", "wilson"}, {"Davies", "davies"}, {"Patel", "patel"},
    {"Robinson", "robinson"}, {"Wright", "wright"}, {"Thompson", "thompson"}, {"Evans", "evans"},
    {"Walker", "walker"}, {"White", "white"}, {"Roberts", "roberts"}, {"Green", "green"},
    {"Hall", "hall"}, {"Clarke", "clarke"}, {"Jackson", "jackson"}, {"Wood", "wood"},
    {"Harris", "harris"}, {"Edwards", "edwards"}, {"Hughes", "hughes"},
    {"O'Connor", "oconnor"}, {"MacDonald", "macdonald"}, {"Khan", "khan"}};
const Name kFrFirst[] = {
    {"Chloé", "chloe"}, {"Léa", "lea"}, {"Manon", "manon"}, {"Camille", "camille"},
    {"Hélène", "helene"}, {"François", "francois"}, {"Jérôme", "jerome"}, {"Louis", "louis"},
    {"Gabriel", "gabriel"}, {"Jules", "jules"}, {"Hugo", "hugo"}, {"Lucas", "lucas"},
    {"Emma", "emma"}, {"Inès", "ines"}, {"Zoé", "zoe"}, {"Théo", "theo"},
    {"Nathalie", "nathalie"}, {"Isabelle", "isabelle"}, {"Sébastien", "sebastien"},
    {"Élodie", "elodie"}, {"Amélie", "amelie"}, {"Antoine", "antoine"}, {"Julien", "julien"},
    {"Céline", "celine"}, {"Anaïs", "anais"}, {"Noël", "noel"}};
const Name kFrLast[] = {
    {"Martin", "martin"}, {"Bernard", "bernard"}, {"Dubois", "dubois"}, {"Thomas", "thomas"},
    {"Robert", "robert"}, {"Richard", "richard"}, {"Petit", "petit"}, {"Durand", "durand"},
    {"Leroy", "leroy"}, {"Moreau", "moreau"}, {"Simon", "simon"}, {"Laurent", "laurent"},
    {"Lefèvre", "lefevre"}, {"Michel", "michel"}, {"Garcia", "garcia"}, {"Bertrand", "bertrand"},
    {"Roux", "roux"}, {"Vincent", "vincent"}, {"Fournier", "fournier"}, {"Morel", "morel"},
    {"Girard", "girard"}, {"André", "andre"}, {"Mercier", "mercier"}, {"Dupont", "dupont"},
    {"Lambert", "lambert"}, {"Bonnet", "bonnet"}, {"Fontaine", "fontaine"},
    {"Benoît", "benoit"}};

const char* const kUsDomains[] = {"gmail.com", "yahoo.com", "outlook.com", "icloud.com",
                                  "hotmail.com", "aol.com", "comcast.net"};
const char* const kDeDomains[] = {"gmail.com", "web.de", "gmx.de", "t-online.de",
                                  "gmx.net", "outlook.de", "posteo.de"};
const char* const kGbDomains[] = {"gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk",
                                  "outlook.com", "sky.com", "icloud.com"};
const char* const kFrDomains[] = {"gmail.com", "orange.fr", "free.fr", "laposte.net",
                                  "sfr.fr", "hotmail.fr", "wanadoo.fr"};

const char* const kUsCities[] = {"New York", "Boston", "Atlanta", "Miami",
                                 "San Francisco", "Seattle", "Los Angeles", "Portland"};
const char* const kDeCities[] = {"Berlin", "Potsdam", "Leipzig", "Dresden",
                                 "München", "Nürnberg", "Augsburg", "Köln"};
const char* const kGbCities[] = {"London", "Manchester", "Birmingham", "Leeds",
                                 "Bristol", "Edinburgh", "Cardiff", "Glasgow"};
const char* const kFrCities[] = {"Paris", "Lyon", "Marseille", "Toulouse",
                                 "Nice", "Nantes", "Strasbourg", "Lille"};

// Phone numbers: a national significant number is a prefix (area code or mobile range) and a
// subscriber part. All combinations below are valid for libphonenumber (strict validation).
const char* const kUsAreas[16] = {"212", "213", "206", "305", "312", "404", "415", "503",
                                  "512", "617", "650", "702", "718", "202", "214", "303"};
const char* const kDePrefixes[8] = {"30", "40", "89", "69", "221", "151", "160", "176"};
const char* const kGbPrefixes[8] = {"203", "207", "208", "161", "131", "740", "780", "752"};
const char* const kFrPrefixes[8] = {"14", "15", "16", "42", "47", "61", "66", "67"};
// clang-format on

template <class T, size_t N>
constexpr size_t count_of(const T (&)[N]) {
    return N;
}

// US exchange codes: 200-999 without N11 service codes and the fictional 555.
const std::vector<uint16_t>& us_exchanges() {
    static const std::vector<uint16_t> v = [] {
        std::vector<uint16_t> e;
        for (uint16_t x = 200; x <= 999; ++x)
            if (x % 100 != 11 && x != 555) e.push_back(x);
        return e;
    }();
    return v;
}

uint64_t pow10_at_least(uint64_t n) {
    uint64_t m = 10;
    while (m < n) m *= 10;
    return m;
}

void append_base62(std::string& o, uint64_t v, int width) {
    static constexpr char kDigits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char buf[16];
    for (int i = width - 1; i >= 0; --i) {
        buf[i] = kDigits[v % 62];
        v /= 62;
    }
    o.append(buf, static_cast<size_t>(width));
}

std::string email_address(const Name& first, const Name& last, int style, uint64_t number,
                          const char* domain) {
    std::string s;
    const std::string_view f = first.ascii, l = last.ascii;
    switch (style) {
        case 0:
            s.append(f).append(".").append(l);
            break;
        case 1:
            s.append(f).append(l);
            break;
        case 2:
            s.append(f.substr(0, 1)).append(l);
            break;
        case 3:
            s.append(f).append("_").append(l);
            break;
        case 4:
            s.append(l).append(".").append(f);
            break;
        default:
            s.append(f).append(".");
            break;
    }
    // The number is unique per person, and names have no digits, so addresses never collide.
    append_int(s, static_cast<int64_t>(number));
    s += '@';
    s += domain;
    return s;
}

std::string phone_number(Country c, uint64_t v) {
    std::string s;
    switch (c) {
        case Country::US: {
            const uint64_t rest = v / 16;
            s = kUsAreas[v % 16];
            append_int(s, us_exchanges()[rest / 10000]);
            append_padded(s, rest % 10000, 4);
            break;
        }
        case Country::DE: {
            const uint64_t rest = v / 8;
            s = kDePrefixes[v % 8];
            s += static_cast<char>('2' + rest % 8);
            append_padded(s, rest / 8, 7);
            break;
        }
        case Country::GB:
            s = kGbPrefixes[v % 8];
            append_padded(s, v / 8, 7);
            break;
        case Country::FR:
            s = kFrPrefixes[v % 8];
            append_padded(s, v / 8, 7);
            break;
    }
    return s;
}

}  // namespace

std::string_view country_code(Country c) {
    static constexpr std::string_view kCodes[] = {"US", "DE", "GB", "FR"};
    return kCodes[static_cast<int>(c)];
}

std::string_view city_name(Country c, int city) {
    switch (c) {
        case Country::US:
            return kUsCities[city];
        case Country::DE:
            return kDeCities[city];
        case Country::GB:
            return kGbCities[city];
        case Country::FR:
            return kFrCities[city];
    }
    return "";
}

Population::Population(const Config& cfg)
    : cfg_(cfg),
      n_(cfg.people == 0 ? 1 : cfg.people),
      email_num_(pow10_at_least(n_ * 10), hash_of(cfg.seed, kTagNumbers, 1)),
      phone_num_(uint64_t{1} << 26, hash_of(cfg.seed, kTagNumbers, 2)),
      user_num_(pow10_at_least(n_ * 10), hash_of(cfg.seed, kTagNumbers, 3)),
      crm_num_(uint64_t{1} << 40, hash_of(cfg.seed, kTagNumbers, 4)),
      pos_num_(1'000'000'000, hash_of(cfg.seed, kTagNumbers, 5)),
      user_base_(pow10_at_least(n_ * 10)),
      device_key_(hash_of(cfg.seed, kTagDevice, 0)) {}

bool Population::recycle_flag(uint64_t p) const {
    return Rng(hash_of(cfg_.seed, kTagRecycle, p)).chance(cfg_.recycled_email_rate);
}

// Recycler p takes over the primary email of p + 1, which stopped using it at recycle_time(p).
// Neighbours are excluded so that nobody is both recycler and donor.
bool Population::recycler(uint64_t p) const {
    if (n_ < 3 || cfg_.recycled_email_rate <= 0) return false;
    return recycle_flag(p) && !recycle_flag((p + n_ - 1) % n_) && !recycle_flag((p + 1) % n_);
}

int64_t Population::recycle_time(uint64_t p) const {
    Rng r(hash_of(cfg_.seed, kTagRecycle, p) ^ 0x77);
    return cfg_.window_start() +
           static_cast<int64_t>((0.3 + 0.4 * r.real()) * static_cast<double>(cfg_.span_ms));
}

Person Population::base(uint64_t p) const {
    Rng r(hash_of(cfg_.seed, kTagPerson, p));
    Person x;
    x.index = p;
    const double c = r.real();
    x.country = c < 0.40   ? Country::US
                : c < 0.65 ? Country::DE
                : c < 0.85 ? Country::GB
                           : Country::FR;
    const char* const* domains = kUsDomains;
    size_t ndomains = count_of(kUsDomains);
    switch (x.country) {
        case Country::US:
            x.first = &r.pick(kUsFirst);
            x.last = &r.pick(kUsLast);
            break;
        case Country::DE:
            x.first = &r.pick(kDeFirst);
            x.last = &r.pick(kDeLast);
            domains = kDeDomains;
            ndomains = count_of(kDeDomains);
            break;
        case Country::GB:
            x.first = &r.pick(kGbFirst);
            x.last = &r.pick(kGbLast);
            domains = kGbDomains;
            ndomains = count_of(kGbDomains);
            break;
        case Country::FR:
            x.first = &r.pick(kFrFirst);
            x.last = &r.pick(kFrLast);
            domains = kFrDomains;
            ndomains = count_of(kFrDomains);
            break;
    }
    x.email_count = r.chance(cfg_.second_email_rate) ? 2 : 1;
    const uint64_t number = email_num_(p);
    const uint64_t d0 = r.below(ndomains);
    x.emails[0] =
        email_address(*x.first, *x.last, static_cast<int>(r.below(6)), number, domains[d0]);
    if (x.email_count == 2) {
        const uint64_t d1 = (d0 + 1 + r.below(ndomains - 1)) % ndomains;
        x.emails[1] =
            email_address(*x.first, *x.last, static_cast<int>(r.below(6)), number, domains[d1]);
    }
    if (r.chance(0.6)) x.phone = phone_number(x.country, phone_num_(p));
    x.user_id = std::to_string(user_base_ + user_num_(p));
    x.crm_id = "0035e000";
    append_base62(x.crm_id, crm_num_(p), 7);
    x.crm_id += "AAS";
    x.pos_customer_id = "C";
    append_padded(x.pos_customer_id, pos_num_(p), 9);
    const double d = r.real();
    x.devices = d < 0.55 ? 1 : d < 0.85 ? 2 : 3;
    const double pl = r.real();
    x.plan = pl < 0.50 ? 0 : pl < 0.75 ? 1 : pl < 0.93 ? 2 : 3;
    x.city = static_cast<int>(r.below(8));
    x.region = x.city / 4;
    static constexpr int kEngagement[] = {1, 1, 1, 1, 2, 2, 3, 4, 8};
    x.engagement = r.pick(kEngagement);
    x.ltv_cents = r.between(0, 40000) * (x.plan + 1) + r.between(0, 99);
    x.sharer = n_ >= 3 && r.chance(cfg_.shared_device_rate);
    x.partner = (p + 1) % n_;
    x.lo_ms = cfg_.window_start() +
              static_cast<int64_t>(r.real() * 0.85 * static_cast<double>(cfg_.span_ms));
    x.hi_ms = cfg_.window_end();
    return x;
}

Person Population::person(uint64_t p) const {
    Person x = base(p);
    if (recycler(p)) {
        // A new customer who got an address that the previous owner (p + 1) gave up.
        x.recycler = true;
        x.emails[0] = base(x.partner).emails[0];
        x.lo_ms = recycle_time(p);
    } else if (n_ >= 3 && recycler((p + n_ - 1) % n_)) {
        // The previous owner: active only before the address moved on.
        x.donor = true;
        const int64_t t = recycle_time((p + n_ - 1) % n_);
        Rng r(hash_of(cfg_.seed, kTagRecycle, p) ^ 0x99);
        x.lo_ms =
            cfg_.window_start() +
            static_cast<int64_t>(r.real() * 0.5 * static_cast<double>(t - cfg_.window_start()));
        x.hi_ms = t;
    }
    return x;
}

void Population::append_uuid(std::string& o, uint64_t x, uint64_t key) {
    static constexpr char kHex[] = "0123456789abcdef";
    const uint64_t hi = mix64(x ^ key);  // a bijection of x: distinct x give distinct ids
    const uint64_t lo = mix64(hi + 0x632be59bd9b4e019ULL);
    char b[36];
    auto put = [&](int at, uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            b[at + i] = kHex[v & 15];
            v >>= 4;
        }
    };
    put(0, hi >> 32, 8);
    b[8] = '-';
    put(9, (hi >> 16) & 0xffff, 4);
    b[13] = '-';
    b[14] = '4';
    put(15, (hi >> 4) & 0xfff, 3);
    b[18] = '-';
    b[19] = kHex[8 | ((hi >> 2) & 3)];
    put(20, ((hi & 3) << 10) | (lo & 0x3ff), 3);
    b[23] = '-';
    put(24, lo >> 16, 12);
    o.append(b, 36);
}

void Population::append_device_id(std::string& o, uint64_t p, int dev) const {
    append_uuid(o, (p << 2) | static_cast<uint64_t>(dev), device_key_);
}

void Population::append_visitor_device_id(std::string& o, uint64_t source_visitor) const {
    append_uuid(o, (uint64_t{1} << 62) | source_visitor, device_key_);
}

void render_email(std::string& o, std::string_view email, Rng& r) {
    const double v = r.real();
    if (v < 0.72) {
        o.append(email);
    } else if (v < 0.84) {
        // Ann.Smith42@Gmail.com: capital after every separator.
        bool up = true;
        for (char ch : email) {
            const bool letter = ch >= 'a' && ch <= 'z';
            o += static_cast<char>(up && letter ? ch - 32 : ch);
            up = !letter && !(ch >= '0' && ch <= '9');
        }
    } else if (v < 0.88) {
        for (char ch : email) o += static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    } else if (v < 0.93) {
        o += ' ';
        o.append(email);
    } else if (v < 0.97) {
        o.append(email);
        o += ' ';
    } else if (v < 0.99) {
        o.append(email);
        o += '\t';
    } else {
        o += "  ";
        o.append(email);
        o += "\n";
    }
}

void render_phone(std::string& o, Country c, std::string_view n, Rng& r) {
    auto sub = [&](size_t at, size_t len) { return n.substr(at, len); };
    switch (c) {
        case Country::US: {
            const auto a = sub(0, 3), e = sub(3, 3), l = sub(6, 4);
            switch (r.below(10)) {
                case 0:
                    o.append("(").append(a).append(") ").append(e).append("-").append(l);
                    break;
                case 1:
                    o.append(a).append("-").append(e).append("-").append(l);
                    break;
                case 2:
                    o.append(a).append(".").append(e).append(".").append(l);
                    break;
                case 3:
                    o.append("+1 ").append(a).append(" ").append(e).append(" ").append(l);
                    break;
                case 4:
                    o.append("+1-").append(a).append("-").append(e).append("-").append(l);
                    break;
                case 5:
                    o.append("1 (").append(a).append(") ").append(e).append("-").append(l);
                    break;
                case 6:
                    o.append(n);
                    break;
                case 7:
                    o.append("+1").append(n);
                    break;
                case 8:
                    o.append("+1 (").append(a).append(") ").append(e).append("-").append(l);
                    break;
                default:
                    o.append("1-").append(a).append("-").append(e).append("-").append(l);
            }
            break;
        }
        case Country::DE: {
            // Area code or mobile prefix: 2 digits (30, 40, 89, 69) or 3 (221, 151, 160, 176).
            const size_t pl = n.size() == 10 ? 2 : 3;
            const auto p = sub(0, pl), s = sub(pl, std::string_view::npos);
            switch (r.below(5)) {
                case 0:
                    o.append("+49 ").append(p).append(" ").append(s);
                    break;
                case 1:
                    o.append("+49 (0)").append(p).append(" ").append(s);
                    break;
                case 2:
                    o.append("+49-").append(p).append("-").append(s);
                    break;
                case 3:
                    o.append("+49").append(n);
                    break;
                default:
                    o.append("+49 ").append(p).append(" ").append(s.substr(0, 4)).append(" ");
                    o.append(s.substr(4));
            }
            break;
        }
        case Country::GB: {
            // London 20 xxxx xxxx, Manchester 161 / Edinburgh 131 xxx xxxx, mobiles 7xxx xxxxxx.
            std::string g;
            if (n.substr(0, 2) == "20")
                g.append(sub(0, 2)).append(" ").append(sub(2, 4)).append(" ").append(sub(6, 4));
            else if (n[0] == '7')
                g.append(sub(0, 4)).append(" ").append(sub(4, 6));
            else
                g.append(sub(0, 3)).append(" ").append(sub(3, 3)).append(" ").append(sub(6, 4));
            switch (r.below(3)) {
                case 0:
                    o.append("+44 ").append(g);
                    break;
                case 1:
                    o.append("+44 (0)").append(g);
                    break;
                default:
                    o.append("+44").append(n);
            }
            break;
        }
        case Country::FR: {
            auto grouped = [&](char sep) {
                o += n[0];
                for (size_t i = 1; i < 9; i += 2) {
                    o += sep;
                    o.append(sub(i, 2));
                }
            };
            switch (r.below(4)) {
                case 0:
                    o.append("+33 ");
                    grouped(' ');
                    break;
                case 1:
                    o.append("+33 (0)");
                    grouped(' ');
                    break;
                case 2:
                    o.append("+33").append(n);
                    break;
                default:
                    o.append("+33 ");
                    grouped('.');
            }
            break;
        }
    }
}

int utc_offset_minutes(Country c, int region, int64_t ms) {
    const int month = civil_from_ms(ms).month;
    const bool summer = month >= 4 && month <= 10;
    switch (c) {
        case Country::US:
            return (region == 0 ? -300 : -480) + (summer ? 60 : 0);
        case Country::DE:
        case Country::FR:
            return summer ? 120 : 60;
        case Country::GB:
            return summer ? 60 : 0;
    }
    return 0;
}

std::string_view currency_code(Currency c) {
    static constexpr std::string_view kCodes[] = {"EUR", "USD", "GBP", "JPY"};
    return kCodes[static_cast<int>(c)];
}

Currency home_currency(Country c) {
    switch (c) {
        case Country::US:
            return Currency::USD;
        case Country::GB:
            return Currency::GBP;
        default:
            return Currency::EUR;
    }
}

const std::vector<Product>& catalog() {
    static const std::vector<Product> products = [] {
        struct Category {
            std::string_view name;
            std::array<const char*, 6> nouns;
        };
        static const Category kCategories[] = {
            {"tea", {"Green Tea", "Earl Grey", "Chai Blend", "Sencha", "Rooibos", "Matcha"}},
            {"coffee",
             {"Espresso Beans", "Filter Coffee", "Cold Brew", "Decaf", "Moka Pot", "Grinder"}},
            {"kitchen", {"Teapot", "Mug", "Kettle", "Tea Towel", "Cutting Board", "Spice Jar"}},
            {"apparel", {"T-Shirt", "Hoodie", "Cap", "Apron", "Socks", "Tote Bag"}},
            {"books",
             {"Tea Atlas", "Brewing Guide", "Cookbook", "Notebook", "Calendar", "Journal"}},
            {"home", {"Candle", "Blanket", "Cushion", "Vase", "Lamp", "Coasters"}}};
        static const char* const kAdjectives[] = {"Organic", "Classic", "Premium", "Everyday",
                                                  "Limited", "Nordic",  "Café",    "Smoky"};
        std::vector<Product> v;
        for (int i = 0; i < 240; ++i) {
            const auto& cat = kCategories[i % 6];
            Product p;
            p.sku = "SKU-";
            append_int(p.sku, 10000 + (i * 7919) % 90000);
            p.name = std::string(kAdjectives[(i / 6) % 8]) + " " + cat.nouns[(i / 48) % 6];
            p.category = cat.name;
            p.eur_minor = 299 + static_cast<int64_t>(mix64(static_cast<uint64_t>(i)) % 120) * 100;
            v.push_back(std::move(p));
        }
        return v;
    }();
    return products;
}

int64_t price_minor(const Product& p, Currency c) {
    switch (c) {
        case Currency::EUR:
            return p.eur_minor;
        case Currency::USD:
            return p.eur_minor * 108 / 100 / 100 * 100 + 99;
        case Currency::GBP:
            return p.eur_minor * 86 / 100 / 100 * 100 + 49;
        case Currency::JPY:
            return (p.eur_minor * 16 + 50) / 100 * 10;  // 1 EUR ~ 160 yen
    }
    return p.eur_minor;
}

}  // namespace cdphub::gen

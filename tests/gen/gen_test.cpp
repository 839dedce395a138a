// Runs cdphub-gen (bench/gen) for a small data set and checks what it promises: identical bytes
// for a seed, counts that match manifest.json, every good line accepted by the real normalizer
// and every bad one rejected for the announced reason, integer money, and the identity cases
// (shared devices, placeholders, recycled emails) with the announced number of distinct people.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "normalize/normalizer.hpp"
#include "normalize/time.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace nz = cdphub::normalize;

const std::vector<std::string> kSources = {"crm", "web", "pos"};
const std::set<std::string> kPlaceholders = {"null", "anonymous",     "0000",
                                             "n/a",  "test@test.com", "undefined"};

int run_gen(const std::string& args) {
    const std::string cmd = std::string(CDPHUB_GEN_EXE) + " --quiet " + args + " >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const fs::path& p) {
    std::vector<std::string> out;
    std::ifstream f(p, std::ios::binary);
    for (std::string line; std::getline(f, line);) out.push_back(line);
    return out;
}

std::string lower_trimmed(const std::string& s) {
    std::string t(nz::trim(s));
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
}

// One generated data set, read back and normalized.
struct DataSet {
    explicit DataSet(const std::string& args) {
        status = run_gen("--out " + dir.path().string() + " " + args);
        if (status != 0) return;
        manifest = json::parse(slurp(dir.path() / "manifest.json"));
        auto now = nz::parse_rfc3339(manifest["now"].get<std::string>());
        received_at = std::get<nz::Timestamp>(now);
        const nz::Normalizer normalizer;
        for (const auto& s : kSources) {
            Source& src = sources[s];
            src.lines = lines_of(dir.path() / (s + ".ndjson"));
            for (const auto& l : lines_of(dir.path() / (s + ".expected-rejections.jsonl"))) {
                auto j = json::parse(l);
                src.rejections[j["line"].get<size_t>()] = j;
            }
            for (const auto& line : src.lines) {
                Line out;
                out.raw = json::parse(line, nullptr, false);
                if (!out.raw.is_discarded())
                    out.result =
                        std::make_unique<nz::Result>(normalizer.normalize(out.raw, s, received_at));
                src.parsed.push_back(std::move(out));
            }
        }
    }

    struct Line {
        json raw;  // discarded if not JSON
        std::unique_ptr<nz::Result> result;
        bool good() const { return result && result->ok(); }
    };
    struct Source {
        std::vector<std::string> lines;
        std::vector<Line> parsed;
        std::map<size_t, json> rejections;  // by 1-based line number
    };

    test::TempDir dir;
    int status = -1;
    json manifest;
    nz::Timestamp received_at{};
    std::map<std::string, Source> sources;
};

// Distinct people as a careful resolver finds them: identifiers in a record belong together,
// placeholder values link nothing, and a device seen with two user ids links nobody.
uint64_t reference_people(const DataSet& d) {
    auto usable = [](const nz::Identifier& id) { return !kPlaceholders.count(id.value); };
    auto ids_of = [&](const nz::NormalizedRecord& r) {
        std::vector<std::string> ids;
        for (const auto& id : r.identifiers)
            if (usable(id)) ids.push_back(id.type + ":" + id.value);
        if (r.alias && usable(r.alias->previous_id))
            ids.push_back(r.alias->previous_id.type + ":" + r.alias->previous_id.value);
        return ids;
    };
    std::unordered_map<std::string, std::set<std::string>> users_of_device;
    for (const auto& [name, src] : d.sources)
        for (const auto& l : src.parsed) {
            if (!l.good()) continue;
            std::vector<std::string> devices, users;
            for (const auto& id : ids_of(l.result->record())) {
                if (id.rfind("anonymous_id:", 0) == 0) devices.push_back(id);
                if (id.rfind("user_id:", 0) == 0) users.push_back(id);
            }
            for (const auto& dv : devices) users_of_device[dv].insert(users.begin(), users.end());
        }
    std::unordered_map<std::string, size_t> index;
    std::vector<size_t> parent;
    std::function<size_t(size_t)> find = [&](size_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    for (const auto& [name, src] : d.sources)
        for (const auto& l : src.parsed) {
            if (!l.good()) continue;
            std::optional<size_t> first;
            for (const auto& id : ids_of(l.result->record())) {
                if (id.rfind("anonymous_id:", 0) == 0 && users_of_device[id].size() >= 2) continue;
                auto [it, added] = index.emplace(id, parent.size());
                if (added) parent.push_back(parent.size());
                if (!first)
                    first = find(it->second);
                else
                    parent[find(it->second)] = *first;
            }
        }
    uint64_t roots = 0;
    for (size_t i = 0; i < parent.size(); ++i) roots += find(i) == i;
    return roots;
}

class GenTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { data_ = std::make_unique<DataSet>("--records 20000 --seed 7"); }
    static void TearDownTestSuite() { data_.reset(); }
    void SetUp() override { ASSERT_EQ(data_->status, 0) << "cdphub-gen failed"; }
    static const DataSet& d() { return *data_; }
    static inline std::unique_ptr<DataSet> data_;
};

TEST(GenDeterminism, SameSeedSameBytesOtherSeedOtherData) {
    test::TempDir a, b, c;
    const std::string args = " --records 5000 --people 800 --now 2025-06-30T12:00:00Z";
    ASSERT_EQ(run_gen("--seed 11 --out " + a.path().string() + args), 0);
    ASSERT_EQ(run_gen("--seed 11 --out " + b.path().string() + args), 0);
    ASSERT_EQ(run_gen("--seed 12 --out " + c.path().string() + args), 0);
    for (const auto& s : kSources) {
        for (const std::string& f : {s + ".ndjson", s + ".expected-rejections.jsonl"}) {
            const auto x = slurp(a.path() / f);
            EXPECT_FALSE(x.empty()) << f;
            EXPECT_TRUE(x == slurp(b.path() / f)) << f << " differs for the same seed";
        }
        EXPECT_NE(slurp(a.path() / (s + ".ndjson")), slurp(c.path() / (s + ".ndjson")))
            << s << " is the same for another seed";
    }
    EXPECT_EQ(slurp(a.path() / "manifest.json"), slurp(b.path() / "manifest.json"));
    const auto m = json::parse(slurp(a.path() / "manifest.json"));
    EXPECT_EQ(m["now"], "2025-06-30T12:00:00Z");
    EXPECT_EQ(m["identity"]["people"], 800);
}

TEST(GenCli, RejectsBadOptions) {
    test::TempDir t;
    const std::string out = " --out " + t.path().string();
    EXPECT_EQ(run_gen("--records 10"), 106);  // CLI11: --out is required
    EXPECT_EQ(run_gen("--records 10 --now yesterday" + out), 2);
    EXPECT_EQ(run_gen("--records 10 --crm-share 0.7 --pos-share 0.7" + out), 2);
    EXPECT_NE(run_gen("--records 10 --bad-rate 2" + out), 0);
    EXPECT_EQ(run_gen("--records 3 --seed 1" + out), 0);  // tiny sets work too
}

TEST_F(GenTest, CountsMatchTheManifest) {
    const json& m = d().manifest;
    EXPECT_EQ(m["records"], 20000);
    EXPECT_EQ(m["seed"], 7);
    EXPECT_EQ(m["identity"]["people"], 4000);  // records / 5
    uint64_t total = 0, bad = 0;
    for (const auto& s : kSources) {
        const auto& src = d().sources.at(s);
        const json& ms = m["sources"][s];
        EXPECT_EQ(src.lines.size(), ms["records"].get<size_t>()) << s;
        EXPECT_EQ(fs::file_size(d().dir.path() / (s + ".ndjson")), ms["bytes"].get<uint64_t>());
        uint64_t typed = 0;
        for (const auto& [type, n] : ms["by_type"].items()) typed += n.get<uint64_t>();
        EXPECT_EQ(typed, ms["good"].get<uint64_t>()) << s;
        EXPECT_EQ(ms["good"].get<uint64_t>() + ms["duplicates"].get<uint64_t>() +
                      ms["bad"].get<uint64_t>(),
                  ms["records"].get<uint64_t>())
            << s;
        EXPECT_EQ(src.rejections.size(), ms["bad"].get<size_t>()) << s;
        // Good records per type, counted from the file (duplicates counted once).
        std::map<std::string, uint64_t> types;
        std::set<std::string> seen;
        for (const auto& l : src.parsed)
            if (l.good() && seen.insert(l.result->record().record_id).second)
                ++types[std::string(nz::to_string(l.result->record().type))];
        for (const auto& [type, n] : ms["by_type"].items()) EXPECT_EQ(types[type], n) << s << type;
        total += src.lines.size();
        bad += ms["bad"].get<uint64_t>();
    }
    EXPECT_EQ(total, 20000u);
    EXPECT_EQ(m["bad_records"].get<uint64_t>(), bad);
    // The documented mix: 20% CRM, 60% web, 20% POS.
    EXPECT_EQ(m["sources"]["crm"]["records"], 4000);
    EXPECT_EQ(m["sources"]["web"]["records"], 12000);
    EXPECT_EQ(m["sources"]["pos"]["records"], 4000);
    EXPECT_GT(m["sources"]["web"]["by_type"]["identify"].get<int>(), 500);
    EXPECT_GT(m["sources"]["web"]["by_type"]["alias"].get<int>(), 50);
    EXPECT_GT(m["sources"]["crm"]["by_type"]["identify"].get<int>(), 3000);
}

TEST_F(GenTest, GoodLinesAreAcceptedAndBadLinesRejectedForTheAnnouncedReason) {
    int failures = 0;
    auto fail = [&](const std::string& what) {
        if (++failures <= 8) ADD_FAILURE() << what;
    };
    std::map<std::string, int> kinds;
    for (const auto& [name, src] : d().sources) {
        for (size_t i = 0; i < src.lines.size(); ++i) {
            const auto& l = src.parsed[i];
            const auto rej = src.rejections.find(i + 1);
            const std::string where =
                name + ".ndjson:" + std::to_string(i + 1) + ": " + src.lines[i];
            if (rej != src.rejections.end()) ++kinds[rej->second["kind"].get<std::string>()];
            if (l.raw.is_discarded()) {
                if (rej == src.rejections.end() || rej->second["kind"] != "malformed_json")
                    fail("not JSON but not announced as malformed: " + where);
                continue;
            }
            if (rej != src.rejections.end()) {
                if (l.result->ok())
                    fail("announced as bad but accepted: " + where);
                else if (nz::to_string(l.result->rejection().reason) != rej->second["reason"])
                    fail("rejected as " + std::string(nz::to_string(l.result->rejection().reason)) +
                         ", announced " + rej->second["reason"].dump() + ": " + where);
                continue;
            }
            // A good line: the canonical fields are there and the normalizer takes it.
            for (const char* f : {"type", "record_id", "occurred_at", "identifiers"})
                if (!l.raw.contains(f)) fail(std::string("no ") + f + ": " + where);
            if (!l.result->ok()) {
                fail("rejected (" + l.result->rejection().message + "): " + where);
                continue;
            }
            // The only warnings allowed are about placeholder identifier values.
            for (const auto& w : l.result->record().warnings) {
                bool placeholder = false;
                for (const auto& p : kPlaceholders)
                    placeholder = placeholder || w.find("\"" + p + "\"") != std::string::npos;
                if (!placeholder) fail("warning \"" + w + "\": " + where);
            }
            const auto t = l.result->record().occurred_at;
            if (t >= d().received_at || t < d().received_at - std::chrono::days(731))
                fail("occurred_at outside the two years before --now: " + where);
        }
    }
    EXPECT_EQ(failures, 0);
    for (const char* k : {"bad_timestamp", "missing_identifiers", "decimal_money", "unknown_type",
                          "malformed_json"})
        EXPECT_GT(kinds[k], 0) << k;
}

TEST_F(GenTest, BadRecordsComeAtTheConfiguredRate) {
    const double bad = d().manifest["bad_records"].get<double>() / 20000.0;
    EXPECT_GT(bad, 0.006);
    EXPECT_LT(bad, 0.014);
    test::TempDir t;
    ASSERT_EQ(run_gen("--records 20000 --seed 7 --bad-rate 0.05 --out " + t.path().string()), 0);
    const auto m = json::parse(slurp(t.path() / "manifest.json"));
    EXPECT_NEAR(m["bad_records"].get<double>() / 20000.0, 0.05, 0.01);
    test::TempDir clean;
    ASSERT_EQ(
        run_gen("--records 2000 --bad-rate 0 --duplicate-rate 0 --out " + clean.path().string()),
        0);
    EXPECT_EQ(json::parse(slurp(clean.path() / "manifest.json"))["bad_records"], 0);
}

TEST_F(GenTest, RecordIdsAreUniquePerSourceExceptDeliberateDuplicates) {
    for (const auto& [name, src] : d().sources) {
        std::unordered_map<std::string, size_t> first;
        uint64_t repeats = 0;
        for (size_t i = 0; i < src.parsed.size(); ++i) {
            const auto& raw = src.parsed[i].raw;
            if (raw.is_discarded() || !raw.contains("record_id")) continue;
            auto [it, added] = first.emplace(raw["record_id"].get<std::string>(), i);
            if (added) continue;
            ++repeats;
            EXPECT_EQ(src.lines[i], src.lines[it->second]) << "a re-send must be identical";
        }
        EXPECT_EQ(repeats, d().manifest["sources"][name]["duplicates"].get<uint64_t>()) << name;
        EXPECT_GT(repeats, 0u) << name;
    }
}

TEST_F(GenTest, MoneyIsIntegerMinorUnitsWithRefundsAndYen) {
    std::map<std::string, int> currencies;
    std::unordered_map<std::string, int64_t> paid;  // order id -> total
    std::set<std::string> refund_ids;
    int refunds = 0;
    std::function<void(const json&)> minor_fields_are_integers = [&](const json& j) {
        if (j.is_object()) {
            for (const auto& [k, v] : j.items()) {
                if (k.size() > 6 && k.compare(k.size() - 6, 6, "_minor") == 0) {
                    EXPECT_TRUE(v.is_number_integer()) << k << " = " << v.dump();
                }
                minor_fields_are_integers(v);
            }
        } else if (j.is_array()) {
            for (const auto& v : j) minor_fields_are_integers(v);
        }
    };
    for (const auto& [name, src] : d().sources)
        for (const auto& l : src.parsed) {
            if (!l.good()) continue;
            minor_fields_are_integers(l.raw);
            const auto& r = l.result->record();
            if (!r.order) continue;
            const auto& o = *r.order;
            ++currencies[o.currency];
            if (o.total_minor > 0) {
                paid.emplace(o.id, o.total_minor);
                // Yen have no minor unit: 1500 yen is 1500, and nothing here costs under 400.
                if (o.currency == "JPY") {
                    EXPECT_GE(o.total_minor, 400);
                }
            } else if ((o.status == "refunded" || o.status == "returned") &&
                       refund_ids.insert(r.record_id).second) {
                ++refunds;
                auto it = paid.find(o.id);
                ASSERT_NE(it, paid.end()) << "refund before its order " << o.id;
                EXPECT_LE(-o.total_minor, it->second);
                for (const auto& line : o.lines) EXPECT_LT(line.quantity, 0);
            }
        }
    EXPECT_EQ(refunds, d().manifest["sources"]["pos"]["refunds"].get<int>());
    EXPECT_GT(refunds, 20);
    EXPECT_GT(currencies["EUR"], 1000);
    EXPECT_GT(currencies["USD"], 1000);
    EXPECT_GT(currencies["JPY"], 50);
    EXPECT_LT(currencies["JPY"], currencies["EUR"] / 4);
}

TEST_F(GenTest, IdentifiersLookLikeRealSourceData) {
    const nz::IdentifierCleanser strict{nz::CleanserOptions{}};
    int phones = 0, us_national = 0, de = 0, gb = 0, fr = 0, messy_emails = 0, offsets = 0;
    std::set<std::string> cleansed_phones;
    for (const auto& [name, src] : d().sources)
        for (const auto& l : src.parsed) {
            if (!l.good()) continue;
            const std::string t = l.raw["occurred_at"].get<std::string>();
            offsets += t.back() != 'Z';
            const json& ids = l.raw["identifiers"];
            if (auto p = ids.find("phone"); p != ids.end()) {
                const std::string v = p->get<std::string>();
                if (kPlaceholders.count(lower_trimmed(v))) continue;
                ++phones;
                auto c = strict.cleanse("phone", v);
                ASSERT_TRUE(std::holds_alternative<nz::Identifier>(c)) << v << " is not valid";
                cleansed_phones.insert(std::get<nz::Identifier>(c).value);
                us_national += v[0] != '+';
                de += v.rfind("+49", 0) == 0;
                gb += v.rfind("+44", 0) == 0;
                fr += v.rfind("+33", 0) == 0;
            }
            if (auto e = ids.find("email"); e != ids.end() && e->is_string()) {
                const std::string v = e->get<std::string>();
                messy_emails += v != lower_trimmed(v);
            }
        }
    EXPECT_GT(phones, 500);
    EXPECT_GT(us_national, 50);
    EXPECT_GT(de, 50);
    EXPECT_GT(gb, 50);
    EXPECT_GT(fr, 20);
    EXPECT_GT(messy_emails, 500) << "mixed case and stray whitespace";
    EXPECT_GT(offsets, 2000) << "timestamps with offsets as well as Z";
    EXPECT_GT(cleansed_phones.size(), 300u);
}

TEST_F(GenTest, NastyIdentityCasesArePresent) {
    std::unordered_map<std::string, std::set<std::string>> users_of_device, emails_of_user;
    std::unordered_map<std::string, std::set<std::string>> owners_of_email;
    std::map<std::string, int> placeholders;
    int placeholder_only = 0;
    for (const auto& [name, src] : d().sources)
        for (const auto& l : src.parsed) {
            if (!l.good()) continue;
            const auto& r = l.result->record();
            std::string device, user;
            std::vector<std::string> emails, owners;
            bool real = false;
            for (const auto& id : r.identifiers) {
                if (kPlaceholders.count(id.value)) {
                    ++placeholders[id.value];
                    continue;
                }
                real = true;
                if (id.type == "anonymous_id") device = id.value;
                if (id.type == "user_id") user = id.value;
                if (id.type == "email") emails.push_back(id.value);
                if (id.type == "user_id" || id.type == "crm_id" || id.type == "pos_customer_id")
                    owners.push_back(id.type + ":" + id.value);
            }
            for (const auto& w : r.warnings)
                for (const auto& p : kPlaceholders)
                    if (w.find("\"" + p + "\"") != std::string::npos) ++placeholders[p];
            placeholder_only += !real;
            if (!device.empty() && !user.empty()) users_of_device[device].insert(user);
            for (const auto& e : emails) {
                if (!user.empty()) emails_of_user[user].insert(e);
                for (const auto& o : owners) owners_of_email[e].insert(o);
            }
        }
    auto count_if_two = [](const auto& m) {
        int n = 0;
        for (const auto& [k, v] : m) n += v.size() >= 2;
        return n;
    };
    EXPECT_GT(count_if_two(users_of_device), 0) << "shared devices";
    EXPECT_GT(count_if_two(emails_of_user), 50) << "user ids with two emails";
    // Recycled emails: one address, two customers of the same system.
    int recycled = 0;
    for (const auto& [e, owners] : owners_of_email) {
        std::map<std::string, int> per_type;
        for (const auto& o : owners) ++per_type[o.substr(0, o.find(':'))];
        for (const auto& [type, n] : per_type) recycled += n >= 2;
    }
    EXPECT_GT(recycled, 0) << "recycled emails";
    for (const char* p : {"null", "anonymous", "0000", "n/a", "test@test.com"})
        EXPECT_GT(placeholders[p], 0) << p;
    EXPECT_GT(placeholder_only, 10) << "walk-in sales with placeholder ids only";
    EXPECT_GT(d().manifest["identity"]["recycled_email_pairs"].get<int>(), 0);
    EXPECT_GT(d().manifest["identity"]["shared_device_visits"].get<int>(), 0);
}

TEST_F(GenTest, ExpectedDistinctPeopleIsWhatACarefulResolverFinds) {
    const json& id = d().manifest["identity"];
    const auto expected = id["expected_distinct_people"].get<uint64_t>();
    EXPECT_EQ(expected, id["people_with_records"].get<uint64_t>() +
                            id["anonymous_visitor_devices"].get<uint64_t>());
    EXPECT_EQ(id["people_with_records"].get<uint64_t>(),
              id["people_in_sources"]["1"].get<uint64_t>() +
                  id["people_in_sources"]["2"].get<uint64_t>() +
                  id["people_in_sources"]["3"].get<uint64_t>());
    // The reference resolver cannot tell a recycled email from a shared one: it merges each pair.
    EXPECT_EQ(reference_people(d()), expected - id["recycled_email_pairs"].get<uint64_t>());

    DataSet plain("--records 20000 --seed 7 --recycled-email-rate 0");
    ASSERT_EQ(plain.status, 0);
    EXPECT_EQ(plain.manifest["identity"]["recycled_email_pairs"], 0);
    EXPECT_EQ(reference_people(plain),
              plain.manifest["identity"]["expected_distinct_people"].get<uint64_t>());
}

}  // namespace
}  // namespace cdphub

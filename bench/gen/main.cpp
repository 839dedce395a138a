// cdphub-gen: writes a realistic, deterministic benchmark data set of canonical records
// (docs/benchmark-data.md).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "generator.hpp"

namespace gen = cdphub::gen;
using nlohmann::ordered_json;

namespace {

ordered_json source_json(const gen::Summary& sum, gen::SourceId id) {
    const auto& st = sum.sources[static_cast<size_t>(id)];
    const std::string name(gen::source_name(id));
    ordered_json j;
    j["file"] = name + ".ndjson";
    j["expected_rejections_file"] = name + ".expected-rejections.jsonl";
    j["records"] = st.records;
    j["bytes"] = st.bytes;
    j["good"] = st.good;
    j["duplicates"] = st.duplicates;
    j["bad"] = st.bad;
    ordered_json types = ordered_json::object();
    for (int t = 0; t < gen::kRecTypes; ++t)
        if (st.by_type[static_cast<size_t>(t)] > 0)
            types[std::string(gen::rec_type_name(static_cast<gen::RecType>(t)))] =
                st.by_type[static_cast<size_t>(t)];
    j["by_type"] = types;
    ordered_json bad = ordered_json::object();
    for (int k = 0; k < gen::kBadKinds; ++k)
        if (st.bad_by_kind[static_cast<size_t>(k)] > 0)
            bad[std::string(gen::bad_kind_name(static_cast<gen::BadKind>(k)))] =
                st.bad_by_kind[static_cast<size_t>(k)];
    j["bad_by_kind"] = bad;
    j["person_histories"] = st.person_sessions;
    if (id == gen::SourceId::web) {
        j["visitor_sessions"] = st.visitor_sessions;
        j["shared_device_visits"] = st.shared_device_visits;
    }
    j["placeholder_values"] = st.placeholder_values;
    if (id != gen::SourceId::crm) j["placeholder_only_records"] = st.placeholder_only_records;
    j["second_email_records"] = st.second_email_records;
    j["records_with_phone"] = st.records_with_phone;
    if (id == gen::SourceId::pos) {
        j["refunds"] = st.refunds;
        j["orders_by_currency"] = {{"EUR", st.orders_by_currency[0]},
                                   {"USD", st.orders_by_currency[1]},
                                   {"GBP", st.orders_by_currency[2]},
                                   {"JPY", st.orders_by_currency[3]}};
    }
    return j;
}

ordered_json manifest(const gen::Config& cfg, const gen::Summary& sum) {
    ordered_json m;
    m["generator"] = "cdphub-gen";
    m["format_version"] = 1;
    m["seed"] = cfg.seed;
    m["records"] = cfg.records;
    m["now"] = gen::format_rfc3339(cfg.now_ms);
    m["occurred_at_window"] = {{"from", gen::format_rfc3339(cfg.window_start())},
                               {"to", gen::format_rfc3339(cfg.now_ms)}};
    m["options"] = {{"people", cfg.people},
                    {"crm_share", cfg.crm_share},
                    {"pos_share", cfg.pos_share},
                    {"bad_rate", cfg.bad_rate},
                    {"duplicate_rate", cfg.duplicate_rate},
                    {"placeholder_rate", cfg.placeholder_rate},
                    {"shared_device_rate", cfg.shared_device_rate},
                    {"recycled_email_rate", cfg.recycled_email_rate},
                    {"second_email_rate", cfg.second_email_rate},
                    {"visitor_share", cfg.visitor_share}};
    ordered_json sources;
    uint64_t records = 0, good = 0, dups = 0, bad = 0, placeholders = 0, second = 0,
             placeholder_only = 0;
    std::array<uint64_t, gen::kRecTypes> by_type{};
    std::array<uint64_t, gen::kBadKinds> bad_by_kind{};
    for (int s = 0; s < gen::kSources; ++s) {
        const auto id = static_cast<gen::SourceId>(s);
        const auto& st = sum.sources[static_cast<size_t>(s)];
        sources[std::string(gen::source_name(id))] = source_json(sum, id);
        records += st.records;
        good += st.good;
        dups += st.duplicates;
        bad += st.bad;
        placeholders += st.placeholder_values;
        placeholder_only += st.placeholder_only_records;
        second += st.second_email_records;
        for (size_t t = 0; t < by_type.size(); ++t) by_type[t] += st.by_type[t];
        for (size_t k = 0; k < bad_by_kind.size(); ++k) bad_by_kind[k] += st.bad_by_kind[k];
    }
    m["sources"] = sources;
    ordered_json totals;
    totals["records"] = records;
    totals["good"] = good;
    totals["duplicates"] = dups;
    totals["bad"] = bad;
    for (size_t t = 0; t < by_type.size(); ++t)
        totals["by_type"][std::string(gen::rec_type_name(static_cast<gen::RecType>(t)))] =
            by_type[t];
    for (size_t k = 0; k < bad_by_kind.size(); ++k)
        totals["bad_by_kind"][std::string(gen::bad_kind_name(static_cast<gen::BadKind>(k)))] =
            bad_by_kind[k];
    m["totals"] = totals;
    m["bad_records"] = bad;
    const auto& web = sum.sources[static_cast<size_t>(gen::SourceId::web)];
    m["identity"] = {
        {"people", sum.people},
        {"people_with_records", sum.people_with_records},
        {"people_in_sources",
         {{"1", sum.people_by_source_count[1]},
          {"2", sum.people_by_source_count[2]},
          {"3", sum.people_by_source_count[3]}}},
        {"anonymous_visitor_devices", sum.visitor_devices},
        {"expected_distinct_people", sum.expected_distinct_people},
        {"recycled_email_pairs", sum.recycled_email_pairs},
        {"shared_device_visits", web.shared_device_visits},
        {"placeholder_values", placeholders},
        {"placeholder_only_records", placeholder_only},
        {"second_email_records", second},
        {"definition",
         "expected_distinct_people = people_with_records + anonymous_visitor_devices: what a "
         "resolver finds that ignores placeholder values, does not link through a device used "
         "by two user ids, and keeps the previous and the new owner of a recycled email apart "
         "(one fewer per recycled_email_pairs if it does not). Duplicates and bad records do "
         "not change it."}};
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "cdphub-gen: writes a deterministic, realistic benchmark data set of canonical "
        "records (crm.ndjson, web.ndjson, pos.ndjson, manifest.json)"};
    gen::Config cfg;
    std::string out;
    std::string now = "2026-11-01T00:00:00Z";
    bool quiet = false;
    app.add_option("--records", cfg.records, "Total records over the three sources")
        ->check(CLI::Range(uint64_t{1}, uint64_t{9'999'999'999}))
        ->capture_default_str();
    app.add_option("--seed", cfg.seed, "Seed; the same seed and options give identical files")
        ->capture_default_str();
    app.add_option("--out", out, "Output directory (created if missing)")->required();
    app.add_option("--people", cfg.people, "Underlying population (default: records / 5)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{60'000'000}));
    app.add_option("--now", now, "occurred_at lies in the two years before this RFC 3339 time")
        ->capture_default_str();
    app.add_option("--crm-share", cfg.crm_share, "Share of records from the CRM")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--pos-share", cfg.pos_share, "Share of records from the POS (web: the rest)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--bad-rate", cfg.bad_rate, "Share of deliberately bad records")
        ->check(CLI::Range(0.0, 0.5))
        ->capture_default_str();
    app.add_option("--duplicate-rate", cfg.duplicate_rate, "Share of re-sent records")
        ->check(CLI::Range(0.0, 0.5))
        ->capture_default_str();
    app.add_option("--placeholder-rate", cfg.placeholder_rate,
                   "Chance that an identifier slot holds a placeholder (null, n/a, 0000 ...)")
        ->check(CLI::Range(0.0, 0.5))
        ->capture_default_str();
    app.add_option("--shared-device-rate", cfg.shared_device_rate,
                   "Share of people who also use a device of another person")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--recycled-email-rate", cfg.recycled_email_rate,
                   "Share of people who get an email address another person used before")
        ->check(CLI::Range(0.0, 0.3))
        ->capture_default_str();
    app.add_option("--second-email-rate", cfg.second_email_rate,
                   "Share of people with a second email address")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--visitor-share", cfg.visitor_share,
                   "Share of web sessions by anonymous visitors who never log in")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_flag("-q,--quiet", quiet, "Print nothing on success");
    CLI11_PARSE(app, argc, argv);

    const auto now_ms = gen::parse_rfc3339(now);
    if (!now_ms) {
        std::fprintf(stderr, "--now: \"%s\" is not an RFC 3339 time such as 2026-11-01T00:00:00Z\n",
                     now.c_str());
        return 2;
    }
    cfg.now_ms = *now_ms;
    if (cfg.crm_share + cfg.pos_share > 1.0) {
        std::fprintf(stderr, "--crm-share + --pos-share must not exceed 1\n");
        return 2;
    }
    if (cfg.bad_rate + cfg.duplicate_rate + cfg.placeholder_rate > 0.9) {
        std::fprintf(stderr, "--bad-rate + --duplicate-rate + --placeholder-rate is too high\n");
        return 2;
    }
    if (cfg.people == 0) cfg.people = std::max<uint64_t>(1, cfg.records / 5);

    try {
        const auto t0 = std::chrono::steady_clock::now();
        const gen::Summary sum = gen::generate(cfg, out);
        const std::string text = manifest(cfg, sum).dump(2) + "\n";
        const auto path = std::filesystem::path(out) / "manifest.json";
        std::ofstream f(path, std::ios::binary);
        f << text;
        f.close();
        if (!f) throw std::runtime_error("cannot write " + path.string());
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!quiet) {
            uint64_t bytes = 0, bad = 0;
            for (const auto& st : sum.sources) {
                bytes += st.bytes;
                bad += st.bad;
            }
            std::fprintf(stderr,
                         "wrote %llu records (%llu bad) of %llu people, %.1f MB, in %.2f s "
                         "(%.0f records/s) to %s\n",
                         static_cast<unsigned long long>(cfg.records),
                         static_cast<unsigned long long>(bad),
                         static_cast<unsigned long long>(cfg.people), bytes / 1e6, secs,
                         static_cast<double>(cfg.records) / secs, out.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cdphub-gen: %s\n", e.what());
        return 1;
    }
    return 0;
}

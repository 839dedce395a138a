// cdphub: the customer data hub's command line.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include <cdphub/plugin.h>

#include "cli/commands.hpp"
#include "cli/delivery_commands.hpp"
#include "cli/engine_commands.hpp"
#include "cli/import_command.hpp"
#include "cli/sync_command.hpp"
#include "http/client.hpp"
#include "logging/logging.hpp"
#include "manifest/manifest.hpp"

#ifndef CDPHUB_VERSION
#define CDPHUB_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
    using namespace cdphub;
    CLI::App app{
        "cdphub: a customer data platform hub. Loads connector plugins, validates the "
        "admin's manifests, and runs connectors.",
        "cdphub"};
    app.set_version_flag("--version", std::string("cdphub ") + CDPHUB_VERSION + " (plugin ABI " +
                                          std::to_string(CDPHUB_ABI_MAJOR) + "." +
                                          std::to_string(CDPHUB_ABI_MINOR) + ")");
    app.require_subcommand(1);
    app.fallthrough();  // global options may follow the command: cdphub plugins -P dir
    app.footer("Exit codes: 0 ok, 1 problems found, 2 usage error. See docs/cli.md.");

    cli::GlobalOptions g;
    const char* env_manifests = std::getenv("CDPHUB_MANIFESTS");
    std::string manifests = env_manifests != nullptr ? env_manifests : "manifests";
    std::vector<std::string> plugin_dirs;
    std::string log_format, log_level;  // empty: hub.json's setting, else text / info
    app.add_option("-m,--manifests", manifests,
                   "Manifest folder (default: $CDPHUB_MANIFESTS, else ./manifests)")
        ->capture_default_str();
    app.add_option(
        "-P,--plugin-dir", plugin_dirs,
        "Extra plugin directory (repeatable); plugins load only from plugin directories");
    app.add_option("--log-format", log_format,
                   "Log line format: text or json (default: hub.json, else text)")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_option("--log-level", log_level,
                   "trace, debug, info, warn, error or off (default: hub.json, else info)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

    std::string instance;
    bool check_all = false;
    cli::ReadOptions read_opts;
    auto* plugins = app.add_subcommand("plugins",
                                       "List discovered plugins: id, version, ABI, kind, "
                                       "category, path; and files that failed to load");
    plugins->add_flag("--json", g.json, "Print JSON instead of a table");
    auto* validate = app.add_subcommand(
        "validate",
        "Check every manifest against its format and each connector's config against "
        "its plugin's spec; reports all problems at once");
    validate->add_flag("--json", g.json, "Print the problems as JSON");
    auto* connectors = app.add_subcommand("connectors",
                                          "List the connector instances the manifests "
                                          "declare, with plugin, state and schedule");
    connectors->add_flag("--json", g.json, "Print JSON instead of a table");
    auto* check = app.add_subcommand(
        "check", "Ask a connector's plugin to test its connection and credentials");
    check->add_option("instance", instance, "Connector instance id (see 'cdphub connectors')");
    check->add_flag("--all", check_all, "Check every enabled connector");
    auto* read = app.add_subcommand(
        "read",
        "Dry run of a source: read once and print its records as NDJSON on stdout; nothing "
        "is stored and the cursor is kept only in memory");
    read->add_option("instance", instance, "Source connector instance id")->required();
    read->add_option("--cursor", read_opts.cursor,
                     "Start from this cursor (JSON) instead of the beginning");
    read->add_option("--limit", read_opts.limit,
                     "Stop after about this many records (0: no limit)");
    auto* run = app.add_subcommand("run", "Run the hub: start every enabled connector");
    std::string sync_instance;
    auto* sync = app.add_subcommand(
        "sync",
        "Read a source connector into the profile store from its last cursor (incremental; "
        "Ctrl-C stops after the current page and keeps what was committed), or deliver an "
        "activation now");
    sync->add_option("instance", sync_instance,
                     "Source connector instance id, or an activation name: plan its diff and "
                     "deliver it to its destination now")
        ->required();

    // The profile engine's commands work on the store in hub.json's data_dir (cdphub.db).
    cli::ImportOptions import_opts;
    std::string import_file;
    auto* import = app.add_subcommand(
        "import",
        "Import a file of canonical records (NDJSON), or a CSV file through the csv-file "
        "connector instance --source names, through normalization and identity resolution; "
        "re-importing skips what is already stored");
    import
        ->add_option("file", import_file,
                     "NDJSON file, one canonical record per line, or a .csv file mapped by "
                     "the csv-file instance --source")
        ->required()
        ->check(CLI::ExistingFile);
    import
        ->add_option("--source", import_opts.source,
                     "Source name the records are filed under (for .csv: a csv-file instance)")
        ->required();
    import->add_option("--batch-size", import_opts.batch_size, "Records per transaction")
        ->capture_default_str();
    bool no_segments = false;
    import->add_flag("--no-segments", no_segments, "Skip the segment evaluation at the end");

    std::string who, reason, expression, name;
    std::int64_t merge_id = 0;
    std::size_t limit = 10;
    auto* profile = app.add_subcommand("profile", "Look at unified profiles");
    profile->require_subcommand(1);
    auto* profile_show =
        profile->add_subcommand("show", "Identifiers, traits, consent, activity, segments");
    profile_show->add_option("who", who, "Profile id or TYPE:VALUE (email:ann@shop.io)")
        ->required();
    auto* profile_explain = profile->add_subcommand(
        "explain", "Why a profile is what it is: provenance, merges, unlinked identifiers");
    profile_explain->add_option("who", who, "Profile id or TYPE:VALUE")->required();
    auto* profile_unmerge = profile->add_subcommand(
        "unmerge", "Split a wrong merge and resolve the affected records again");
    profile_unmerge->add_option("merge", merge_id, "Merge id (see 'cdphub profile explain')")
        ->required();
    profile_unmerge->add_option("--reason", reason, "Why, for the audit trail");

    auto* segment = app.add_subcommand("segment", "Segments: list, preview, evaluate");
    segment->require_subcommand(1);
    auto* segment_list = segment->add_subcommand("list", "Segments with their member counts");
    auto* segment_preview = segment->add_subcommand(
        "preview", "Count and sample the profiles an expression selects, without saving it");
    segment_preview->add_option("expression", expression, "Segment expression")->required();
    segment_preview->add_option("--limit", limit, "Sample size")->capture_default_str();
    auto* segment_evaluate =
        segment->add_subcommand("evaluate", "Recompute segment membership over the whole store");
    segment_evaluate->add_option("name", name, "One segment (default: all)");

    auto* activation = app.add_subcommand("activation", "Activation diffs");
    activation->require_subcommand(1);
    auto* activation_plan = activation->add_subcommand(
        "plan", "Compute a binding's diff since the last one and queue it for delivery");
    activation_plan->add_option("binding", name, "Activation binding name")->required();
    auto* activation_failures = activation->add_subcommand(
        "failures", "Rejected and dead-lettered changes of a binding, with the vendor's answer");
    activation_failures->add_option("binding", name, "Activation binding name")->required();
    activation_failures->add_option("--limit", limit, "How many")->capture_default_str();
    auto* activation_replay = activation->add_subcommand(
        "replay", "Put a binding's dead-lettered changes back into the outbox");
    activation_replay->add_option("binding", name, "Activation binding name")->required();
    auto* activations = app.add_subcommand(
        "activations",
        "Per activation: its destination's state (running, paused, auth_failed), sent, failed "
        "and pending changes, last sync and last error");
    std::string rejected_source;
    auto* rejected = app.add_subcommand("rejected", "Records the hub could not use, and why");
    rejected->add_option("--source", rejected_source, "Only this source");
    rejected->add_option("--limit", limit, "How many")->capture_default_str();
    auto* rejected_replay = rejected->add_subcommand(
        "replay",
        "Run rejected records through the pipeline again, after fixing what made them unusable "
        "(those still unusable stay rejected; stored ones are marked replayed)");
    rejected_replay->add_option("--source", rejected_source, "Only this source");
    rejected_replay->add_option("--limit", limit, "How many")->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? cli::kOk : cli::kUsage;
    }

    // The command line wins over hub.json's log settings, which win over the defaults.
    logging::Options lo;
    if (log_format.empty() || log_level.empty()) {
        auto hub = manifest::load(manifests).hub;
        if (log_format.empty()) log_format = hub.log_format;
        if (log_level.empty()) log_level = hub.log_level;
    }
    if (!log_format.empty()) logging::parse_format(log_format, lo.format);
    if (!log_level.empty()) logging::parse_level(log_level, lo.level);
    logging::init(lo);
    http::global_init();

    g.manifests = manifests;
    for (const auto& d : plugin_dirs) g.plugin_dirs.emplace_back(d);

    try {
        if (*plugins) return cli::cmd_plugins(g);
        if (*validate) return cli::cmd_validate(g);
        if (*connectors) return cli::cmd_connectors(g);
        if (*check) {
            if (check_all == !instance.empty()) {
                std::cerr << "cdphub check: name one instance or pass --all\n";
                return cli::kUsage;
            }
            return check_all ? cli::cmd_check_all(g) : cli::cmd_check(g, instance);
        }
        if (*read) return cli::cmd_read(g, instance, read_opts);
        if (*run) return cli::cmd_run(g);
        if (*sync) return cli::cmd_sync(g, sync_instance);
        if (*import) {
            import_opts.file = import_file;
            import_opts.evaluate_segments = !no_segments;
            return cli::cmd_import(g, import_opts);
        }
        if (*profile_show) return cli::cmd_profile_show(g, who, false);
        if (*profile_explain) return cli::cmd_profile_show(g, who, true);
        if (*profile_unmerge) return cli::cmd_profile_unmerge(g, merge_id, reason);
        if (*segment_list) return cli::cmd_segment_list(g);
        if (*segment_preview) return cli::cmd_segment_preview(g, expression, limit);
        if (*segment_evaluate) return cli::cmd_segment_evaluate(g, name);
        if (*activation_plan) return cli::cmd_activation_plan(g, name);
        if (*activation_failures) return cli::cmd_activation_failures(g, name, limit);
        if (*activation_replay) return cli::cmd_activation_replay(g, name);
        if (*activations) return cli::cmd_activations(g);
        if (*rejected_replay) return cli::cmd_rejected_replay(g, rejected_source, limit);
        if (*rejected) return cli::cmd_rejected(g, rejected_source, limit);
    } catch (const std::exception& e) {
        std::cerr << "cdphub: internal error: " << e.what() << "\n";
        return cli::kProblems;
    }
    return cli::kUsage;
}

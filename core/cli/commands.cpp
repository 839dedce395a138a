#include "cli/commands.hpp"
#include "cli/connector_loading.hpp"
#include "pipeline/segments.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "logging/logging.hpp"
#include "manifest/diagnostic_json.hpp"
#include "manifest/manifest.hpp"
#include "plugin_host/connector.hpp"
#include "plugin_host/plugin_catalog.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::cli {
namespace fs = std::filesystem;
using plugin_host::PluginCatalog;

namespace {

fs::path executable_dir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

// A left-aligned text table.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    if (rows.empty()) return;
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

std::string plural(size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::vector<fs::path> effective_plugin_dirs(const GlobalOptions& g,
                                            const std::vector<fs::path>& from_hub) {
    std::vector<fs::path> dirs = from_hub;
    for (const auto& d : g.plugin_dirs) dirs.push_back(fs::absolute(d));
    if (const char* env = std::getenv("CDPHUB_PLUGIN_PATH")) {
        std::stringstream ss(env);
        std::string item;
        while (std::getline(ss, item, ':'))
            if (!item.empty()) dirs.push_back(fs::absolute(item));
    }
    // First-party plugins ship beside the hub: <prefix>/lib/cdphub/plugins, installed or in a
    // build tree.
    auto shipped = executable_dir() / ".." / "lib" / "cdphub" / "plugins";
    std::error_code ec;
    if (fs::is_directory(shipped, ec)) dirs.push_back(fs::weakly_canonical(shipped));
    return dirs;
}

int cmd_plugins(const GlobalOptions& g) {
    auto hub = manifest::load(g.manifests).hub;  // only for plugin_dirs; manifest errors: validate
    auto catalog = PluginCatalog::discover(effective_plugin_dirs(g, hub.plugin_dirs));
    if (g.json) {
        nlohmann::json out{{"plugins", nlohmann::json::array()},
                           {"problems", nlohmann::json::array()}};
        for (const auto& p : catalog.plugins()) {
            const auto& i = p->info();
            out["plugins"].push_back(
                {{"id", i.id},
                 {"version", i.version},
                 {"name", i.name},
                 {"abi", std::to_string(i.abi_major) + "." + std::to_string(i.abi_minor)},
                 {"kind", plugin_host::kind_name(i.kind)},
                 {"category", plugin_host::category_name(i.category)},
                 {"path", i.path.string()},
                 {"sha256", i.sha256},
                 {"capabilities", i.capabilities}});
        }
        for (const auto& d : catalog.diagnostics())
            out["problems"].push_back(manifest::diagnostic_json(d));
        std::cout << out.dump(2) << "\n";
    } else {
        std::vector<std::vector<std::string>> rows{
            {"ID", "VERSION", "ABI", "KIND", "CATEGORY", "PATH"}};
        for (const auto& p : catalog.plugins()) {
            const auto& i = p->info();
            rows.push_back({i.id, i.version,
                            std::to_string(i.abi_major) + "." + std::to_string(i.abi_minor),
                            std::string(plugin_host::kind_name(i.kind)),
                            std::string(plugin_host::category_name(i.category)), i.path.string()});
        }
        if (catalog.plugins().empty()) {
            std::cout << "no plugins found in:";
            for (const auto& d : catalog.directories()) std::cout << " " << d.string();
            std::cout << "\n";
        } else {
            print_table(rows);
        }
        print_diagnostics(catalog.diagnostics());
    }
    return has_errors(catalog.diagnostics()) ? kProblems : kOk;
}

int cmd_validate(const GlobalOptions& g) {
    auto l = load_all(g);
    Diagnostics all = l.manifests.diagnostics;
    all.insert(all.end(), l.config_problems.begin(), l.config_problems.end());
    // Segment, computed-trait and mapping expressions, parsed by the segment language itself.
    auto expr =
        manifest::validate_expressions(l.manifests, pipeline::expression_checker(l.manifests));
    all.insert(all.end(), expr.begin(), expr.end());
    manifest::sort_diagnostics(all);  // by file, then line, as the admin reads them
    // Plugins that failed to load matter only if a manifest needs them; they are listed by
    // 'cdphub plugins'. Unknown-plugin errors already say so.
    size_t errors = 0, warnings = 0;
    for (const auto& d : all) (d.is_error() ? errors : warnings)++;
    if (g.json) {
        nlohmann::json out{{"valid", errors == 0},
                           {"connectors", l.manifests.connectors.size()},
                           {"errors", errors},
                           {"warnings", warnings},
                           {"problems", nlohmann::json::array()}};
        for (const auto& d : all) out["problems"].push_back(manifest::diagnostic_json(d));
        std::cout << out.dump(2) << "\n";
    } else {
        print_diagnostics(all);
        if (errors == 0)
            std::cout << g.manifests.string() << ": valid ("
                      << plural(l.manifests.connectors.size(), "connector")
                      << (warnings ? ", " + plural(warnings, "warning") : std::string()) << ")\n";
        else
            std::cout << g.manifests.string() << ": invalid: " << plural(errors, "error")
                      << (warnings ? ", " + plural(warnings, "warning") : std::string()) << "\n";
    }
    return errors == 0 ? kOk : kProblems;
}

int cmd_connectors(const GlobalOptions& g) {
    auto l = load_all(g);
    std::map<std::string, bool> has_error;  // by manifest file
    for (const auto& d : l.manifests.diagnostics) has_error[d.file] |= d.is_error();
    for (const auto& d : l.config_problems) has_error[d.file] |= d.is_error();
    if (g.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& c : l.manifests.connectors) {
            auto p = l.catalog.find(c.plugin);
            out.push_back({{"id", c.id},
                           {"plugin", c.plugin},
                           {"plugin_version", p ? p->info().version : ""},
                           {"kind", p ? std::string(plugin_host::kind_name(p->info().kind)) : ""},
                           {"enabled", c.enabled},
                           {"schedule", manifest::describe(c.schedule)},
                           {"valid", !has_error[c.file.string()]},
                           {"file", c.file.string()}});
        }
        std::cout << out.dump(2) << "\n";
        return kOk;
    }
    std::vector<std::vector<std::string>> rows{
        {"INSTANCE", "PLUGIN", "KIND", "ENABLED", "SCHEDULE", "MANIFEST"}};
    size_t enabled = 0;
    for (const auto& c : l.manifests.connectors) {
        auto p = l.catalog.find(c.plugin);
        enabled += c.enabled;
        rows.push_back({c.id, c.plugin + (p ? " " + p->info().version : " (not loaded)"),
                        p ? std::string(plugin_host::kind_name(p->info().kind)) : "?",
                        c.enabled ? "yes" : "no", manifest::describe(c.schedule),
                        c.file.string() + (has_error[c.file.string()] ? " (invalid)" : "")});
    }
    print_table(rows);
    std::cout << plural(l.manifests.connectors.size(), "connector") << ", " << enabled
              << " enabled\n";
    return kOk;
}

namespace {

bool check_one(Loaded& l, const GlobalOptions& g, const std::string& instance) {
    auto connector = open_connector(l, g, instance);
    if (!connector) return false;
    auto st = connector->check();
    if (st.ok()) {
        std::cout << instance << ": ok (" << connector->plugin().id << " "
                  << connector->plugin().version << ")\n";
        return true;
    }
    std::cout << instance << ": check failed: " << secrets::redact(st.to_string()) << "\n";
    return false;
}

// Prints each committed batch as NDJSON; keeps the cursor in memory only.
class PrintingSink : public plugin_host::RecordSink {
  public:
    PrintingSink(std::string cursor, uint64_t limit, plugin_host::Connector& c)
        : cursor_(std::move(cursor)), limit_(limit), connector_(c) {}
    std::string cursor() override { return cursor_; }
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override {
        for (const auto& r : records) {
            if (limit_ > 0 && count_ >= limit_) break;
            std::cout << r.dump() << "\n";
            ++count_;
        }
        std::cout.flush();
        if (cursor) cursor_ = *cursor;
        if (limit_ > 0 && count_ >= limit_) connector_.cancel();
        return {};
    }
    uint64_t count() const { return count_; }

  private:
    std::string cursor_;
    uint64_t limit_;
    uint64_t count_ = 0;
    plugin_host::Connector& connector_;
};

}  // namespace

int cmd_check(const GlobalOptions& g, const std::string& instance) {
    auto l = load_all(g);
    return check_one(l, g, instance) ? kOk : kProblems;
}

int cmd_check_all(const GlobalOptions& g) {
    auto l = load_all(g);
    size_t failed = 0, checked = 0;
    for (const auto& m : l.manifests.connectors) {
        if (!m.enabled) continue;
        ++checked;
        if (!check_one(l, g, m.id)) ++failed;
    }
    std::cout << plural(checked, "enabled connector") << " checked, " << failed << " failed\n";
    return failed == 0 ? kOk : kProblems;
}

int cmd_read(const GlobalOptions& g, const std::string& instance, const ReadOptions& o) {
    if (!o.cursor.empty() && nlohmann::json::parse(o.cursor, nullptr, false).is_discarded()) {
        std::cerr << "cdphub read: --cursor must be JSON, e.g. '{\"offset\": 10}'\n";
        return kUsage;
    }
    auto l = load_all(g);
    auto connector = open_connector(l, g, instance);
    if (!connector) return kProblems;
    if (!connector->plugin().is_source()) {
        std::cerr << "cdphub read: " << instance << " (" << connector->plugin().id
                  << ") is not a source\n";
        return kProblems;
    }
    PrintingSink sink(o.cursor, o.limit, *connector);
    auto r = connector->read(sink);
    bool stopped_at_limit =
        r.status.code == StatusCode::cancelled && o.limit > 0 && sink.count() >= o.limit;
    std::cerr << instance << ": " << sink.count() << " records"
              << (stopped_at_limit ? " (stopped at --limit; the cursor covers the whole last batch)"
                                   : "")
              << "; cursor " << (sink.cursor().empty() ? "(none)" : sink.cursor()) << "\n";
    if (r.status.ok() || stopped_at_limit) return kOk;
    std::cerr << instance << ": read failed: " << secrets::redact(r.status.to_string()) << "\n";
    return kProblems;
}

}  // namespace cdphub::cli

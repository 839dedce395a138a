// cdphub import FILE.csv --source INSTANCE: a CSV file has no record shape of its own, so it is
// read through the csv-file connector instance that --source names, whose manifest config holds
// the column mapping. The hub creates that instance with its directory and pattern narrowed to
// the one file and runs read() into the store, with the import's progress bar and summary.
//
// The instance's own cursor is neither read nor moved: the file is read from its start and
// records are committed without a cursor, so importing a file by hand never disturbs the
// instance's scheduled syncs, and importing it again skips what is stored (by record_id).
#include <chrono>
#include <iostream>

#include "cli/connector_loading.hpp"
#include "cli/engine.hpp"
#include "cli/import_command.hpp"
#include "cli/progress.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::cli {
namespace {

// A glob that matches exactly `name` (fnmatch syntax: quote the special characters).
std::string glob_literal(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Commits each batch without a cursor and counts it, moving the progress bar by the byte
// offset the plugin reports in its cursor.
class ImportSink final : public plugin_host::RecordSink {
  public:
    ImportSink(pipeline::Ingestor& ingestor, std::string source, ImportTotals& totals,
               ProgressBar& bar)
        : ingestor_(ingestor), source_(std::move(source)), totals_(totals), bar_(bar) {}

    std::string cursor() override { return {}; }  // always from the file's start
    CallStatus commit(nlohmann::json records, std::optional<std::string> cursor) override {
        try {
            auto prepared = ingestor_.prepare(source_, records);
            totals_.add(prepared, ingestor_.commit(prepared));
        } catch (const std::exception& e) {
            return CallStatus{StatusCode::fatal, std::nullopt, e.what()};
        }
        if (cursor) {
            auto c = nlohmann::json::parse(*cursor, nullptr, false);
            if (c.is_object() && c.contains("offset") && c["offset"].is_number_unsigned())
                bar_.update(c["offset"].get<std::uintmax_t>(), totals_.records());
        }
        return {};
    }

  private:
    pipeline::Ingestor& ingestor_;
    std::string source_;
    ImportTotals& totals_;
    ProgressBar& bar_;
};

}  // namespace

int cmd_import_csv(const GlobalOptions& g, const ImportOptions& o) {
    auto l = load_all(g);
    const auto* m = l.manifests.find(o.source);
    if (m == nullptr || m->plugin != "csv-file") {
        std::cerr << "cdphub import: " << o.file.string()
                  << " is CSV, which is imported through a csv-file connector instance (its "
                     "config maps the columns); "
                  << (m == nullptr
                          ? "there is no instance '" + o.source + "' in " + g.manifests.string()
                          : "instance '" + o.source + "' uses plugin '" + m->plugin + "'")
                  << ". See docs/cli.md#import.\n";
        return kProblems;
    }
    if (!manifest_usable(l, *m, "cdphub import: " + o.source)) return kProblems;
    manifest::ConnectorManifest one = *m;
    const auto file = std::filesystem::absolute(o.file);
    one.config["directory"] = file.parent_path().string();
    one.config["pattern"] = glob_literal(file.filename().string());
    one.config["settle_seconds"] = 0;  // a file handed to import is complete
    auto created = plugin_host::instantiate(l.catalog, one, l.manifests.root);
    if (auto* d = std::get_if<Diagnostic>(&created)) {
        print_diagnostics(l.catalog.diagnostics());
        print_diagnostics({*d});
        return kProblems;
    }
    auto connector = std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
    auto engine = open_engine(g);
    if (!engine) return kProblems;

    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    ProgressBar bar(ec ? 0 : size);
    ImportTotals totals;
    ImportSink sink(*engine->ingestor, o.source, totals, bar);
    const auto start = Clock::now();
    auto r = connector->read(sink);
    bar.update(ec ? 0 : size, totals.records(), true);
    bar.finish();
    if (!r.status.ok()) {
        std::cerr << "cdphub import: stopped after " << thousands(totals.inserted)
                  << " new records: " << secrets::redact(r.status.to_string())
                  << "\nEverything committed before the error is kept; importing the file again "
                     "skips it.\n";
        return kProblems;
    }
    return report_import(*engine, o, totals,
                         std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace cdphub::cli

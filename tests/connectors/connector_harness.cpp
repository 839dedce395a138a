#include "connectors/connector_harness.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>

#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "plugin_host/plugin_catalog.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::test {
namespace fs = std::filesystem;

namespace {

// The pipeline over a freshly opened store, for the length of one call.
struct OpenPipeline {
    explicit OpenPipeline(const fs::path& db)
        : store(store::open_sqlite_store(db)),
          resolver(identity::Rules{}),
          ingestor(*store, normalizer, resolver) {}
    std::unique_ptr<store::SqliteProfileStore> store;
    normalize::Normalizer normalizer;
    identity::Resolver resolver;
    pipeline::Ingestor ingestor;
};

}  // namespace

ConnectorHarness::ConnectorHarness(std::string plugin_id, std::string instance)
    : plugin_id_(std::move(plugin_id)), instance_(std::move(instance)) {
    auto tmpl = (fs::temp_directory_path() / "cdphub-connector-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
}

ConnectorHarness::~ConnectorHarness() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void ConnectorHarness::configure(nlohmann::json config, Secrets secrets,
                                 plugin_host::HostOptions options) {
    config_ = std::move(config);
    secrets_ = std::move(secrets);
    options_ = std::move(options);
}

std::shared_ptr<const plugin_host::PluginLibrary> ConnectorHarness::plugin() const {
    static const auto catalog = plugin_host::PluginCatalog::discover({CDPHUB_PLUGIN_DIR});
    auto p = catalog.find(plugin_id_);
    if (!p)
        throw std::runtime_error("plugin " + plugin_id_ + " is not in " +
                                 std::string(CDPHUB_PLUGIN_DIR) + " (build cdphub_plugins)");
    return p;
}

CallStatus ConnectorHarness::check() {
    auto created = plugin_host::Connector::create(plugin(), instance_, config_, secrets_, options_);
    if (auto* st = std::get_if<CallStatus>(&created)) return *st;
    return std::get<std::unique_ptr<plugin_host::Connector>>(created)->check();
}

plugin_host::ReadResult ConnectorHarness::sync() {
    auto created = plugin_host::Connector::create(plugin(), instance_, config_, secrets_, options_);
    if (auto* st = std::get_if<CallStatus>(&created)) return {*st, 0};
    auto& connector = *std::get<std::unique_ptr<plugin_host::Connector>>(created);
    OpenPipeline p(db_path());
    pipeline::IngestSink sink(p.ingestor, instance_);
    return connector.read(sink);
}

plugin_host::WebhookResult ConnectorHarness::receive(const plugin_host::WebhookRequest& request) {
    auto created = plugin_host::Connector::create(plugin(), instance_, config_, secrets_, options_);
    if (auto* st = std::get_if<CallStatus>(&created)) return {*st, {}, 0};
    auto& connector = *std::get<std::unique_ptr<plugin_host::Connector>>(created);
    OpenPipeline p(db_path());
    pipeline::IngestSink sink(p.ingestor, instance_);
    return connector.receive(request, sink);
}

bool ConnectorHarness::sync_killed_when(const std::function<bool()>& kill_when) {
    (void)plugin();  // load the catalog before forking, so the child does not race the parent
    const pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) {
        int code = 3;
        try {
            code = sync().status.ok() ? 0 : 1;
        } catch (...) {
            code = 2;
        }
        ::_exit(code);  // no gtest or static destructors in the child
    }
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) {
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
                << "the sync child ended before it could be killed, and not cleanly (status "
                << status << ")";
            return false;
        }
        if (kill_when()) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

std::string ConnectorHarness::cursor() const {
    if (!fs::exists(db_path())) return {};
    SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT cursor FROM cursors WHERE source = ?");
    q.bind(1, instance_);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

std::map<std::string, nlohmann::json> ConnectorHarness::records() const {
    std::map<std::string, nlohmann::json> out;
    if (!fs::exists(db_path())) return out;
    SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT record_id, body FROM records WHERE source = ?");
    q.bind(1, instance_);
    while (q.executeStep())
        out[q.getColumn(0).getString()] = nlohmann::json::parse(q.getColumn(1).getString());
    return out;
}

std::vector<std::pair<std::string, std::string>> ConnectorHarness::rejected() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (!fs::exists(db_path())) return out;
    SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(
        db, "SELECT reason_code, raw FROM rejected_records WHERE source = ? ORDER BY id");
    q.bind(1, instance_);
    while (q.executeStep())
        out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
    return out;
}

}  // namespace cdphub::test

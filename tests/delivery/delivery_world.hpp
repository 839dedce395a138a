// A real store file with profiles, a segment, bindings and their planned diffs, plus real
// destination plugins created from a plugin directory: what the delivery and destination-plugin
// tests share. Header-only so tests/connectors can use it too.
#pragma once

#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "delivery/service.hpp"
#include "delivery/sqlite_delivery_store.hpp"
#include "identity/resolver.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "plugin_host/plugin_catalog.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

namespace cdphub::test {

class DeliveryWorld {
  public:
    DeliveryWorld()
        : store_(store::open_sqlite_store(dir_.path() / "hub.db")),
          resolver_(identity::Rules::defaults()),
          ingestor_(*store_, normalizer_, resolver_),
          delivery_(*store_) {}

    // Profiles p<from>..p<to-1> with email p<i>@acme.io and the given traits per index.
    // Returns their profile ids in order.
    std::vector<store::ProfileId> people(int from, int to,
                                         const std::function<nlohmann::json(int)>& traits) {
        nlohmann::json batch = nlohmann::json::array();
        for (int i = from; i < to; ++i)
            batch.push_back({{"type", "identify"},
                             {"record_id", "id-" + std::to_string(i) + "-" + std::to_string(++n_)},
                             {"occurred_at", "2024-05-01T10:00:00Z"},
                             {"identifiers", {{"email", email(i)}}},
                             {"traits", traits(i)}});
        ingestor_.ingest("crm", batch);
        std::vector<store::ProfileId> ids;
        for (int i = from; i < to; ++i) ids.push_back(*store_->find_profile("email", email(i)));
        return ids;
    }
    static std::string email(int i) { return "p" + std::to_string(i) + "@acme.io"; }

    void consent(int i, const std::string& purpose, bool granted,
                 const std::string& at = "2024-05-02T10:00:00Z") {
        ingestor_.ingest(
            "prefs",
            nlohmann::json::array({{{"type", "consent"},
                                    {"record_id", "c-" + std::to_string(++n_)},
                                    {"occurred_at", at},
                                    {"identifiers", {{"email", email(i)}}},
                                    {"consent", {{"purpose", purpose}, {"granted", granted}}}}}));
    }

    // The email destinations' population (sfmc_test, mailchimp_ and sendgrid_destination_test):
    // n people with email email_of(i), tier gold and first name F<i>, consent for `purpose` per
    // consents(i), all members of segment `segment`. Returns their profile ids in order.
    std::vector<store::ProfileId> email_members(int n,
                                                const std::function<std::string(int)>& email_of,
                                                const std::function<bool(int)>& consents,
                                                const std::string& purpose,
                                                const std::string& segment_name = "vip") {
        nlohmann::json batch = nlohmann::json::array();
        for (int i = 0; i < n; ++i) {
            batch.push_back(
                {{"type", "identify"},
                 {"record_id", "r" + std::to_string(i)},
                 {"occurred_at", "2024-05-01T10:00:00Z"},
                 {"identifiers", {{"email", email_of(i)}}},
                 {"traits", {{"tier", "gold"}, {"first_name", "F" + std::to_string(i)}}}});
            batch.push_back({{"type", "consent"},
                             {"record_id", "c" + std::to_string(i)},
                             {"occurred_at", "2024-05-01T10:00:00Z"},
                             {"identifiers", {{"email", email_of(i)}}},
                             {"consent", {{"purpose", purpose}, {"granted", consents(i)}}}});
        }
        ingest(batch);
        std::vector<store::ProfileId> ids;
        for (int i = 0; i < n; ++i) ids.push_back(*store_->find_profile("email", email_of(i)));
        segment(segment_name);
        members(segment_name, ids);
        return ids;
    }

    void ingest(const nlohmann::json& records, const std::string& source = "crm") {
        ingestor_.ingest(source, records);
    }

    void segment(const std::string& name) {
        store_->define_segment({name, "traits.tier == \"gold\"", nlohmann::json::object()});
    }
    void members(const std::string& segment, const std::vector<store::ProfileId>& ids,
                 bool in = true) {
        std::vector<std::pair<store::ProfileId, bool>> m;
        for (auto id : ids) m.emplace_back(id, in);
        store_->update_members(segment, m);
    }

    store::SqliteProfileStore& store() { return *store_; }
    std::filesystem::path db_path() const { return dir_.path() / "hub.db"; }
    delivery::SqliteDeliveryStore& delivery() { return delivery_; }
    SQLite::Database plain() const {
        return SQLite::Database(dir_.path() / "hub.db", SQLite::OPEN_READONLY);
    }
    std::int64_t count(const std::string& sql) const { return plain().execAndGet(sql).getInt64(); }

    // A destination instance of plugin `id` from `plugin_dir`.
    static std::unique_ptr<plugin_host::Connector> connector(
        const std::string& plugin_dir, const std::string& id, const std::string& instance,
        const nlohmann::json& config, std::map<std::string, std::string, std::less<>> secrets = {},
        plugin_host::HostOptions options = {}) {
        static std::map<std::string, plugin_host::PluginCatalog> catalogs;
        auto it = catalogs.find(plugin_dir);
        if (it == catalogs.end())
            it = catalogs.emplace(plugin_dir, plugin_host::PluginCatalog::discover({plugin_dir}))
                     .first;
        auto plugin = it->second.find(id);
        if (!plugin) throw std::runtime_error("plugin " + id + " is not in " + plugin_dir);
        auto created = plugin_host::Connector::create(plugin, instance, config, std::move(secrets),
                                                      std::move(options));
        if (auto* st = std::get_if<CallStatus>(&created))
            throw std::runtime_error("create failed: " + st->to_string());
        return std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
    }

  private:
    TempDir dir_;
    std::unique_ptr<store::SqliteProfileStore> store_;
    normalize::Normalizer normalizer_;
    identity::Resolver resolver_;
    pipeline::Ingestor ingestor_;
    delivery::SqliteDeliveryStore delivery_;
    int n_ = 0;
};

}  // namespace cdphub::test

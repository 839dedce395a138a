// What the DMP / ad-audience destination tests share (meta_audiences_test, tradedesk_test,
// liveramp_files_test): a store with a segment of people who have an email, a phone and an ad id,
// consent per person for "advertising", a binding to the destination, and delivery through the
// hub's own workers until the outbox is settled.
#pragma once

#include <cdphub_plugins/sha256.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "delivery/delivery_world.hpp"
#include "http/client.hpp"
#include "simulators/simulator.hpp"

namespace cdphub::test {

using nlohmann::json;
using namespace std::chrono_literals;

struct AudienceWorld {
    DeliveryWorld w;
    std::vector<store::ProfileId> ids;

    static std::string email(int i) { return DeliveryWorld::email(i); }
    // +49 151 2345xxxx: valid German mobile numbers, in E.164 after the hub's cleansing.
    static std::string phone(int i) {
        auto n = std::to_string(i % 10000);
        return "+49 151 2345" + std::string(4 - n.size(), '0') + n;
    }
    static std::string phone_digits(int i) {
        auto p = phone(i);
        std::string d;
        for (char c : p)
            if (c >= '0' && c <= '9') d += c;
        return d;
    }
    // A TTD id (a UUID) per person.
    static std::string tdid(int i) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "0d8f%04x-1c2e-4a5b-9c3d-%012x", i % 0x10000, i);
        return buf;
    }

    // n people in segment `segment`, consent for "advertising" per consents(i); a binding
    // `binding` to `destination` with `mapping`.
    void populate(int n, const std::function<bool(int)>& consents, const std::string& binding,
                  const std::string& destination, const std::vector<store::FieldMapping>& mapping,
                  const std::string& segment = "vip") {
        json batch = json::array();
        for (int i = 0; i < n; ++i) {
            batch.push_back(
                {{"type", "identify"},
                 {"record_id", "r" + std::to_string(i)},
                 {"occurred_at", "2024-05-01T10:00:00Z"},
                 {"identifiers", {{"email", email(i)}, {"phone", phone(i)}, {"tdid", tdid(i)}}},
                 {"traits", {{"tier", "gold"}, {"first_name", "F" + std::to_string(i)}}}});
            batch.push_back({{"type", "consent"},
                             {"record_id", "c" + std::to_string(i)},
                             {"occurred_at", "2024-05-01T10:00:00Z"},
                             {"identifiers", {{"email", email(i)}}},
                             {"consent", {{"purpose", "advertising"}, {"granted", consents(i)}}}});
        }
        w.ingest(batch);
        ids.clear();
        for (int i = 0; i < n; ++i) ids.push_back(*w.store().find_profile("email", email(i)));
        w.segment(segment);
        w.members(segment, ids);
        w.store().define_binding({binding, segment, destination, mapping, "advertising"});
        w.store().plan_diff(binding);
    }

    void withdraw_consent(int i) {
        w.ingest(json::array({{{"type", "consent"},
                               {"record_id", "withdraw-" + std::to_string(i)},
                               {"occurred_at", "2024-06-01T10:00:00Z"},
                               {"identifiers", {{"email", email(i)}}},
                               {"consent", {{"purpose", "advertising"}, {"granted", false}}}}}));
    }

    // Delivers until the outbox is settled, the destination stops, or `rounds` runs are over.
    delivery::WorkerReport deliver(const std::string& plugin, const std::string& instance,
                                   const json& cfg, const std::string& secret_key, int rounds = 6,
                                   std::function<int64_t()> clock = {}) {
        delivery::DeliveryOptions o;
        o.max_records = 500;
        o.max_attempts = 40;  // faults must never exhaust a valid change's budget here
        o.backoff_base = 5ms;
        o.backoff_max = 50ms;
        o.seed = 3;
        plugin_host::HostOptions h;
        h.http.backoff_base = 5ms;
        h.http.backoff_max = 50ms;
        h.http.timeout = 5000ms;
        h.now_ms = std::move(clock);
        std::map<std::string, std::string, std::less<>> secrets;
        if (!secret_key.empty()) secrets[secret_key] = cfg.at(secret_key).get<std::string>();
        delivery::WorkerReport last;
        for (int i = 0; i < rounds; ++i) {
            delivery::DeliveryService service(w.delivery(), o);
            service.add(
                DeliveryWorld::connector(CDPHUB_PLUGIN_DIR, plugin, instance, cfg, secrets, h));
            last = service.run_until_idle(20s)[instance];
            if (last.pending == 0 || last.state != delivery::DestinationState::running) break;
        }
        return last;
    }

    std::int64_t with_status(const std::string& s) const {
        return w.count("SELECT count(*) FROM activation_changes WHERE status = '" + s + "'");
    }
};

inline json sim_state(sim::SimulatorServer& server) {
    http::Client c;
    http::Request r;
    r.url = server.base_url() + "/_sim/state";
    auto res = c.perform(r);
    return json::parse(res.response().body);
}

inline std::string sha256(const std::string& s) {
    return plugins::sha256_hex(s);
}

}  // namespace cdphub::test

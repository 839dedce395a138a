// meta-audiences: keeps a Meta customer-list Custom Audience in step with a segment. Members that
// enter are added (POST /{ver}/{audience_id}/users), members that leave are removed (DELETE on the
// same edge), each as one row of SHA-256 hashes of Meta-normalised identifiers. See README.md.
#include <cdphub/sdk.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api.hpp"
#include "normalize.hpp"
#include "settings.hpp"

namespace cdphub::meta {
namespace {

struct User {
    std::size_t index = 0;  // in the hub's batch
    json row;               // one hash (or "") per schema key
};

// Meta's answer to one users call.
struct Answer {
    bool too_large = false;
    std::int64_t received = 0, invalid = 0;
    json samples = json::object();  // invalid value -> reason (a sample, not necessarily all)
};

class MetaAudienceDestination : public Destination {
  public:
    MetaAudienceDestination(Host& host, const json& config)
        : Destination(host), s_(parse_settings(config)), chunk_(s_.max_users) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "meta-audiences";
        i.version = "0.1.0";
        i.name = "Meta Custom Audiences";
        i.kind = Kind::destination;
        i.category = Category::dmp;
        i.config_spec = config_spec();
        // A hub batch is split into calls of at most max_users_per_request rows. The rate
        // limit is a conservative default, not a Meta figure: Meta's limits are per ad account
        // and app, reported in X-Business-Use-Case-Usage.
        i.capabilities = {
            {"batch", {{"max_records", 10000}, {"max_bytes", 32 << 20}}},
            {"rate_limit", {{"requests", 10}, {"per_seconds", 1}}},
            {"identifier_types", json::array({"email", "phone", "email_sha256", "phone_sha256"})}};
        return i;
    }

    void check(Call& call) override {
        HttpRequest req;
        req.url = url() + "?fields=id,name,approximate_count_lower_bound";
        req.retry_safe = true;
        auto r = send(call, std::move(req));
        if (!r.ok()) fail("GET /" + s_.audience_id, r, graph_error(r));
    }

    void write(Call& call, const json& batch) override {
        std::vector<User> adds, removes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& op = batch[i];
            auto row = make_row(op.value("fields", json::object()));
            if (!row) {
                call.report_record(i, Status::invalid_record,
                                   "no usable identifier for Meta: the profile has no value for "
                                   "any of the schema's keys (" +
                                       json(s_.schema).dump() +
                                       "); map them in the binding or filter such profiles out");
                continue;
            }
            (op.value("op", "upsert") == "remove" ? removes : adds).push_back({i, std::move(*row)});
        }
        upload(call, "POST", adds);
        upload(call, "DELETE", removes);
        host().debug("Meta audience " + s_.audience_id + ": " + std::to_string(adds.size()) +
                     " added, " + std::to_string(removes.size()) + " removed; so far Meta " +
                     "received " + std::to_string(received_) + " users, " +
                     std::to_string(invalid_) + " counted invalid");
    }

  private:
    std::string url() const { return s_.base_url + "/" + s_.api_version + "/" + s_.audience_id; }

    // One row for the operation's fields, or nullopt if no schema key has a usable value.
    std::optional<json> make_row(const json& fields) const {
        json row = json::array();
        bool any = false;
        for (const auto& key : s_.schema) {
            std::optional<std::string> h;
            for (const auto& [name, v] : fields.items()) {
                if (!::cdphub::detail::iequals(name, key)) continue;
                if (v.is_string())
                    h = hashed(key, v.get<std::string>());
                else if (v.is_number())
                    h = hashed(key, v.dump());
                break;
            }
            any = any || h.has_value();
            row.push_back(h.value_or(""));
        }
        if (!any) return std::nullopt;
        return row;
    }

    HttpResponse send(const Call& call, HttpRequest req) const {
        req.timeout_ms = s_.timeout_ms;
        req.header("Authorization", "Bearer " + s_.access_token);
        if (!req.body.empty()) req.header("Content-Type", "application/json");
        return call.http(req);
    }

    // Adds (POST) or removes (DELETE) `users`, in calls of at most chunk_ rows. More than one
    // call makes an upload session, so Meta can tell the calls belong together. Each user is
    // reported as soon as its call settled; an outage throws, leaving the rest unreported.
    void upload(const Call& call, const std::string& method, const std::vector<User>& users) {
        if (users.empty()) return;
        bool session = users.size() > chunk_;
        const std::int64_t session_id = host().now_ms() * 1000 + (++sessions_ % 1000);
        std::int64_t seq = 0;
        for (std::size_t pos = 0; pos < users.size();) {
            call.throw_if_cancelled();
            const std::size_t take = std::min(chunk_, users.size() - pos);
            std::vector<const User*> part;
            for (std::size_t k = pos; k < pos + take; ++k) part.push_back(&users[k]);
            json sess;
            if (session)
                sess = {{"session_id", session_id},
                        {"batch_seq", seq + 1},
                        {"last_batch_flag", pos + take == users.size()},
                        {"estimated_num_total", users.size()}};
            auto a = users_call(call, method, part, sess);
            if (a.too_large) {
                if (take == 1)
                    throw ConfigError("Meta refused a single user as too large; check schema");
                chunk_ = std::max<std::size_t>(1, take / 2);
                host().info("Meta refused " + std::to_string(take) + " users in one call; " +
                            "sending at most " + std::to_string(chunk_) + " per call from now on");
                session = true;
                continue;
            }
            ++seq;
            settle(call, method, part, a);
            pos += take;
        }
    }

    // Reports the users of one accepted call. Rows Meta counted invalid although they are
    // well-formed hashes get one more call of their own; what Meta says then decides.
    void settle(const Call& call, const std::string& method, const std::vector<const User*>& part,
                const Answer& a) {
        std::vector<const User*> again;
        std::set<std::size_t> flagged;
        if (a.invalid > 0) {
            for (std::size_t k = 0; k < part.size(); ++k)
                if (named(*part[k], a.samples)) flagged.insert(k);
            if (static_cast<std::int64_t>(flagged.size()) < a.invalid) {
                // Samples do not name every invalid row: repeat the whole call (idempotent).
                host().warn("Meta counted " + std::to_string(a.invalid) + " of " +
                            std::to_string(part.size()) + " users invalid and named only " +
                            std::to_string(flagged.size()) + "; sending the call once more");
                again = part;
            } else {
                for (auto k : flagged) again.push_back(part[k]);
            }
        }
        std::set<const User*> retried(again.begin(), again.end());
        for (const auto* u : part)
            if (!retried.count(u)) call.report_record(u->index, Status::ok);
        if (again.empty()) return;
        const auto b = users_call(call, method, again, json());
        std::size_t named_again = 0;
        for (const auto* u : again) {
            if (b.too_large) {
                call.report_record(u->index, Status::retryable,
                                   "Meta refused the repeated call as too large");
            } else if (b.invalid > 0 && named(*u, b.samples)) {
                call.report_record(
                    u->index, Status::invalid_record,
                    "Meta counted this user invalid twice: " + reason(*u, b.samples));
            } else {
                call.report_record(u->index, Status::ok);
            }
        }
        for (const auto* u : again)
            if (!b.too_large && b.invalid > 0 && named(*u, b.samples)) ++named_again;
        if (b.invalid > static_cast<std::int64_t>(named_again))
            host().warn("Meta counted " + std::to_string(b.invalid) +
                        " users invalid without naming them all; they stay reported delivered");
    }

    static bool named(const User& u, const json& samples) {
        for (const auto& v : u.row)
            if (v.is_string() && !v.get<std::string>().empty() &&
                samples.contains(v.get<std::string>()))
                return true;
        return false;
    }
    static std::string reason(const User& u, const json& samples) {
        for (const auto& v : u.row)
            if (v.is_string() && samples.contains(v.get<std::string>())) {
                const auto& r = samples[v.get<std::string>()];
                return r.is_string() ? r.get<std::string>() : r.dump();
            }
        return "no sample given";
    }

    Answer users_call(const Call& call, const std::string& method,
                      const std::vector<const User*>& part, const json& session) {
        json data = json::array();
        for (const auto* u : part) data.push_back(u->row);
        json body = {{"payload", {{"schema", s_.schema}, {"data", std::move(data)}}}};
        if (!session.is_null()) body["session"] = session;
        HttpRequest req;
        req.method = method;
        req.url = url() + "/users";
        req.body = body.dump();
        req.retry_safe = true;  // adding or removing the same users twice changes nothing
        auto r = send(call, std::move(req));
        const std::string what = method + " /" + s_.api_version + "/" + s_.audience_id + "/users";
        Answer a;
        if (!r.ok()) {
            auto e = graph_error(r);
            if (e.too_large()) {
                a.too_large = true;
                return a;
            }
            fail(what, r, e);
        }
        auto j = r.json_body();
        if (!j.is_object() || !j.contains("num_received"))
            throw RetryableError("Meta answered " + what +
                                 " without num_received: " + printable(r.body()));
        a.received = j.value("num_received", std::int64_t{0});
        a.invalid = j.value("num_invalid_entries", std::int64_t{0});
        if (j.contains("invalid_entry_samples") && j["invalid_entry_samples"].is_object())
            a.samples = j["invalid_entry_samples"];
        received_ += a.received;
        invalid_ += a.invalid;
        if (a.received != static_cast<std::int64_t>(part.size()))
            host().warn("Meta received " + std::to_string(a.received) + " of " +
                        std::to_string(part.size()) + " users on " + what);
        return a;
    }

    Settings s_;
    std::size_t chunk_;
    std::int64_t sessions_ = 0, received_ = 0, invalid_ = 0;
};

}  // namespace
}  // namespace cdphub::meta

CDPHUB_PLUGIN(cdphub::meta::MetaAudienceDestination)

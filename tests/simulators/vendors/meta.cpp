// Meta Marketing API simulator (vendor "meta"): the Custom Audience users edge
// (POST/DELETE /v{N}/{audience_id}/users) and the audience node (GET /v{N}/{audience_id}), in
// Graph's wire shapes (reference/vendor-wire-protocols.md section 4). It keeps each audience's
// members as rows of hashes, validates sessions, accepts only 64-char lower-case hex values
// (anything else counts in num_invalid_entries), and "matches" a member only if one of its hashes
// is the digest of a known user's correctly normalised identifier, as Meta matches only those.
//
// settings: access_tokens (["sim-meta-token"]), audience_id ("23850000000000001"),
//   max_users (10000 rows per call), max_body_bytes (16 MiB: larger bodies get a 413),
//   regain_minutes (0: X-Business-Use-Case-Usage estimated_time_to_regain_access on throttles),
//   invalid_share (0.2 of a partial_failure call's rows are counted invalid and not applied),
//   known_users ({"EMAIL": ["ann@example.com"], "PHONE": ["4915123456789"]}: Meta-normalised
//   plain values).
// Faults: expire_token (the token in use is revoked: 190/463), throttle (80003/2446079 with the
//   usage header), throttle_silent (17/2446079 or 613/1487742, no header), server_error (500 code
//   2 / 503 code 1, in bursts), hang_up, slow, partial_failure (rows counted invalid).
//   Meta never sends Retry-After.
// /_sim/state: {"members": [{KEY: hash}], "emails": [EMAIL hashes, sorted], "matched",
//   "sessions": {id: {"batches", "last_seq", "closed", "estimated_num_total", "received"}},
//   "session_errors": [...], "calls", "oversize_refused", "invalid_entries", "revoked_tokens"}
#include <cdphub_plugins/sha256.hpp>

#include <map>
#include <mutex>
#include <random>
#include <set>

#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

const std::set<std::string> kKeys{"EMAIL", "PHONE", "FN",  "LN",      "GEN",         "DOBY",
                                  "CT",    "ST",    "ZIP", "COUNTRY", "EMAIL_SHA256"};

class Meta final : public Vendor {
  public:
    explicit Meta(const VendorOptions& o) : Vendor(o), rng_(o.seed) {
        const auto& s = o.settings;
        for (const auto& t : s.value("access_tokens", json::array({"sim-meta-token"})))
            tokens_.insert(t.get<std::string>());
        audience_id_ = s.value("audience_id", "23850000000000001");
        max_users_ = s.value("max_users", std::size_t{10000});
        max_body_ = s.value("max_body_bytes", std::size_t{16u << 20});
        regain_minutes_ = s.value("regain_minutes", 0);
        invalid_share_ = s.value("invalid_share", 0.2);
        const json known = s.value("known_users", json::object());
        for (const auto& [key, values] : known.items())
            for (const auto& v : values) known_.insert(plugins::sha256_hex(v.get<std::string>()));
    }

    HttpResponse handle(const HttpRequest& r) override {
        std::lock_guard lock(mu_);
        const std::string path(r.path());
        // /vNN.N/{id} or /vNN.N/{id}/users
        std::vector<std::string> parts;
        for (std::size_t b = 1; b <= path.size();) {
            auto e = path.find('/', b);
            if (e == std::string::npos) e = path.size();
            parts.push_back(path.substr(b, e - b));
            b = e + 1;
        }
        if (parts.size() < 2 || parts[0].size() < 2 || parts[0][0] != 'v')
            return error(400, "Unknown path components: " + path, "OAuthException", 2500, 0);
        const bool users = parts.size() == 3 && parts[2] == "users";
        const auto f = faults().next(
            users ? "users" : "audience",
            {Fault::expire_token, Fault::throttle, Fault::throttle_silent, Fault::server_error,
             Fault::hang_up, Fault::slow, Fault::partial_failure});
        ++calls_;
        const auto token = token_of(r);
        if (token.empty())
            return error(400, "An access token is required to request this resource.",
                         "OAuthException", 104, 0);
        if (!tokens_.count(token))
            return error(400,
                         "Error validating access token: Session has expired on Thursday, "
                         "03-Dec-26 04:00:00 PST.",
                         "OAuthException", 190, 463);
        switch (f) {
            case Fault::expire_token:
                tokens_.erase(token);
                ++revoked_;
                return error(400,
                             "Error validating access token: Session has expired on Thursday, "
                             "03-Dec-26 04:00:00 PST.",
                             "OAuthException", 190, 463);
            case Fault::throttle: {
                auto resp = error(400,
                                  "There have been too many calls from this ad-account. Please "
                                  "wait a bit and try again.",
                                  "OAuthException", 80003, 2446079);
                resp.headers.emplace_back(
                    "X-Business-Use-Case-Usage",
                    json{{"1234567890",
                          {{{"type", "custom_audience"},
                            {"call_count", 100},
                            {"total_cputime", 20},
                            {"total_time", 30},
                            {"estimated_time_to_regain_access", regain_minutes_}}}}}
                        .dump());
                return resp;
            }
            case Fault::throttle_silent:
                return (rng_() % 2)
                           ? error(400, "User request limit reached", "OAuthException", 17, 2446079)
                           : error(400, "Calls to this api have exceeded the rate limit.",
                                   "OAuthException", 613, 1487742);
            case Fault::server_error:
                return (rng_() % 2)
                           ? error(500, "Service temporarily unavailable", "OAuthException", 2, 0)
                           : error(503, "An unknown error occurred", "OAuthException", 1, 0);
            case Fault::hang_up: {
                HttpResponse h;
                h.close_without_answer = true;
                return h;
            }
            default:
                break;
        }
        HttpResponse resp;
        if (parts[1] != audience_id_)
            resp = error(400,
                         "Unsupported " + std::string(users ? "post" : "get") +
                             " request. Object with ID '" + parts[1] +
                             "' does not exist, cannot be loaded due to missing permissions, or "
                             "does not support this operation.",
                         "GraphMethodException", 100, 33);
        else if (!users && r.method == "GET")
            resp = HttpResponse::json(200, json{{"id", audience_id_},
                                                {"name", "cdphub simulated audience"},
                                                {"approximate_count_lower_bound", matched()}}
                                               .dump());
        else if (users && (r.method == "POST" || r.method == "DELETE"))
            resp = users_call(r, r.method == "DELETE", f == Fault::partial_failure);
        else
            resp = error(400, "Unsupported request: " + r.method + " " + path,
                         "GraphMethodException", 100, 0);
        if (f == Fault::slow) resp.delay = std::chrono::milliseconds(options().faults.slow_ms);
        return resp;
    }

    json state() const override {
        std::lock_guard lock(mu_);
        json members = json::array();
        std::set<std::string> emails;
        for (const auto& [k, row] : members_) {
            members.push_back(row);
            if (row.contains("EMAIL")) emails.insert(row["EMAIL"].get<std::string>());
        }
        json sessions = json::object();
        for (const auto& [id, s] : sessions_)
            sessions[std::to_string(id)] = {{"batches", s.batches},
                                            {"last_seq", s.last_seq},
                                            {"closed", s.closed},
                                            {"estimated_num_total", s.estimated},
                                            {"received", s.received}};
        return {{"members", members},
                {"emails", emails},
                {"matched", matched()},
                {"sessions", sessions},
                {"session_errors", session_errors_},
                {"calls", calls_},
                {"oversize_refused", oversize_},
                {"invalid_entries", invalid_total_},
                {"revoked_tokens", revoked_}};
    }

  private:
    struct Session {
        std::int64_t batches = 0, last_seq = 0, estimated = 0, received = 0;
        bool closed = false;
    };

    HttpResponse error(int status, const std::string& message, const std::string& type, int code,
                       int subcode) {
        json e = {{"message",
                   (code > 0 && code < 1000 ? "(#" + std::to_string(code) + ") " : "") + message},
                  {"type", type},
                  {"code", code},
                  {"fbtrace_id", trace_id()}};
        if (subcode != 0) e["error_subcode"] = subcode;
        e["is_transient"] = code == 1 || code == 2;
        return HttpResponse::json(status, json{{"error", e}}.dump());
    }

    std::string trace_id() {
        static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        std::string s;
        for (int i = 0; i < 11; ++i) s += a[rng_() % 62];
        return s;
    }

    std::string token_of(const HttpRequest& r) const {
        auto h = std::string(r.header("Authorization"));
        if (h.rfind("Bearer ", 0) == 0) return h.substr(7);
        if (auto q = form_value(r.query(), "access_token"); !q.empty()) return q;
        return form_value(r.body, "access_token");
    }

    std::int64_t matched() const {
        std::int64_t n = 0;
        for (const auto& [k, row] : members_)
            for (const auto& [key, h] : row.items())
                if (known_.count(h.get<std::string>())) {
                    ++n;
                    break;
                }
        return n;
    }

    // The body's payload and session: JSON, or form fields holding JSON text (both accepted).
    static bool read_body(const HttpRequest& r, json& payload, json& session) {
        auto j = json::parse(r.body, nullptr, false);
        if (j.is_object()) {
            payload = j.value("payload", json());
            session = j.value("session", json());
        } else {
            payload = json::parse(form_value(r.body, "payload"), nullptr, false);
            auto s = form_value(r.body, "session");
            session = s.empty() ? json() : json::parse(s, nullptr, false);
        }
        if (payload.is_string()) payload = json::parse(payload.get<std::string>(), nullptr, false);
        if (session.is_string()) session = json::parse(session.get<std::string>(), nullptr, false);
        return payload.is_object() && !payload.is_discarded() && !session.is_discarded();
    }

    static bool hex64(const json& v) {
        return v.is_string() && plugins::is_sha256_hex(v.get<std::string>());
    }

    HttpResponse users_call(const HttpRequest& r, bool remove, bool partial) {
        if (r.body.size() > max_body_) {
            ++oversize_;
            return error(413, "Request Entity Too Large", "OAuthException", 1, 0);
        }
        json payload, session;
        if (!read_body(r, payload, session))
            return error(400, "Invalid parameter: payload must be a JSON object", "OAuthException",
                         100, 0);
        json schema = payload.value("schema", json());
        if (schema.is_string()) schema = json::array({schema});
        if (!schema.is_array() || schema.empty())
            return error(400, "Invalid parameter: payload.schema is required", "OAuthException",
                         100, 0);
        for (const auto& k : schema)
            if (!k.is_string() || !kKeys.count(k.get<std::string>()))
                return error(400, "Invalid parameter: unknown schema key " + k.dump(),
                             "OAuthException", 100, 0);
        const json data = payload.value("data", json());
        if (!data.is_array())
            return error(400, "Invalid parameter: payload.data is required", "OAuthException", 100,
                         0);
        if (data.size() > max_users_) {
            ++oversize_;
            return error(400,
                         "Invalid parameter: too many users in payload.data (" +
                             std::to_string(data.size()) + "); at most " +
                             std::to_string(max_users_) + " per request",
                         "OAuthException", 100, 0);
        }
        // Session bookkeeping: batch_seq from 1 upwards; a repeated seq (a retry) is accepted.
        std::int64_t session_id = 0;
        if (session.is_object()) {
            session_id = session.value("session_id", std::int64_t{0});
            const auto seq = session.value("batch_seq", std::int64_t{0});
            if (session_id <= 0 || seq <= 0)
                return error(400, "Invalid parameter: session_id and batch_seq are required",
                             "OAuthException", 100, 0);
            auto& s = sessions_[session_id];
            if (seq > s.last_seq + 1) {
                session_errors_.push_back("session " + std::to_string(session_id) + ": batch_seq " +
                                          std::to_string(seq) + " after " +
                                          std::to_string(s.last_seq));
                return error(400, "Invalid parameter: batch_seq is out of order", "OAuthException",
                             100, 0);
            }
            if (s.closed && seq > s.last_seq) {
                session_errors_.push_back("session " + std::to_string(session_id) +
                                          ": batch after last_batch_flag");
                return error(400, "Invalid parameter: the session is already finished",
                             "OAuthException", 100, 0);
            }
            if (seq == s.last_seq + 1) {
                ++s.batches;
                s.last_seq = seq;
                s.received += static_cast<std::int64_t>(data.size());
            }
            s.estimated = session.value("estimated_num_total", s.estimated);
            if (session.value("last_batch_flag", false)) s.closed = true;
        }
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        std::int64_t invalid = 0;
        json samples = json::object();
        for (const auto& row : data) {
            std::string why;
            json user = json::object();
            if (!row.is_array() || row.size() != schema.size()) {
                why = "row does not match the schema";
            } else {
                for (std::size_t k = 0; k < schema.size(); ++k) {
                    if (row[k].is_string() && row[k].get<std::string>().empty()) continue;
                    if (!hex64(row[k])) {
                        why = schema[k].get<std::string>() + " is not a SHA-256 hash";
                        break;
                    }
                    auto key = schema[k].get<std::string>();
                    user[key == "EMAIL_SHA256" ? "EMAIL" : key] = row[k];
                }
                if (why.empty() && user.empty()) why = "no identifier in the row";
                if (why.empty() && partial && coin(rng_) < invalid_share_)
                    why = "could not be processed";
            }
            if (!why.empty()) {
                ++invalid;
                if (samples.size() < 100 && row.is_array())
                    for (const auto& v : row)
                        if (v.is_string() && !v.get<std::string>().empty()) {
                            samples[v.get<std::string>()] = why;
                            break;
                        }
                continue;
            }
            apply(user, remove);
        }
        invalid_total_ += invalid;
        json out = {{"audience_id", audience_id_},
                    {"num_received", data.size()},
                    {"num_invalid_entries", invalid},
                    {"invalid_entry_samples", samples}};
        if (session_id > 0) out["session_id"] = std::to_string(session_id);
        return HttpResponse::json(200, out.dump());
    }

    // A user is one person: any shared hash finds them. Add replaces, remove drops.
    void apply(const json& user, bool remove) {
        for (auto it = members_.begin(); it != members_.end();) {
            bool same = false;
            for (const auto& [key, h] : user.items())
                if (it->second.contains(key) && it->second[key] == h) same = true;
            it = same ? members_.erase(it) : std::next(it);
        }
        if (!remove) members_[user.begin().value().get<std::string>()] = user;
    }

    std::set<std::string> tokens_, known_;
    std::string audience_id_;
    std::size_t max_users_, max_body_;
    int regain_minutes_ = 0;
    double invalid_share_ = 0.2;

    mutable std::mutex mu_;
    std::mt19937_64 rng_;
    std::map<std::string, json> members_;
    std::map<std::int64_t, Session> sessions_;
    std::vector<std::string> session_errors_;
    std::int64_t calls_ = 0, oversize_ = 0, invalid_total_ = 0, revoked_ = 0;
};

}  // namespace

CDPHUB_SIM_VENDOR("meta", Meta);

}  // namespace cdphub::sim

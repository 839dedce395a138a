// SendGrid Marketing Contacts simulator (vendor "sendgrid"): the asynchronous contacts upsert
// (PUT /v3/marketing/contacts -> 202 {"job_id"}), the import status
// (GET /v3/marketing/contacts/imports/{id}: pending for a few polls, then completed, or errored
// with per-contact errors in a CSV at errors_url), lookup by email
// (POST /v3/marketing/contacts/search/emails) and list removal
// (DELETE /v3/marketing/lists/{id}/contacts?contact_ids=a,b), in SendGrid's shapes
// (reference/vendor-wire-protocols.md section 3b). Errors are {"errors": [{"field", "message"}]}.
//
// settings: api_key ("SG.sim-key"), lists (["list-vip"]), custom_fields (["e1_T"]: ids that
//   exist), max_contacts (30000), max_bytes (6000000): a larger PUT gets 413, pending_polls (2),
//   failed_share (0.25 of a partial_failure job's contacts fail "please retry"),
//   invalid_domain ("invalid.test": contacts there fail permanently in the job),
//   reset_after_s (1: X-RateLimit-Reset of a throttle answer is now + this).
// Faults: throttle (429 with X-RateLimit-Limit/Remaining/Reset, SendGrid sends no Retry-After),
//   throttle_silent (429 with no headers), server_error (500 JSON / 503 HTML), hang_up, slow,
//   partial_failure (PUT contacts: the job settles errored for some contacts).
// /_sim/state: {"contacts": {email: {"id", "list_ids", "first_name", ..., "custom_fields"}},
//   "imports", "partial_jobs", "too_large", "list_removals", "applied": {email: jobs that
//   upserted it}}
#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "simulators/simulator.hpp"

namespace cdphub::sim {
namespace {

HttpResponse errors(int status, const std::string& message, json field = nullptr) {
    return HttpResponse::json(
        status, json{{"errors", json::array({{{"field", field}, {"message", message}}})}}.dump());
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string csv_cell(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

struct Import {
    json contacts;
    json list_ids;
    int polls = 0;
    bool partial = false;
    bool settled = false;
    std::string status = "pending";
    std::vector<std::pair<std::string, std::string>> errors;  // email, message
    std::size_t created = 0, updated = 0;
};

class SendGrid final : public Vendor {
  public:
    explicit SendGrid(const VendorOptions& o) : Vendor(o), rng_(o.seed) {
        const auto& s = o.settings;
        api_key_ = s.value("api_key", "SG.sim-key");
        for (const auto& l : s.value("lists", json::array({"list-vip"})))
            lists_.insert(l.get<std::string>());
        for (const auto& f : s.value("custom_fields", json::array({"e1_T"})))
            custom_fields_.insert(f.get<std::string>());
        max_contacts_ = s.value("max_contacts", std::size_t{30000});
        max_bytes_ = s.value("max_bytes", std::size_t{6000000});
        pending_polls_ = s.value("pending_polls", 2);
        failed_share_ = s.value("failed_share", 0.25);
        invalid_domain_ = s.value("invalid_domain", "invalid.test");
        reset_after_s_ = s.value("reset_after_s", 1);
    }

    HttpResponse handle(const HttpRequest& r) override {
        const std::string path(r.path());
        constexpr std::string_view kErrors = "/_sim/sendgrid/import-errors/";
        if (path.rfind(kErrors, 0) == 0) return errors_file(path.substr(kErrors.size()));
        if (r.header("Authorization") != "Bearer " + api_key_)
            return errors(401, "authorization required");
        const bool put = r.method == "PUT" && path == "/v3/marketing/contacts";
        std::vector<Fault> allowed = {Fault::throttle, Fault::throttle_silent, Fault::server_error,
                                      Fault::hang_up, Fault::slow};
        if (put) allowed.push_back(Fault::partial_failure);
        const auto f = faults().next(put ? "contacts" : "api", allowed);
        switch (f) {
            case Fault::throttle: {
                auto a = errors(429, "too many requests");
                const auto reset = std::time(nullptr) + reset_after_s_;
                a.headers.emplace_back("X-RateLimit-Limit", "600");
                a.headers.emplace_back("X-RateLimit-Remaining", "0");
                a.headers.emplace_back("X-RateLimit-Reset", std::to_string(reset));
                return a;
            }
            case Fault::throttle_silent:
                return errors(429, "too many requests");
            case Fault::server_error: {
                std::lock_guard lock(mu_);
                if (++server_errors_ % 2 == 0)
                    return HttpResponse::text(
                        503, "<html><body>503 Service Unavailable</body></html>", "text/html");
                return errors(500, "internal server error");
            }
            case Fault::hang_up: {
                HttpResponse h;
                h.close_without_answer = true;
                return h;
            }
            default:
                break;
        }
        HttpResponse answer;
        if (put)
            answer = upsert(r, f == Fault::partial_failure);
        else if (r.method == "GET" && path.rfind("/v3/marketing/contacts/imports/", 0) == 0)
            answer = import_status(path.substr(31));
        else if (r.method == "POST" && path == "/v3/marketing/contacts/search/emails")
            answer = search(r);
        else if (r.method == "DELETE" && path.rfind("/v3/marketing/lists/", 0) == 0)
            answer = remove_from_list(r, path.substr(20));
        else if (r.method == "GET" && path == "/v3/marketing/lists")
            answer = HttpResponse::json(200, json{{"result", json::array()}}.dump());
        else
            answer = errors(404, "resource not found");
        if (f == Fault::slow) answer.delay = std::chrono::milliseconds(options().faults.slow_ms);
        return answer;
    }

    json state() const override {
        std::lock_guard lock(mu_);
        json cs = json::object();
        for (const auto& [email, c] : contacts_) cs[email] = c;
        return {{"contacts", cs},
                {"imports", imports_.size()},
                {"partial_jobs", partial_jobs_},
                {"too_large", too_large_},
                {"list_removals", list_removals_},
                {"applied", applied_}};
    }

  private:
    HttpResponse upsert(const HttpRequest& r, bool partial) {
        if (r.body.size() > max_bytes_) {
            std::lock_guard lock(mu_);
            ++too_large_;
            return errors(413, "request body is larger than 6 MB");
        }
        json in = json::parse(r.body, nullptr, false);
        if (!in.is_object() || !in.contains("contacts") || !in["contacts"].is_array() ||
            in["contacts"].empty())
            return errors(400, "contacts are required", "contacts");
        if (in["contacts"].size() > max_contacts_) {
            std::lock_guard lock(mu_);
            ++too_large_;
            return errors(413, "at most 30000 contacts per request");
        }
        const auto list_ids = in.value("list_ids", json::array());
        std::lock_guard lock(mu_);
        for (std::size_t i = 0; i < list_ids.size(); ++i)
            if (!list_ids[i].is_string() || !lists_.count(list_ids[i].get<std::string>()))
                return errors(400, "list does not exist", "list_ids[" + std::to_string(i) + "]");
        for (std::size_t i = 0; i < in["contacts"].size(); ++i) {
            const auto& c = in["contacts"][i];
            if (!c.is_object() || !c.contains("email") || !c["email"].is_string() ||
                c["email"].get<std::string>().find('@') == std::string::npos)
                return errors(400, "email is required and must be a valid address",
                              "contacts[" + std::to_string(i) + "].email");
            if (c.contains("custom_fields"))
                for (const auto& [id, v] : c["custom_fields"].items())
                    if (!custom_fields_.count(id))
                        return errors(400, "custom field " + id + " does not exist",
                                      "contacts[" + std::to_string(i) + "].custom_fields." + id);
        }
        Import job;
        job.contacts = in["contacts"];
        job.list_ids = list_ids;
        job.partial = partial;
        if (partial) ++partial_jobs_;
        const auto id = "job-" + std::to_string(imports_.size() + 1);
        imports_[id] = std::move(job);
        return HttpResponse::json(202, json{{"job_id", id}}.dump());
    }

    HttpResponse import_status(const std::string& id) {
        std::lock_guard lock(mu_);
        auto it = imports_.find(id);
        if (it == imports_.end()) return errors(404, "job not found");
        auto& job = it->second;
        if (++job.polls > pending_polls_ && !job.settled) settle(job);
        json results = {{"requested_count", job.contacts.size()},
                        {"created_count", job.created},
                        {"updated_count", job.updated},
                        {"deleted_count", 0},
                        {"errored_count", job.errors.size()}};
        if (!job.errors.empty())
            results["errors_url"] = base_url() + "/_sim/sendgrid/import-errors/" + id + ".csv";
        return HttpResponse::json(200,
                                  json{{"id", id},
                                       {"status", job.status},
                                       {"job_type", "upsert"},
                                       {"results", results},
                                       {"started_at", "2024-05-01T10:00:00Z"},
                                       {"finished_at", job.settled ? "2024-05-01T10:00:05Z" : ""}}
                                      .dump());
    }

    void settle(Import& job) {
        std::uniform_real_distribution<double> share(0.0, 1.0);
        for (const auto& c : job.contacts) {
            const auto email = lower(c["email"].get<std::string>());
            if (email.substr(email.find('@') + 1) == invalid_domain_) {
                job.errors.emplace_back(email, "email address is invalid");
                continue;
            }
            if (job.partial && share(rng_) < failed_share_) {
                job.errors.emplace_back(email, "contact could not be processed, please retry");
                continue;
            }
            auto [pos, fresh] = contacts_.emplace(email, json::object());
            auto& stored = pos->second;
            if (fresh) {
                stored = {{"id", "c-" + std::to_string(contacts_.size())},
                          {"email", email},
                          {"list_ids", json::array()},
                          {"custom_fields", json::object()}};
                ++job.created;
            } else {
                ++job.updated;
            }
            for (const auto& [k, v] : c.items())
                if (k == "custom_fields")
                    for (const auto& [fk, fv] : v.items()) stored["custom_fields"][fk] = fv;
                else if (k != "email")
                    stored[k] = v;
            for (const auto& l : job.list_ids) {
                auto& ls = stored["list_ids"];
                if (std::find(ls.begin(), ls.end(), l) == ls.end()) ls.push_back(l);
            }
            ++applied_[email];
        }
        job.settled = true;
        job.status = job.errors.empty() ? "completed" : "errored";
    }

    HttpResponse errors_file(const std::string& name) {
        std::lock_guard lock(mu_);
        auto it = imports_.find(name.substr(0, name.find('.')));
        if (it == imports_.end() || it->second.errors.empty()) return errors(404, "not found");
        std::string csv = "email,error\n";
        for (const auto& [email, message] : it->second.errors)
            csv += csv_cell(email) + "," + csv_cell(message) + "\n";
        return HttpResponse::text(200, csv, "text/csv");
    }

    HttpResponse search(const HttpRequest& r) {
        json in = json::parse(r.body, nullptr, false);
        if (!in.is_object() || !in.contains("emails") || !in["emails"].is_array())
            return errors(400, "emails are required", "emails");
        if (in["emails"].size() > 100) return errors(400, "at most 100 emails", "emails");
        std::lock_guard lock(mu_);
        json result = json::object();
        bool any = false;
        for (const auto& e : in["emails"]) {
            const auto email = lower(e.get<std::string>());
            auto it = contacts_.find(email);
            if (it == contacts_.end()) {
                result[email] = {{"error", "contact not found"}};
            } else {
                result[email] = {{"contact", it->second}};
                any = true;
            }
        }
        if (!any) return errors(404, "No contacts found");
        return HttpResponse::json(200, json{{"result", result}}.dump());
    }

    HttpResponse remove_from_list(const HttpRequest& r, const std::string& rest) {
        const auto slash = rest.find('/');
        if (slash == std::string::npos || rest.substr(slash) != "/contacts")
            return errors(404, "resource not found");
        const auto list = rest.substr(0, slash);
        std::lock_guard lock(mu_);
        if (!lists_.count(list)) return errors(404, "list not found");
        const auto ids = form_value(r.query(), "contact_ids");
        if (ids.empty()) return errors(400, "contact_ids is required", "contact_ids");
        std::set<std::string> wanted;
        for (std::size_t at = 0; at <= ids.size();) {
            auto comma = ids.find(',', at);
            if (comma == std::string::npos) comma = ids.size();
            wanted.insert(ids.substr(at, comma - at));
            at = comma + 1;
        }
        for (auto& [email, c] : contacts_) {
            if (!wanted.count(c["id"].get<std::string>())) continue;
            auto& ls = c["list_ids"];
            auto pos = std::find(ls.begin(), ls.end(), list);
            if (pos != ls.end()) ls.erase(pos);
        }
        ++list_removals_;
        return HttpResponse::json(202,
                                  json{{"job_id", "rm-" + std::to_string(list_removals_)}}.dump());
    }

    mutable std::mutex mu_;
    std::mt19937_64 rng_;
    std::string api_key_, invalid_domain_;
    std::set<std::string> lists_, custom_fields_;
    std::size_t max_contacts_ = 30000, max_bytes_ = 6000000;
    int pending_polls_ = 2, reset_after_s_ = 1;
    double failed_share_ = 0.25;
    std::map<std::string, Import> imports_;
    std::map<std::string, json> contacts_;
    std::map<std::string, int> applied_;
    std::uint64_t partial_jobs_ = 0, too_large_ = 0, list_removals_ = 0, server_errors_ = 0;
};

}  // namespace

CDPHUB_SIM_VENDOR("sendgrid", SendGrid);

}  // namespace cdphub::sim

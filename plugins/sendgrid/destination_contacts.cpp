#include "destination_contacts.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cdphub::sendgrid {

namespace {

struct Contact {
    std::size_t index = 0;
    std::string email;  // lower-cased: SendGrid keys contacts by it
    bool remove = false;
    json body;  // the contact object of a PUT
};

std::string errors_text(std::string_view body) {
    json j = cdphub::parse_untrusted_json(body);
    std::string out;
    if (j.is_object() && j.contains("errors") && j["errors"].is_array())
        for (const auto& e : j["errors"]) {
            if (!out.empty()) out += "; ";
            if (e.contains("field") && e["field"].is_string())
                out += e["field"].get<std::string>() + ": ";
            out += e.value("message", std::string());
        }
    if (out.empty()) out = std::string(body.substr(0, 200));
    return out.substr(0, 300);
}

// A failure SendGrid says is passing (or did not explain): worth another try.
bool transient(const std::string& message) {
    std::string m = message;
    for (auto& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return m.empty() || m.find("retry") != std::string::npos ||
           m.find("temporar") != std::string::npos || m.find("internal") != std::string::npos ||
           m.find("timeout") != std::string::npos;
}

// Minimal CSV (RFC 4180: quoted fields, doubled quotes) for the errors file.
std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
    std::vector<std::vector<std::string>> rows(1);
    std::string cell;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (quoted) {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                cell += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            rows.back().push_back(std::move(cell));
            cell.clear();
        } else if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            rows.back().push_back(std::move(cell));
            cell.clear();
            rows.emplace_back();
        } else {
            cell += ch;
        }
    }
    if (!cell.empty() || !rows.back().empty()) rows.back().push_back(std::move(cell));
    if (rows.back().empty()) rows.pop_back();
    return rows;
}

class Writer {
  public:
    Writer(const Call& call, const Config& c) : call_(call), c_(c) {}

    void run(const json& batch) {
        if (c_.api_key.empty() || c_.list_ids.empty())
            throw ConfigError("the SendGrid destination needs api_key and list_ids");
        std::vector<Contact> upserts, removes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& op = batch[i];
            const auto& fields = op.value("fields", json::object());
            auto e = fields.find(c_.email_field);
            if (e == fields.end() || !e->is_string() || e->get<std::string>().empty()) {
                call_.report_record(i, Status::invalid_record,
                                    "the profile has no \"" + c_.email_field +
                                        "\" field: map it in the binding, SendGrid keys "
                                        "contacts by email");
                continue;
            }
            Contact ct;
            ct.index = i;
            ct.email = e->get<std::string>();
            for (auto& ch : ct.email)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            ct.remove = op.value("op", "upsert") == "remove";
            ct.body = {{"email", ct.email}};
            for (const auto& [name, field] : c_.fields)
                if (auto v = fields.find(field); v != fields.end() && !v->is_null())
                    ct.body[name] = *v;
            for (const auto& [id, field] : c_.custom_fields)
                if (auto v = fields.find(field); v != fields.end() && !v->is_null())
                    ct.body["custom_fields"][id] = *v;
            (ct.remove ? removes : upserts).push_back(std::move(ct));
        }
        upsert_all(upserts, true);
        remove_all(removes);
    }

  private:
    HttpRequest request(std::string method, std::string path) const {
        HttpRequest r;
        r.method = std::move(method);
        r.url = c_.base_url + path;
        r.timeout_ms = c_.timeout_ms;
        r.header("Authorization", "Bearer " + c_.api_key).header("Accept", "application/json");
        return r;
    }

    // Retry-After, else X-RateLimit-Reset (epoch seconds) against the hub's clock; -1 if none.
    int64_t wait_ms(const HttpResponse& r) const {
        if (auto ms = r.retry_after_ms(); ms >= 0) return ms;
        const auto reset = r.header("X-RateLimit-Reset");
        if (reset.empty()) return -1;
        try {
            const int64_t at = std::stoll(std::string(reset)) * 1000;
            return std::max<int64_t>(0, at - call_.host().now_ms());
        } catch (const std::exception&) {
            return -1;
        }
    }

    [[noreturn]] void fail(const std::string& what, const HttpResponse& r) const {
        const int s = r.status();
        const auto msg = "SendGrid answered " + what + " with HTTP " + std::to_string(s) + " (" +
                         errors_text(r.body()) + ")";
        if (s == 401) throw AuthError(msg + ": check api_key");
        if (s == 403)
            throw AuthError(msg +
                            ": the key needs Marketing Contacts access (403 also comes "
                            "after too many bad requests)");
        if (s == 429) throw RateLimitedError(msg, wait_ms(r));
        if (s == 404) throw ConfigError(msg + ": check list_ids");
        if (s == 408 || s >= 500) throw RetryableError(msg, wait_ms(r));
        throw FatalError(msg);
    }

    // Sends a request the plugin repeats itself on 429/5xx/no answer; any other status returns.
    HttpResponse patiently(const HttpRequest& req, const std::string& what) {
        int attempt = 0;
        int64_t pause = c_.retry_backoff_ms;
        for (;;) {
            call_.throw_if_cancelled();
            std::string failure;
            int64_t wait = -1;
            bool throttled = false;
            try {
                auto r = call_.http(req);
                const int s = r.status();
                if (s != 429 && s < 500) return r;
                throttled = s == 429;
                wait = wait_ms(r);
                failure = "SendGrid answered " + what + " with HTTP " + std::to_string(s);
            } catch (const ReportedError& e) {
                if (e.status() != Status::retryable) throw;
                failure = what + " got no answer (network error or timeout)";
            }
            if (++attempt >= c_.max_attempts) {
                if (throttled) throw RateLimitedError(failure + " (gave up after retries)", wait);
                throw RetryableError(failure + " (gave up after retries)", wait);
            }
            const int64_t sleep = wait >= 0 ? std::max<int64_t>(wait, 1) : pause;
            call_.host().warn(failure + "; retrying in " + std::to_string(sleep) + " ms");
            call_.sleep_ms(sleep);
            pause = std::min<int64_t>(std::max<int64_t>(pause * 2, 1), 60'000);
        }
    }

    // ---- upserts ---------------------------------------------------------------------------

    void upsert_all(std::vector<Contact>& all, bool first_round) {
        std::vector<Contact*> chunk;
        std::size_t bytes = 64;
        std::vector<Contact*> failed;  // passing per-contact failures, for one more import
        auto flush = [&] {
            if (!chunk.empty()) import(chunk, failed);
            chunk.clear();
            bytes = 64;
        };
        for (auto& ct : all) {
            const auto size = ct.body.dump().size() + 1;
            if (!chunk.empty() && (chunk.size() >= c_.max_contacts || bytes + size > c_.max_bytes))
                flush();
            chunk.push_back(&ct);
            bytes += size;
        }
        flush();
        if (failed.empty()) return;
        if (first_round) {
            std::vector<Contact> again;
            for (auto* ct : failed) again.push_back(*ct);
            call_.host().info(std::to_string(again.size()) +
                              " contacts failed in a SendGrid import for a passing reason; "
                              "importing them once more");
            upsert_all(again, false);
        } else {
            for (auto* ct : failed)
                call_.report_record(ct->index, Status::retryable,
                                    "SendGrid failed the contact twice: " + last_error_[ct->email]);
        }
    }

    void import(const std::vector<Contact*>& chunk, std::vector<Contact*>& failed) {
        json contacts = json::array();
        for (auto* ct : chunk) contacts.push_back(ct->body);
        auto req = request("PUT", "/v3/marketing/contacts");
        req.body = json{{"list_ids", c_.list_ids}, {"contacts", std::move(contacts)}}.dump(
            -1, ' ', false, json::error_handler_t::replace);
        req.header("Content-Type", "application/json");
        // Not retry_safe for the hub: every PUT queues another import job. The plugin repeats it
        // on 429/5xx (SendGrid did not take it) and on a lost answer, where a second job is
        // possible but harmless: an upsert of the same contacts.
        auto r = patiently(req, "PUT /v3/marketing/contacts");
        if (r.status() == 413 && chunk.size() > 1) {
            const auto half = static_cast<std::ptrdiff_t>(chunk.size() / 2);
            import({chunk.begin(), chunk.begin() + half}, failed);
            import({chunk.begin() + half, chunk.end()}, failed);
            return;
        }
        if (r.status() == 400 || r.status() == 413) {
            const auto why = errors_text(r.body());
            // A custom field that does not exist or an unknown list: every contact would be
            // refused the same way, so it is the configuration, not the data.
            if (r.status() == 400 && (why.find("custom_fields") != std::string::npos ||
                                      why.find("list_ids") != std::string::npos))
                throw ConfigError("SendGrid refused PUT /v3/marketing/contacts (HTTP 400): " + why +
                                  "; check custom_fields (create the field in SendGrid first) "
                                  "and list_ids");
            if (chunk.size() == 1) {
                call_.report_record(chunk[0]->index, Status::invalid_record,
                                    "SendGrid refused the contact " + chunk[0]->email + " (HTTP " +
                                        std::to_string(r.status()) + "): " + why);
                return;
            }
            // The whole request refused for some contact(s): one by one finds them.
            for (auto* ct : chunk) import({ct}, failed);
            return;
        }
        if (r.status() != 202 && !r.ok()) fail("PUT /v3/marketing/contacts", r);
        const auto job = r.json_body().value("job_id", std::string());
        if (job.empty()) throw RetryableError("SendGrid accepted contacts but sent no job_id");

        json status;
        for (std::uint32_t poll = 0;; ++poll) {
            if (poll >= c_.max_polls)
                throw RetryableError("SendGrid import " + job + " still pending after " +
                                     std::to_string(poll) + " polls");
            call_.sleep_ms(c_.poll_ms);
            auto get = request("GET", "/v3/marketing/contacts/imports/" + job);
            auto st = patiently(get, "GET /v3/marketing/contacts/imports/" + job);
            if (!st.ok()) fail("GET /v3/marketing/contacts/imports/" + job, st);
            status = st.json_body();
            const auto s = status.value("status", std::string("pending"));
            if (s == "completed" || s == "errored" || s == "failed") break;
        }
        const auto state = status.value("status", std::string());
        const auto results = status.value("results", json::object());
        if (state == "failed")
            throw RetryableError("SendGrid import " + job + " failed as a whole; it is sent again");
        std::map<std::string, std::string> errors;  // email -> message
        if (results.value("errored_count", 0) > 0) {
            const auto url = results.value("errors_url", std::string());
            if (url.empty())
                throw RetryableError("SendGrid import " + job +
                                     " errored without an errors_url; it is sent again");
            HttpRequest get;
            get.url = url;
            get.timeout_ms = c_.timeout_ms;
            auto file = patiently(get, "the errors of import " + job);
            if (!file.ok()) fail("GET errors_url of import " + job, file);
            auto rows = parse_csv(file.body());
            std::size_t email_col = 0, error_col = 1;
            if (!rows.empty())
                for (std::size_t k = 0; k < rows[0].size(); ++k) {
                    if (rows[0][k] == "email") email_col = k;
                    if (rows[0][k] == "error" || rows[0][k] == "message") error_col = k;
                }
            for (std::size_t k = 1; k < rows.size(); ++k)
                if (rows[k].size() > std::max(email_col, error_col)) {
                    auto e = rows[k][email_col];
                    for (auto& ch : e)
                        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                    errors[e] = rows[k][error_col];
                }
        }
        for (auto* ct : chunk) {
            auto it = errors.find(ct->email);
            if (it == errors.end()) {
                call_.report_record(ct->index, Status::ok);
            } else if (transient(it->second)) {
                last_error_[ct->email] = it->second;
                failed.push_back(ct);
            } else {
                call_.report_record(ct->index, Status::invalid_record,
                                    "SendGrid refused the contact " + ct->email + " in import " +
                                        job + ": " + it->second);
            }
        }
    }

    // ---- removals --------------------------------------------------------------------------

    void remove_all(const std::vector<Contact>& all) {
        for (std::size_t from = 0; from < all.size(); from += 100) {
            call_.throw_if_cancelled();
            const auto to = std::min(all.size(), from + 100);
            json emails = json::array();
            for (auto k = from; k < to; ++k) emails.push_back(all[k].email);
            auto req = request("POST", "/v3/marketing/contacts/search/emails");
            req.body =
                json{{"emails", emails}}.dump(-1, ' ', false, json::error_handler_t::replace);
            req.header("Content-Type", "application/json");
            auto r = patiently(req, "POST /v3/marketing/contacts/search/emails");
            std::map<std::string, std::string> ids;  // email -> contact id
            if (r.status() == 404) {
                // None of them is a contact: nothing to take off a list.
            } else if (r.ok()) {
                const auto result = r.json_body().value("result", json::object());
                for (const auto& [email, found] : result.items())
                    if (found.is_object() && found.contains("contact"))
                        ids[email] = found["contact"].value("id", std::string());
            } else {
                fail("POST /v3/marketing/contacts/search/emails", r);
            }
            std::string csv;
            for (const auto& [email, id] : ids)
                if (!id.empty()) csv += (csv.empty() ? "" : ",") + id;
            if (!csv.empty())
                for (const auto& list : c_.list_ids) {
                    auto del =
                        request("DELETE", "/v3/marketing/lists/" + plugins::url_encode(list) +
                                              "/contacts?contact_ids=" + plugins::url_encode(csv));
                    auto d = patiently(del, "DELETE /v3/marketing/lists/" + list + "/contacts");
                    if (!d.ok()) fail("DELETE /v3/marketing/lists/" + list + "/contacts", d);
                }
            for (auto k = from; k < to; ++k) call_.report_record(all[k].index, Status::ok);
        }
    }

    const Call& call_;
    const Config& c_;
    std::map<std::string, std::string> last_error_;
};

}  // namespace

void check_contacts_destination(const Call& call, const Config& config) {
    if (config.api_key.empty()) return;  // a source instance
    HttpRequest r;
    r.url = config.base_url + "/v3/marketing/lists?page_size=1";
    r.timeout_ms = config.timeout_ms;
    r.retry_safe = true;
    r.header("Authorization", "Bearer " + config.api_key);
    auto a = call.http(r);
    if (a.status() == 401 || a.status() == 403)
        throw AuthError("SendGrid refused the API key (HTTP " + std::to_string(a.status()) +
                        "): it needs Marketing Contacts access");
    if (!a.ok())
        throw RetryableError("SendGrid answered GET /v3/marketing/lists with HTTP " +
                             std::to_string(a.status()));
}

void write_contacts(const Call& call, const Config& config, const json& batch) {
    Writer(call, config).run(batch);
}

}  // namespace cdphub::sendgrid

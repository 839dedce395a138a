#include "destination_members.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto.hpp"
#include "tar_gz.hpp"

namespace cdphub::mailchimp {

namespace {

// One operation of the hub's batch, as a Mailchimp member.
struct Change {
    std::size_t index = 0;  // in the hub's batch
    std::string id;         // change_id: the batch operation_id
    std::string email, hash, tag;
    bool remove = false;
    json merge_fields = json::object();
    bool member_done = false;  // phase 1 (PUT / DELETE) went through
};

// One batch operation's result from the archive: HTTP status and Mailchimp's answer (a string).
struct OpResult {
    int status = 0;
    std::string response;
};

std::string text_of(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

// "title: detail" of a problem document given as text (batch results carry it as a string).
std::string problem_of(const std::string& response) {
    json j = cdphub::parse_untrusted_json(response);
    if (!j.is_object()) return response.substr(0, 300);
    std::string out = j.value("title", std::string());
    if (auto d = j.find("detail"); d != j.end() && d->is_string()) out += ": " + text_of(*d);
    if (auto e = j.find("errors"); e != j.end() && e->is_array())
        for (const auto& f : *e)
            if (f.is_object())
                out += " [" + f.value("field", std::string()) + ": " +
                       f.value("message", std::string()) + "]";
    return out.substr(0, 300);
}

class Writer {
  public:
    Writer(const Call& call, const Config& config, const Api& api)
        : call_(call), c_(config), api_(api) {}

    void run(const json& batch) {
        std::vector<Change> changes;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            std::string why;
            if (auto ch = parse(batch[i], i, why))
                changes.push_back(std::move(*ch));
            else
                call_.report_record(i, Status::invalid_record, why);
        }
        if (changes.size() > c_.batch_threshold)
            batched(changes);
        else
            for (auto& ch : changes) direct(ch);
    }

  private:
    std::optional<Change> parse(const json& op, std::size_t index, std::string& why) const {
        const auto& fields = op.value("fields", json::object());
        auto e = fields.find(c_.email_field);
        if (e == fields.end() || !e->is_string() || e->get<std::string>().empty()) {
            why = "the profile has no \"" + c_.email_field +
                  "\" field: map it in the binding (e.g. \"" + c_.email_field +
                  "\": \"identifiers.email\"), Mailchimp keys members by email";
            return std::nullopt;
        }
        Change ch;
        ch.index = index;
        ch.id = op.contains("change_id") ? text_of(op["change_id"]) : std::to_string(index);
        ch.email = e->get<std::string>();
        ch.hash = subscriber_hash(ch.email);
        ch.remove = op.value("op", "upsert") == "remove";
        ch.tag = c_.tag.empty() ? op.value("segment", std::string()) : c_.tag;
        if (ch.tag.empty()) {
            why = "no tag name: the operation names no segment and the config sets no \"tag\"";
            return std::nullopt;
        }
        for (const auto& [merge_tag, field] : c_.merge_fields)
            if (auto v = fields.find(field); v != fields.end() && !v->is_null())
                ch.merge_fields[merge_tag] = *v;
        return ch;
    }

    std::string member_path(const Change& ch) const {
        return "/lists/" + c_.list_id + "/members/" + ch.hash;
    }
    // Phase 1: the member itself (upsert, or archive for removal = archive); none for a
    // removal by tag.
    bool needs_member_call(const Change& ch) const { return !ch.remove || c_.removal == "archive"; }
    // Phase 2: the tag (active on upsert, inactive on removal by tag).
    bool needs_tag_call(const Change& ch) const { return !ch.remove || c_.removal == "tag"; }

    std::string member_method(const Change& ch) const { return ch.remove ? "DELETE" : "PUT"; }
    std::string member_body(const Change& ch) const {
        if (ch.remove) return {};
        json b = {{"email_address", ch.email}, {"status_if_new", c_.status_if_new}};
        // Never "status": that would re-subscribe someone who unsubscribed in Mailchimp.
        if (!ch.merge_fields.empty()) b["merge_fields"] = ch.merge_fields;
        return b.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    std::string tag_body(const Change& ch) const {
        return json{{"tags", {{{"name", ch.tag}, {"status", ch.remove ? "inactive" : "active"}}}}}
            .dump(-1, ' ', false, json::error_handler_t::replace);
    }

    void ok(const Change& ch) const { call_.report_record(ch.index, Status::ok); }
    void invalid(const Change& ch, const std::string& what, int status,
                 const std::string& problem) const {
        call_.report_record(ch.index, Status::invalid_record,
                            "Mailchimp refused " + what + " for " + ch.email + " (HTTP " +
                                std::to_string(status) + "): " + problem);
    }

    // ---- direct calls ---------------------------------------------------------------------

    void direct(Change& ch) {
        call_.throw_if_cancelled();
        if (needs_member_call(ch) && !ch.member_done && !direct_member(ch)) return;
        if (needs_tag_call(ch) && !direct_tag(ch)) return;
        ok(ch);
    }

    // false if the member was refused (reported).
    bool direct_member(Change& ch) {
        HttpRequest req;
        req.method = member_method(ch);
        req.url = member_path(ch);
        req.body = member_body(ch);
        req.retry_safe = true;  // PUT is an upsert, DELETE archives: both idempotent
        auto r = patiently(req, req.method + " " + req.url);
        if (r.ok() || (ch.remove && r.status() == 404)) {  // 404: nothing to archive
            ch.member_done = true;
            return true;
        }
        if (r.status() == 400) {
            invalid(ch, "the member", 400, Api::problem_text(r));
            return false;
        }
        api_.fail(req.method + " " + req.url, r);
    }

    bool direct_tag(const Change& ch) {
        HttpRequest req;
        req.method = "POST";
        req.url = member_path(ch) + "/tags";
        req.body = tag_body(ch);
        req.retry_safe = true;  // setting a tag's status twice changes nothing
        auto r = patiently(req, "POST " + req.url);
        if (r.ok() || (ch.remove && r.status() == 404)) return true;  // 404: not a member
        if (r.status() == 400 || r.status() == 404) {
            invalid(ch, "the tag", r.status(), Api::problem_text(r));
            return false;
        }
        api_.fail("POST " + req.url, r);
    }

    // ---- batches --------------------------------------------------------------------------

    void batched(std::vector<Change>& changes) {
        std::vector<Change*> phase1, phase2;
        for (auto& ch : changes)
            if (needs_member_call(ch)) phase1.push_back(&ch);
        std::vector<json> ops;
        for (auto* ch : phase1) {
            json op = {{"method", member_method(*ch)},
                       {"path", member_path(*ch)},
                       {"operation_id", ch->id}};
            if (!ch->remove) op["body"] = member_body(*ch);  // a JSON string, as Mailchimp wants
            ops.push_back(std::move(op));
        }
        auto results = run(ops);
        for (auto* ch : phase1) {
            auto it = results.find(ch->id);
            if (it != results.end() &&
                (is_2xx(it->second.status) || (ch->remove && it->second.status == 404))) {
                ch->member_done = true;
            } else if (it != results.end() && is_data_error(it->second.status)) {
                invalid(*ch, "the member", it->second.status, problem_of(it->second.response));
                continue;
            } else if (!direct_member(*ch)) {  // failed for a passing reason, or no result
                continue;
            }
            if (needs_tag_call(*ch))
                phase2.push_back(ch);
            else
                ok(*ch);
        }
        for (auto& ch : changes)
            if (!needs_member_call(ch)) phase2.push_back(&ch);

        ops.clear();
        for (auto* ch : phase2)
            ops.push_back({{"method", "POST"},
                           {"path", member_path(*ch) + "/tags"},
                           {"operation_id", ch->id},
                           {"body", tag_body(*ch)}});
        results = run(ops);
        for (auto* ch : phase2) {
            auto it = results.find(ch->id);
            if (it != results.end() &&
                (is_2xx(it->second.status) || (ch->remove && it->second.status == 404)))
                ok(*ch);
            else if (it != results.end() && is_data_error(it->second.status))
                invalid(*ch, "the tag", it->second.status, problem_of(it->second.response));
            else if (direct_tag(*ch))
                ok(*ch);
        }
    }

    static bool is_2xx(int s) { return s >= 200 && s < 300; }
    // About that one member: resending it would get the same answer.
    static bool is_data_error(int s) { return s == 400 || s == 404 || s == 422; }

    // Runs `ops` as batches of at most batch_max_operations and batch_max_bytes; the results by
    // operation_id. Operations without a result (archive unreadable, a batch that vanished) are
    // missing from the map: the caller resends them one by one.
    std::map<std::string, OpResult> run(const std::vector<json>& ops) {
        std::map<std::string, OpResult> results;
        std::vector<json> chunk;
        std::size_t bytes = 20;
        auto flush = [&] {
            if (!chunk.empty()) submit(chunk, results);
            chunk.clear();
            bytes = 20;
        };
        for (const auto& op : ops) {
            const auto size = op.dump().size() + 1;
            if (!chunk.empty() &&
                (chunk.size() >= c_.batch_max_operations || bytes + size > c_.batch_max_bytes))
                flush();
            chunk.push_back(op);
            bytes += size;
        }
        flush();
        return results;
    }

    // Pauses before another attempt of a call the plugin repeats itself; throws once
    // max_attempts are spent.
    void again(int& attempt, int64_t& pause, const std::string& failure, bool throttled) {
        if (++attempt >= c_.max_attempts) {
            if (throttled) throw RateLimitedError(failure + " (gave up after retries)", -1);
            throw RetryableError(failure + " (gave up after retries)");
        }
        call_.host().warn(failure + "; retrying in " + std::to_string(pause) + " ms");
        call_.sleep_ms(pause);
        pause = std::min<int64_t>(std::max<int64_t>(pause * 2, 1), 60'000);
    }

    // Sends `req`, repeating it itself on 429, a bare 403, 5xx and no answer (Mailchimp names
    // no retry time); returns any other answer. Throws once max_attempts are spent.
    HttpResponse patiently(const HttpRequest& req, const std::string& what,
                           bool authorized = true) {
        int attempt = 0;
        int64_t pause = c_.retry_backoff_ms;
        for (;;) {
            call_.throw_if_cancelled();
            std::string failure;
            bool throttled = false;
            try {
                auto r = authorized ? api_.send(call_, req) : call_.http(req);
                const int s = r.status();
                const bool bare_403 = s == 403 && Api::problem_text(r).empty();
                if (s != 429 && !bare_403 && s < 500) return r;
                throttled = s == 429 || bare_403;
                failure = "Mailchimp answered " + what + " with HTTP " + std::to_string(s);
            } catch (const ReportedError& e) {
                if (e.status() != Status::retryable) throw;
                failure = what + " got no answer (network error or timeout)";
            }
            again(attempt, pause, failure, throttled);
        }
    }

    void submit(const std::vector<json>& ops, std::map<std::string, OpResult>& results) {
        call_.throw_if_cancelled();
        HttpRequest req;
        req.method = "POST";
        req.url = "/batches";
        req.body = json{{"operations", ops}}.dump(-1, ' ', false, json::error_handler_t::replace);
        // Not retry_safe for the hub: every POST creates another batch. The plugin resends it
        // on 429/5xx (Mailchimp did not take it) and on a lost answer, where Mailchimp may have
        // made the batch: its operations are idempotent (PUT, DELETE, tag status), so a second
        // batch costs time, not correctness.
        auto r = patiently(req, "POST /batches");
        const int s = r.status();
        if (s == 413 && ops.size() > 1) {  // too large: two halves
            const auto half = static_cast<std::ptrdiff_t>(ops.size() / 2);
            submit({ops.begin(), ops.begin() + half}, results);
            submit({ops.begin() + half, ops.end()}, results);
            return;
        }
        if (s == 413 || s == 400) {
            // One operation too large, or the batch refused as a whole: no results, so each
            // operation is sent on its own and gets its own answer.
            return;
        }
        if (!r.ok()) api_.fail("POST /batches", r);
        const auto id = r.json_body().value("id", std::string());
        if (id.empty()) throw RetryableError("Mailchimp accepted a batch but sent no id");

        json status;
        for (std::uint32_t poll = 0;; ++poll) {
            if (poll >= c_.max_polls)
                throw RetryableError("Mailchimp batch " + id + " not finished after " +
                                     std::to_string(poll) + " polls");
            call_.sleep_ms(c_.poll_ms);
            HttpRequest get;
            get.url = "/batches/" + id;
            get.retry_safe = true;
            auto st = patiently(get, "GET /batches/" + id);
            if (!st.ok()) api_.fail("GET /batches/" + id, st);
            status = st.json_body();
            if (status.value("status", "") == "finished") break;
        }
        const auto url = status.value("response_body_url", std::string());
        call_.host().info("Mailchimp batch " + id + " finished: " +
                          std::to_string(status.value("total_operations", 0)) + " operations, " +
                          std::to_string(status.value("errored_operations", 0)) + " errored");
        if (url.empty()) {
            call_.host().warn("Mailchimp batch " + id +
                              " has no response_body_url; its operations are sent one by one");
            return;
        }
        // A pre-signed storage URL: no Authorization header (the storage refuses a second one).
        HttpRequest dl;
        dl.url = url;
        dl.timeout_ms = c_.timeout_ms;
        dl.retry_safe = true;
        auto archive = patiently(dl, "GET the results of batch " + id, false);
        if (!archive.ok()) {
            call_.host().warn("the results of Mailchimp batch " + id + " are not readable (HTTP " +
                              std::to_string(archive.status()) +
                              "); its operations are sent one by one");
            return;
        }
        try {
            for (const auto& [name, content] : untar_gz(archive.body())) {
                json arr = cdphub::parse_untrusted_json(content);
                if (!arr.is_array()) continue;
                for (const auto& res : arr)
                    if (res.is_object() && res.contains("operation_id"))
                        results[text_of(res["operation_id"])] = {
                            res.value("status_code", 0),
                            res.contains("response") ? text_of(res["response"]) : std::string()};
            }
        } catch (const std::exception& e) {
            call_.host().warn("the results of Mailchimp batch " + id + " are unreadable (" +
                              e.what() + "); its operations are sent one by one");
        }
    }

    const Call& call_;
    const Config& c_;
    const Api& api_;
};

}  // namespace

void write_members(const Call& call, const Config& config, const Api& api, const json& batch) {
    Writer(call, config, api).run(batch);
}

}  // namespace cdphub::mailchimp

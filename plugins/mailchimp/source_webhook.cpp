#include "source_webhook.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <vector>

#include "crypto.hpp"
#include "member_records.hpp"

namespace cdphub::mailchimp {

namespace {

// Compares without stopping at the first difference, so the time taken does not tell a caller
// how much of a guessed secret was right.
bool same_secret(std::string_view given, std::string_view expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    const size_t n = std::max(given.size(), expected.size());
    for (size_t i = 0; i < n; ++i) {
        const auto a = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
        const auto b = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
        diff |= static_cast<unsigned char>(a ^ b);
    }
    return diff == 0;
}

std::string_view last_segment(std::string_view path) {
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "data[merges][FNAME]" -> {"data", "merges", "FNAME"}; a key with unbalanced brackets is taken
// whole.
std::vector<std::string> key_path(const std::string& key) {
    const auto open = key.find('[');
    if (open == std::string::npos || open == 0) return {key};
    std::vector<std::string> out{key.substr(0, open)};
    size_t i = open;
    while (i < key.size()) {
        if (key[i] != '[') return {key};
        const auto close = key.find(']', i);
        if (close == std::string::npos) return {key};
        out.push_back(key.substr(i + 1, close - i - 1));
        i = close + 1;
    }
    return out;
}

std::string str(const json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// fired_at is "YYYY-MM-DD HH:MM:SS" in GMT.
std::string occurred_at(const std::string& fired_at) {
    std::string t = fired_at;
    if (t.size() == 19 && t[10] == ' ') t = t.substr(0, 10) + "T" + t.substr(11) + "Z";
    return plugins::parse_utc_ms(t) ? t : std::string();
}

}  // namespace

json parse_webhook_form(std::string_view body) {
    json root = json::object();
    for (const auto& [key, value] : plugins::form_pairs(body)) {
        const auto path = key_path(key);
        json* node = &root;
        bool blocked = false;
        for (size_t i = 0; i + 1 < path.size(); ++i) {
            auto& child = (*node)[path[i]];
            if (child.is_null()) child = json::object();
            if (!child.is_object()) {
                blocked = true;
                break;
            }
            node = &child;
        }
        if (!blocked && !node->contains(path.back())) (*node)[path.back()] = value;
    }
    return root;
}

void receive_webhook(const Call& call, const Config& config, const WebhookRequest& request) {
    if (config.webhook_secret.empty()) {
        call.respond(404, "text/plain", "no webhook here\n");
        throw ConfigError(
            "a Mailchimp webhook arrived but webhook_secret is not set: set it (as a secret) "
            "and end the webhook URL in Mailchimp with it");
    }
    if (!same_secret(last_segment(request.path), config.webhook_secret)) {
        call.respond(401, "text/plain", "unauthorized\n");
        throw AuthError(
            "refused a Mailchimp webhook whose URL does not end in webhook_secret; if Mailchimp "
            "sent it, copy the URL with the current secret into the audience's webhook settings");
    }
    if (request.method == "GET" || request.method == "HEAD") {
        // Mailchimp checks the URL with a GET when the webhook is saved.
        call.respond(200, "text/plain", "ok\n");
        return;
    }
    if (request.method != "POST") {
        call.respond(405, "text/plain", "POST or GET only\n");
        return;
    }

    const json form = parse_webhook_form(request.body);
    const auto type = str(form, "type");
    const json data = form.contains("data") && form["data"].is_object() ? form["data"] : json{};
    const auto at = occurred_at(str(form, "fired_at"));
    const auto where = std::string("mailchimp webhook");
    json records = json::array();

    // The same delivery repeated (Mailchimp retries for about 75 minutes) gives the same ids,
    // so the hub keeps it once: the id hashes the decoded fields in sorted order.
    auto pairs = plugins::form_pairs(request.body);
    std::sort(pairs.begin(), pairs.end());
    const auto id = "webhook:" + type + ":" + sha256_hex(plugins::form_encode(pairs)).substr(0, 32);

    auto list_id = str(data, "list_id");
    if (!list_id.empty() && list_id != config.list_id) {
        call.host().warn("ignored a Mailchimp '" + type + "' webhook for audience '" + list_id +
                         "': this instance reads audience '" + config.list_id + "'");
        call.respond(200, "text/plain", "ok\n");
        return;
    }
    const auto email = str(data, "email");
    auto identify = [&](json traits) {
        records.push_back({{"type", "identify"},
                           {"record_id", id},
                           {"occurred_at", at},
                           {"identifiers", {{"email", email}}},
                           {"traits", std::move(traits)}});
    };
    auto consent = [&](const std::string& status) {
        records.push_back({{"type", "consent"},
                           {"record_id", id + ":consent"},
                           {"occurred_at", at},
                           {"identifiers", {{"email", email}}},
                           {"consent", consent_for_status(status)}});
    };
    const json merges = data.contains("merges") ? data["merges"] : json::object();

    if (type == "campaign") {
        // A campaign's sending status: about no one in particular.
        call.host().debug("Mailchimp campaign webhook (" + str(data, "status") + "); no records");
    } else if (type.empty() || at.empty()) {
        records.push_back(unreadable(std::string(request.body),
                                     type.empty() ? "no 'type' field" : "no readable 'fired_at'",
                                     where));
    } else if (type == "upemail") {
        const auto old_email = str(data, "old_email");
        const auto new_email = str(data, "new_email");
        if (old_email.empty() || new_email.empty())
            records.push_back(unreadable(std::string(request.body),
                                         "upemail without old_email or new_email", where));
        else
            records.push_back(
                {{"type", "alias"},
                 {"record_id", id},
                 {"occurred_at", at},
                 {"identifiers", {{"email", new_email}}},
                 {"alias", {{"previous_id", {{"type", "email"}, {"value", old_email}}}}}});
    } else if (email.empty()) {
        records.push_back(unreadable(std::string(request.body), "no data[email]", where));
    } else if (type == "subscribe" || type == "unsubscribe" || type == "cleaned") {
        const std::string status = type == "subscribe"     ? "subscribed"
                                   : type == "unsubscribe" ? "unsubscribed"
                                                           : "cleaned";
        json traits = merge_traits(config, merges);
        traits["mailchimp_status"] = status;
        if (auto r = str(data, "reason"); !r.empty())
            traits[type == "cleaned" ? "mailchimp_cleaned_reason"
                                     : "mailchimp_unsubscribe_reason"] = r;
        identify(std::move(traits));
        consent(status);
    } else if (type == "profile") {
        identify(merge_traits(config, merges));
    } else {
        records.push_back(
            unreadable(std::string(request.body), "unknown webhook type '" + type + "'", where));
    }
    if (!records.empty()) call.emit(records);
    call.respond(200, "text/plain", "ok\n");
}

}  // namespace cdphub::mailchimp

#include "source_events.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <map>
#include <optional>
#include <set>

namespace cdphub::sendgrid {

namespace {

const std::map<std::string, std::string, std::less<>>& event_names() {
    static const std::map<std::string, std::string, std::less<>> names = {
        {"processed", "Email Processed"},
        {"deferred", "Email Deferred"},
        {"delivered", "Email Delivered"},
        {"bounce", "Email Bounced"},
        {"dropped", "Email Dropped"},
        {"open", "Email Opened"},
        {"click", "Email Clicked"},
        {"spamreport", "Email Marked as Spam"},
        {"unsubscribe", "Unsubscribed"},
        {"group_unsubscribe", "Unsubscribed from Group"},
        {"group_resubscribe", "Resubscribed to Group"},
    };
    return names;
}

std::string iso_utc(int64_t epoch_s) {
    const auto t = static_cast<std::time_t>(epoch_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
}

std::optional<int64_t> epoch_seconds(const json& v) {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        char* end = nullptr;
        const long long n = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && end != nullptr && *end == '\0') return n;
    }
    return std::nullopt;
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), out, &len, EVP_sha256(), nullptr);
    static constexpr char d[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += d[out[i] >> 4];
        hex += d[out[i] & 15];
    }
    return hex;
}

json unreadable(std::string raw, std::string error) {
    if (raw.size() > 4096) raw = raw.substr(0, 4096);
    return {{"_raw", std::move(raw)}, {"_error", std::move(error)}, {"_file", "sendgrid webhook"}};
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

void append_event_records(const json& e, json& records) {
    if (!e.is_object()) {
        records.push_back(unreadable(dump(e), "an event that is not a JSON object"));
        return;
    }
    const auto type = e.value("event", std::string());
    const auto ts = e.contains("timestamp") ? epoch_seconds(e["timestamp"]) : std::nullopt;
    if (type.empty() || !ts) {
        records.push_back(unreadable(dump(e), "an event without 'event' or a numeric 'timestamp'"));
        return;
    }
    // sg_event_id is SendGrid's idempotency key; an event without one gets an id from its content
    // so that its redelivery is still a repeat.
    const auto id = e.contains("sg_event_id") && e["sg_event_id"].is_string()
                        ? e["sg_event_id"].get<std::string>()
                        : "sg:" + sha256_hex(dump(e)).substr(0, 40);
    const auto at = iso_utc(*ts);
    json identifiers = json::object();
    if (e.contains("email")) identifiers["email"] = e["email"];  // none: the hub rejects it

    json properties = json::object();
    for (const auto& [k, v] : e.items())
        if (k != "email" && k != "timestamp" && k != "event") properties[k] = v;
    // `category` is a string or an array of strings; always an array here.
    if (auto c = properties.find("category"); c != properties.end() && !c->is_array())
        *c = json::array({*c});
    const auto name = event_names().find(type);
    records.push_back({{"type", "track"},
                       {"record_id", id},
                       {"occurred_at", at},
                       {"identifiers", identifiers},
                       {"event", name != event_names().end() ? name->second : "Email " + type},
                       {"properties", std::move(properties)}});

    auto consent = [&](std::string purpose, bool granted) {
        records.push_back({{"type", "consent"},
                           {"record_id", id + ":consent"},
                           {"occurred_at", at},
                           {"identifiers", identifiers},
                           {"consent",
                            {{"purpose", std::move(purpose)},
                             {"granted", granted},
                             {"source", "sendgrid:" + type}}}});
    };
    auto traits = [&](json t) {
        records.push_back({{"type", "identify"},
                           {"record_id", id + ":traits"},
                           {"occurred_at", at},
                           {"identifiers", identifiers},
                           {"traits", std::move(t)}});
    };
    const auto group = e.contains("asm_group_id") ? e["asm_group_id"].dump() : std::string("0");
    if (type == "unsubscribe" || type == "spamreport") {
        consent("email_marketing", false);
    } else if (type == "group_unsubscribe" || type == "group_resubscribe") {
        consent("email_group_" + group, type == "group_resubscribe");
    } else if (type == "bounce") {
        // "bounce" (the address does not exist) or "blocked" (the receiver refused this time).
        traits({{"email_last_bounce_type", e.value("type", std::string("bounce"))},
                {"email_last_bounce_at", at},
                {"email_last_bounce_reason", e.value("reason", std::string())},
                {"email_last_bounce_classification",
                 e.value("bounce_classification", std::string())}});
    } else if (type == "dropped") {
        traits({{"email_last_drop_at", at}, {"email_last_drop_reason", e.value("reason", "")}});
    }
}

void receive_events(const Call& call, const Config& config, const Verifier* verifier,
                    const WebhookRequest& request) {
    if (request.method != "POST") {
        call.respond(405, "text/plain", "POST only\n");
        return;
    }
    if (verifier != nullptr) {
        const auto signature = request.header("X-Twilio-Email-Event-Webhook-Signature");
        const auto timestamp = request.header("X-Twilio-Email-Event-Webhook-Timestamp");
        if (signature.empty() || timestamp.empty()) {
            call.respond(401, "text/plain", "signature required\n");
            throw AuthError(
                "refused an unsigned SendGrid event webhook: verification_key is set, so every "
                "request must carry X-Twilio-Email-Event-Webhook-Signature and -Timestamp "
                "(turn on Signed Event Webhook Requests in SendGrid)");
        }
        if (!verifier->verify(timestamp, request.body, signature)) {
            call.respond(403, "text/plain", "bad signature\n");
            throw AuthError(
                "refused a SendGrid event webhook with a wrong signature: if SendGrid sent it, "
                "the verification_key is not the current one (SendGrid makes a new key pair when "
                "signing is turned off and on)");
        }
        const auto ts = epoch_seconds(json(std::string(timestamp)));
        const auto now_s = call.host().now_ms() / 1000;
        if (!ts || (config.max_signature_age_seconds > 0 &&
                    std::llabs(now_s - *ts) > config.max_signature_age_seconds)) {
            call.respond(403, "text/plain", "stale signature\n");
            throw AuthError("refused a SendGrid event webhook signed at " +
                            std::string(timestamp.substr(0, 20)) + ", more than " +
                            std::to_string(config.max_signature_age_seconds) +
                            " s from the hub's clock (a replay, or a clock is wrong)");
        }
    }
    const auto& body = request.body;
    json events = cdphub::parse_untrusted_json(body);
    json records = json::array();
    if (!events.is_array()) {
        // Nothing in it can be read, and a retry would send the same bytes: keep it for a human.
        records.push_back(unreadable(std::string(body), "the body is not a JSON array of events"));
    } else {
        std::set<std::string> seen;  // SendGrid may repeat an event within one delivery
        for (const auto& e : events) {
            json mine = json::array();
            append_event_records(e, mine);
            for (auto& r : mine) {
                if (r.contains("record_id") &&
                    !seen.insert(r["record_id"].get<std::string>()).second)
                    continue;
                records.push_back(std::move(r));
            }
        }
    }
    if (!records.empty()) call.emit(records);  // one commit: the batch is stored or not at all
    call.respond(200, "text/plain", "ok\n");
}

}  // namespace cdphub::sendgrid

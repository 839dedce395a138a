#include "normalize/normalizer.hpp"

#include <algorithm>
#include <array>

#include "normalize/fields.hpp"
#include "normalize/time.hpp"

namespace cdphub::normalize {
namespace {

using detail::brief;
using detail::kind;
using detail::reject;
using nlohmann::json;

constexpr std::array<std::string_view, 13> kTopLevel{
    "type",   "record_id", "messageId",  "source", "occurred_at", "received_at", "identifiers",
    "traits", "event",     "properties", "order",  "alias",       "consent"};

std::string raw_text(const json& raw) {
    // replace: a JSON value built in memory may hold invalid UTF-8, and the raw text must still
    // be storable; dump() would throw otherwise.
    return raw.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The ndjson-file plugin (and any source following its convention) hands over unreadable lines
// as {"_raw", "_error", "_file", "_line"}; the reason names the file and line.
Rejection plugin_error(const json& raw) {
    const auto& err = raw["_error"];
    std::string where;
    if (auto f = raw.find("_file"); f != raw.end() && f->is_string()) where = f->get<std::string>();
    if (auto l = raw.find("_line"); l != raw.end() && l->is_number_integer())
        where += (where.empty() ? "line " : ":") + l->dump();
    std::string msg = where.empty() ? std::string() : where + ": ";
    msg += err.is_string() ? err.get<std::string>() : brief(err);
    if (err.is_string() && err.get_ref<const std::string&>().empty())
        msg += "the source reported an unreadable record without a reason";
    msg += " (reported by the source; fix the input and read it again)";
    // The source's line is the raw record; when it is absent or empty the wrapper is kept
    // instead, so the rejected store always holds something to look at.
    auto r = raw.find("_raw");
    const bool have_line =
        r != raw.end() && r->is_string() && !r->get_ref<const std::string&>().empty();
    return Rejection{RejectReason::plugin_reported_error, std::move(msg),
                     have_line ? r->get<std::string>() : raw_text(raw)};
}

std::string record_id(const json& raw) {
    auto it = raw.find("record_id");
    std::string_view name = "record_id";
    if (it == raw.end() || it->is_null()) {
        it = raw.find("messageId");  // Segment-style spelling, accepted as an alias
        name = "messageId";
    }
    if (it == raw.end() || it->is_null())
        reject(RejectReason::missing_record_id,
               "record_id missing: every record needs an idempotency key (1-256 characters, "
               "stable across re-reads, e.g. the source system's event or row id)");
    if (!it->is_string())
        reject(RejectReason::missing_record_id, std::string(name) + " must be a string, got " +
                                                    std::string(kind(*it)) + " " + brief(*it));
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 256)
        reject(RejectReason::missing_record_id,
               std::string(name) + " must be 1-256 characters, got " + std::to_string(s.size()));
    return s;
}

Timestamp occurred_at(const json& raw, Timestamp received_at, std::chrono::milliseconds skew) {
    auto it = raw.find("occurred_at");
    if (it == raw.end() || it->is_null())
        reject(RejectReason::bad_timestamp,
               "occurred_at missing: send when the event happened in the source, as RFC 3339 "
               "with offset (e.g. \"2024-05-01T09:30:00Z\")");
    if (!it->is_string())
        reject(RejectReason::bad_timestamp, "occurred_at must be an RFC 3339 string, got " +
                                                std::string(kind(*it)) + " " + brief(*it) +
                                                " (epoch numbers are ambiguous about their unit)");
    auto t = parse_rfc3339(it->get_ref<const std::string&>());
    if (auto* err = std::get_if<std::string>(&t))
        reject(RejectReason::bad_timestamp, "occurred_at: " + *err);
    const Timestamp ts = std::get<Timestamp>(t);
    if (ts > received_at + skew)
        reject(RejectReason::bad_timestamp,
               "occurred_at " + it->get<std::string>() + " is later than received_at " +
                   format_rfc3339(received_at) +
                   " by more than the allowed clock skew; check "
                   "the source's clock and that the offset is right (local time sent as 'Z'?)");
    return ts;
}

void add_identifier(NormalizedRecord& r, Identifier id) {
    // The same identifier twice (e.g. "Ann@x.com" and "ann@x.com") is one identifier.
    for (const auto& have : r.identifiers)
        if (have.type == id.type && have.value == id.value) return;
    r.identifiers.push_back(std::move(id));
}

void read_identifiers(const json& raw, const IdentifierCleanser& cleanser, NormalizedRecord& r) {
    auto it = raw.find("identifiers");
    if (it == raw.end() || it->is_null()) return;
    if (!it->is_object())
        reject(RejectReason::invalid_field,
               "identifiers must be an object of type -> value (or array of values), got " +
                   std::string(kind(*it)));
    for (auto entry = it->begin(); entry != it->end(); ++entry) {
        // Named copies, not structured bindings: clang 14 cannot capture those in the lambda.
        const std::string& type = entry.key();
        const json& value = entry.value();
        if (!is_valid_identifier_type(type)) {
            r.warnings.push_back("identifiers: type " + brief(json(type)) +
                                 " ignored; types are lower-case letters, digits and '_', "
                                 "starting with a letter, at most 64 characters");
            continue;
        }
        const auto one = [&](const json& v) {
            std::string text;
            if (v.is_string()) {
                text = v.get<std::string>();
            } else if (v.is_number_integer()) {
                text = v.dump();
            } else {
                r.warnings.push_back("identifiers." + type + ": " + std::string(kind(v)) +
                                     " ignored; values are strings");
                return;
            }
            auto id = cleanser.cleanse(type, text);
            if (auto* err = std::get_if<std::string>(&id))
                r.warnings.push_back("identifiers." + type + " " + brief(v) + " ignored: " + *err);
            else
                add_identifier(r, std::get<Identifier>(std::move(id)));
        };
        if (value.is_array()) {
            for (const auto& v : value) one(v);
        } else if (!value.is_null()) {
            one(value);
        }
    }
}

json object_field(const json& raw, std::string_view key) {
    auto it = raw.find(key);
    if (it == raw.end() || it->is_null()) return json::object();
    if (!it->is_object())
        reject(RejectReason::invalid_field,
               std::string(key) + " must be an object, got " + std::string(kind(*it)));
    return *it;
}

const json* section(const json& raw, std::string_view key, RecordType type) {
    auto it = raw.find(key);
    if (it == raw.end() || it->is_null())
        reject(RejectReason::invalid_field, std::string(to_string(type)) + " records need an \"" +
                                                std::string(key) + "\" object");
    return &*it;
}

NormalizedRecord build(const json& raw, std::string_view source, Timestamp received_at,
                       const Options& options, const IdentifierCleanser& cleanser) {
    auto type_it = raw.find("type");
    if (type_it == raw.end() || !type_it->is_string())
        reject(RejectReason::unknown_type,
               std::string("type ") + (type_it == raw.end() ? "missing" : "is " + brief(*type_it)) +
                   "; it must be one of identify, track, order, alias, consent");
    auto type = parse_record_type(type_it->get_ref<const std::string&>());
    if (!type)
        reject(RejectReason::unknown_type, "type " + brief(*type_it) +
                                               " is not one of identify, track, order, alias, "
                                               "consent");

    NormalizedRecord r;
    r.type = *type;
    r.source = std::string(source);
    r.received_at = received_at;
    r.record_id = record_id(raw);
    r.occurred_at = occurred_at(raw, received_at, options.max_future_skew);
    r.traits = object_field(raw, "traits");
    r.properties = object_field(raw, "properties");

    switch (r.type) {
        case RecordType::identify:
            break;
        case RecordType::track:
            r.event = detail::required_text(raw, "event", "", 256, false);
            break;
        case RecordType::order:
            r.order = detail::read_order(*section(raw, "order", r.type));
            break;
        case RecordType::alias:
            r.alias = detail::read_alias(*section(raw, "alias", r.type), cleanser);
            break;
        case RecordType::consent:
            r.consent = detail::read_consent(*section(raw, "consent", r.type));
            break;
    }
    if (r.type != RecordType::track && raw.contains("event"))
        r.warnings.push_back("event ignored: only track records have an event");

    read_identifiers(raw, cleanser, r);
    if (r.identifiers.empty()) {
        std::string msg =
            "no usable identifier: send at least one of email, phone, user_id, anonymous_id, "
            "crm_id, pos_customer_id, email_sha256, phone_sha256 or a custom type in "
            "\"identifiers\"";
        for (const auto& w : r.warnings) msg += "; " + w;
        reject(RejectReason::no_identifier, std::move(msg));
    }

    for (const auto& [key, value] : raw.items()) {
        if (std::find(kTopLevel.begin(), kTopLevel.end(), key) == kTopLevel.end())
            r.warnings.push_back("field " + brief(json(key)) +
                                 " is not part of the canonical record and was ignored");
    }
    if (auto s = raw.find("source"); s != raw.end() && !(s->is_string() && *s == source))
        r.warnings.push_back("source " + brief(*s) + " ignored: the hub sets it");
    return r;
}

}  // namespace

std::string_view to_string(RejectReason r) {
    switch (r) {
        case RejectReason::not_an_object:
            return "not_an_object";
        case RejectReason::unknown_type:
            return "unknown_type";
        case RejectReason::missing_record_id:
            return "missing_record_id";
        case RejectReason::no_identifier:
            return "no_identifier";
        case RejectReason::bad_timestamp:
            return "bad_timestamp";
        case RejectReason::invalid_money:
            return "invalid_money";
        case RejectReason::invalid_field:
            return "invalid_field";
        case RejectReason::plugin_reported_error:
            return "plugin_reported_error";
    }
    return "invalid_field";
}

Normalizer::Normalizer(Options options)
    : options_(std::move(options)),
      cleanser_(CleanserOptions{options_.default_region, options_.strict_phone_validation}) {}

Result Normalizer::normalize(const json& raw, std::string_view source,
                             Timestamp received_at) const {
    try {
        if (!raw.is_object())
            return Rejection{RejectReason::not_an_object,
                             "record is " + std::string(kind(raw)) +
                                 ", not a JSON object; sources emit one object per record",
                             raw_text(raw)};
        if (raw.contains("_error") && !raw.contains("type")) return plugin_error(raw);
        return build(raw, source, received_at, options_, cleanser_);
    } catch (detail::Reject& r) {
        return Rejection{r.reason, std::move(r.message), raw_text(raw)};
    } catch (const std::exception& e) {
        // A bug here must not lose the record: it goes to the rejected store with the cause.
        std::string raw_copy;
        try {
            raw_copy = raw_text(raw);
        } catch (...) {
        }
        return Rejection{RejectReason::invalid_field,
                         std::string("internal error while normalizing: ") + e.what(),
                         std::move(raw_copy)};
    }
}

std::optional<std::pair<std::string, std::string>> Normalizer::lookup_form(
    std::string_view type, std::string_view value) const {
    // Through the same path as a record, so that a lookup always matches what was stored.
    nlohmann::json probe = {{"type", "identify"},
                            {"record_id", "lookup"},
                            {"occurred_at", "2024-01-01T00:00:00Z"},
                            {"identifiers", {{std::string(type), std::string(value)}}}};
    auto n = normalize(
        probe, "lookup",
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    if (!n.ok() || n.record().identifiers.empty()) return std::nullopt;
    const auto& id = n.record().identifiers[0];
    return std::pair{id.type, id.value};
}

}  // namespace cdphub::normalize

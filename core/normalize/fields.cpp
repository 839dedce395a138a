#include "normalize/fields.hpp"

#include "normalize/currency.hpp"

namespace cdphub::normalize::detail {
namespace {

using nlohmann::json;

const json* member(const json& obj, std::string_view key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string join(std::string_view path, std::string_view key) {
    std::string out(path);
    if (!out.empty()) out += '.';
    return out.append(key);
}

// An amount in minor units: a JSON integer within +-kMaxMinorUnits. The message for a decimal
// spells out the conversion for this currency, which is the usual mistake.
std::int64_t read_amount(const json& v, std::string_view path, std::string_view currency,
                         int exponent) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(kMaxMinorUnits))
            reject(RejectReason::invalid_money, std::string(path) +
                                                    " is out of range (at most "
                                                    "2^53-1 minor units)");
        const auto n = v.get<std::int64_t>();
        if (n > kMaxMinorUnits || n < -kMaxMinorUnits)
            reject(RejectReason::invalid_money,
                   std::string(path) + " is out of range (at most 2^53-1 minor units)");
        return n;
    }
    const std::string cur(currency);
    std::string msg =
        std::string(path) + " must be an integer number of minor units, got " +
        std::string(kind(v)) + " " + brief(v) + "; " + cur +
        (exponent == 0 ? " has no minor unit" : " has " + std::to_string(exponent) + " decimals") +
        ", so " + format_minor_units(1299, exponent) + " " + cur + " is 1299";
    reject(RejectReason::invalid_money, std::move(msg));
}

std::int64_t required_amount(const json& obj, std::string_view key, std::string_view path,
                             std::string_view currency, int exponent) {
    const json* v = member(obj, key);
    if (!v) reject(RejectReason::invalid_money, join(path, key) + " is missing");
    return read_amount(*v, join(path, key), currency, exponent);
}

std::optional<std::int64_t> optional_amount(const json& obj, std::string_view key,
                                            std::string_view path, std::string_view currency,
                                            int exponent) {
    const json* v = member(obj, key);
    if (!v) return std::nullopt;
    return read_amount(*v, join(path, key), currency, exponent);
}

std::int64_t required_integer(const json& obj, std::string_view key, std::string_view path) {
    const json* v = member(obj, key);
    if (!v) reject(RejectReason::invalid_field, join(path, key) + " is missing");
    if (!v->is_number_integer() ||
        (v->is_number_unsigned() && v->get<std::uint64_t>() > std::uint64_t(kMaxMinorUnits)))
        reject(RejectReason::invalid_field, join(path, key) + " must be an integer, got " +
                                                std::string(kind(*v)) + " " + brief(*v));
    return v->get<std::int64_t>();
}

}  // namespace

void reject(RejectReason reason, std::string message) {
    throw Reject{reason, std::move(message)};
}

std::string brief(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    constexpr std::size_t kMax = 80;
    if (s.size() > kMax) {
        s.resize(kMax);
        // Do not cut a UTF-8 sequence in half: drop continuation bytes and their lead byte.
        while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
        if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
        s += "...";
    }
    return s;
}

std::string_view kind(const json& j) {
    switch (j.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::object:
            return "an object";
        case json::value_t::array:
            return "an array";
        case json::value_t::string:
            return "a string";
        case json::value_t::boolean:
            return "a boolean";
        case json::value_t::number_float:
            return "a decimal number";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
            return "an integer";
        default:
            return "an unsupported value";
    }
}

std::optional<std::string> optional_text(const json& obj, std::string_view key,
                                         std::string_view path, std::size_t max,
                                         bool allow_integer) {
    const json* v = member(obj, key);
    if (!v) return std::nullopt;
    std::string s;
    if (v->is_string()) {
        s = v->get<std::string>();
    } else if (allow_integer && v->is_number_integer()) {
        s = v->dump();
    } else {
        reject(RejectReason::invalid_field, join(path, key) + " must be a string" +
                                                (allow_integer ? " or integer" : "") + ", got " +
                                                std::string(kind(*v)) + " " + brief(*v));
    }
    s = std::string(trim(s));
    if (s.empty()) reject(RejectReason::invalid_field, join(path, key) + " is empty");
    if (s.size() > max)
        reject(RejectReason::invalid_field,
               join(path, key) + " is longer than " + std::to_string(max) + " bytes");
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            reject(RejectReason::invalid_field, join(path, key) + " contains control characters");
    return s;
}

std::string required_text(const json& obj, std::string_view key, std::string_view path,
                          std::size_t max, bool allow_integer) {
    auto s = optional_text(obj, key, path, max, allow_integer);
    if (!s) reject(RejectReason::invalid_field, join(path, key) + " is missing");
    return std::move(*s);
}

Order read_order(const json& j) {
    if (!j.is_object())
        reject(RejectReason::invalid_field,
               "order must be an object with id, currency, "
               "total_minor and lines, got " +
                   std::string(kind(j)));
    Order o;
    o.id = required_text(j, "id", "order", 256, true);
    const json* cur = member(j, "currency");
    if (!cur || !cur->is_string())
        reject(RejectReason::invalid_money,
               "order.currency must be an ISO-4217 code such as \"EUR\", got " +
                   (cur ? brief(*cur) : std::string("nothing")));
    auto code = canonical_currency(cur->get_ref<const std::string&>());
    if (!code)
        reject(RejectReason::invalid_money,
               "order.currency " + brief(*cur) + " is not an active ISO-4217 currency code");
    o.currency = *code;
    const int exp = *currency_minor_units(o.currency);
    o.total_minor = required_amount(j, "total_minor", "order", o.currency, exp);
    o.tax_minor = optional_amount(j, "tax_minor", "order", o.currency, exp);
    o.discount_minor = optional_amount(j, "discount_minor", "order", o.currency, exp);
    o.status = optional_text(j, "status", "order", 64, false).value_or("");

    if (const json* lines = member(j, "lines")) {
        if (!lines->is_array())
            reject(RejectReason::invalid_field,
                   "order.lines must be an array, got " + std::string(kind(*lines)));
        o.lines.reserve(lines->size());
        for (std::size_t i = 0; i < lines->size(); ++i) {
            const json& l = (*lines)[i];
            const std::string path = "order.lines[" + std::to_string(i) + "]";
            if (!l.is_object())
                reject(RejectReason::invalid_field,
                       path + " must be an object, got " + std::string(kind(l)));
            OrderLine line;
            line.sku = required_text(l, "sku", path, 256, true);
            line.name = optional_text(l, "name", path, 1024, false).value_or("");
            line.quantity = required_integer(l, "quantity", path);
            line.price_minor = required_amount(l, "price_minor", path, o.currency, exp);
            o.lines.push_back(std::move(line));
        }
    }
    return o;
}

Consent read_consent(const json& j) {
    if (!j.is_object())
        reject(RejectReason::invalid_field,
               "consent must be an object with purpose and granted, got " + std::string(kind(j)));
    Consent c;
    c.purpose = required_text(j, "purpose", "consent", 128, false);
    const json* g = member(j, "granted");
    if (!g || !g->is_boolean())
        reject(RejectReason::invalid_field, "consent.granted must be true or false, got " +
                                                (g ? brief(*g) : std::string("nothing")));
    c.granted = g->get<bool>();
    c.source = optional_text(j, "source", "consent", 256, false).value_or("");
    return c;
}

Alias read_alias(const json& j, const IdentifierCleanser& cleanser) {
    const json* prev = j.is_object() ? member(j, "previous_id") : nullptr;
    if (!prev || !prev->is_object())
        reject(RejectReason::invalid_field,
               "alias must be {\"previous_id\": {\"type\": ..., \"value\": ...}}, got " + brief(j));
    const std::string type = required_text(*prev, "type", "alias.previous_id", 64, false);
    if (!is_valid_identifier_type(type))
        reject(RejectReason::invalid_field,
               "alias.previous_id.type \"" + type +
                   "\" is not an identifier type (lower-case letters, digits, '_')");
    const std::string value = required_text(*prev, "value", "alias.previous_id", 1024, true);
    auto id = cleanser.cleanse(type, value);
    if (auto* err = std::get_if<std::string>(&id))
        reject(RejectReason::invalid_field, "alias.previous_id: " + *err);
    return Alias{std::get<Identifier>(std::move(id))};
}

}  // namespace cdphub::normalize::detail

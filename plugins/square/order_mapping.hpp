// Square Order -> canonical `order` record.
//
// - record_id "<id>@v<version>": an order changes over time and the store keeps one record per
//   record_id, so every version is its own record; the newest wins in the profile.
// - occurred_at is created_at (the sale), so every version of an order tells the same moment.
// - identifiers {"pos_customer_id": customer_id}. An order without a customer (a walk-in sale)
//   is passed on without identifiers; the hub rejects it as no_identifier, visibly.
// - Money is Square's integer amount in the currency's smallest unit, which is exactly the
//   canonical minor unit (cents for USD, yen for JPY): no conversion.
// - A return order (one with `returns`) becomes an order with negative lines and a negative total
//   (total_money minus return_amounts.total_money), status "returned", as the canonical record
//   wants refunds and returns.
// - A quantity Square gives as a decimal ("0.5" kg) cannot be an integer quantity: the line
//   becomes quantity 1 at the line's total, and the original quantity goes into properties.
#pragma once

#include <cdphub/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <string>

namespace cdphub::square {

inline int64_t amount_of(const json& parent, const char* field) {
    auto it = parent.find(field);
    if (it == parent.end() || !it->is_object()) return 0;
    auto a = it->find("amount");
    return (a != it->end() && a->is_number_integer()) ? a->get<int64_t>() : 0;
}

inline std::string currency_of(const json& order) {
    for (const char* f : {"total_money", "net_amounts", "return_amounts"}) {
        const json* m = order.contains(f) ? &order[f] : nullptr;
        if (m && m->is_object() && m->contains("total_money")) m = &(*m)["total_money"];
        if (m && m->is_object() && m->contains("currency") && (*m)["currency"].is_string())
            return (*m)["currency"].get<std::string>();
    }
    return "";
}

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// One canonical line from a Square line item (or return line item, with `sign` -1).
inline json map_line(const json& item, int sign, json& odd_quantities) {
    json line = json::object();
    std::string sku = item.value("catalog_object_id", item.value("uid", std::string()));
    if (sku.empty()) sku = item.value("name", std::string("custom-amount"));
    line["sku"] = sku;
    if (item.contains("name") && item["name"].is_string() &&
        !item["name"].get<std::string>().empty())
        line["name"] = item["name"];
    const std::string q = item.value("quantity", std::string("1"));
    bool whole = !q.empty() && std::all_of(q.begin(), q.end(),
                                           [](unsigned char c) { return std::isdigit(c) != 0; });
    if (whole && q.size() <= 15) {
        line["quantity"] = sign * std::stoll(q);
        line["price_minor"] = amount_of(item, "base_price_money");
    } else {
        line["quantity"] = sign;
        line["price_minor"] = amount_of(item, "total_money");
        odd_quantities[sku] = q;
    }
    return line;
}

inline json map_order(const json& o) {
    const std::string id = o.at("id").get<std::string>();
    const int64_t version = o.value("version", int64_t{0});
    json lines = json::array();
    json odd = json::object();
    for (const auto& li : o.value("line_items", json::array()))
        lines.push_back(map_line(li, 1, odd));
    const bool is_return = o.contains("returns") && !o["returns"].empty();
    json source_orders = json::array();
    for (const auto& r : o.value("returns", json::array())) {
        if (r.contains("source_order_id")) source_orders.push_back(r["source_order_id"]);
        for (const auto& rl : r.value("return_line_items", json::array()))
            lines.push_back(map_line(rl, -1, odd));
    }
    int64_t total = amount_of(o, "total_money");
    int64_t tax = amount_of(o, "total_tax_money");
    if (o.contains("return_amounts")) {
        total -= amount_of(o["return_amounts"], "total_money");
        tax -= amount_of(o["return_amounts"], "tax_money");
    }
    json order = {{"id", id},
                  {"currency", currency_of(o)},
                  {"total_minor", total},
                  {"status", is_return ? std::string("returned")
                                       : lower(o.value("state", std::string("open")))},
                  {"lines", lines}};
    if (tax != 0) order["tax_minor"] = tax;
    if (int64_t d = amount_of(o, "total_discount_money"); d != 0) order["discount_minor"] = d;
    json props = {{"location_id", o.value("location_id", "")},
                  {"square_state", o.value("state", "")},
                  {"version", version}};
    if (!source_orders.empty()) props["source_order_ids"] = source_orders;
    if (!odd.empty()) props["fractional_quantities"] = odd;
    json identifiers = json::object();
    if (o.contains("customer_id") && o["customer_id"].is_string() &&
        !o["customer_id"].get<std::string>().empty())
        identifiers["pos_customer_id"] = o["customer_id"];
    return {{"type", "order"},
            {"record_id", id + "@v" + std::to_string(version)},
            {"occurred_at", o.value("created_at", o.value("updated_at", std::string()))},
            {"identifiers", identifiers},
            {"order", order},
            {"properties", props}};
}

}  // namespace cdphub::square

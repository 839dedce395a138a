// The manifest's "mapping": which CSV columns make which parts of a canonical record.
//
// A row either becomes a record or a reason it cannot be one; the caller passes the reason on
// for the hub to reject ({"_raw", "_error", "_file", "_line"}), never drops it.
#pragma once

#include <cdphub/sdk.hpp>

#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "local_time.hpp"
#include "money.hpp"

namespace cdphub::csv {

struct Row {
    const std::vector<std::string>& header;
    const std::vector<std::string>& cells;
    std::string get(const std::string& column) const {
        for (size_t i = 0; i < header.size() && i < cells.size(); ++i)
            if (header[i] == column) return trim(cells[i]);
        return {};
    }
    static std::string trim(const std::string& s) {
        const auto b = s.find_first_not_of(" \t");
        if (b == std::string::npos) return {};
        return s.substr(b, s.find_last_not_of(" \t") - b + 1);
    }
};

struct RowError {
    std::string message;
};

class Mapping {
  public:
    Mapping(const json& m, std::string tzdir, char decimal_separator)
        : m_(m), tzdir_(std::move(tzdir)), decimal_(decimal_separator) {
        if (!m_.is_object()) throw ConfigError("\"mapping\" must be an object");
        type_ = m_.value("type", std::string("order"));
        if (type_ != "order" && type_ != "identify" && type_ != "track")
            throw ConfigError("mapping.type must be order, identify or track");
        if (!m_.contains("record_id"))
            throw ConfigError(
                "mapping.record_id is required: the column(s) that identify a row "
                "for good, e.g. \"Transaction ID\"");
        if (type_ == "order" && !m_.contains("order"))
            throw ConfigError("mapping.order is required for type order (id, total, currency)");
        if (type_ == "track" && !m_.contains("event"))
            throw ConfigError("mapping.event is required for type track");
        if (!m_.contains("occurred_at"))
            throw ConfigError(
                "mapping.occurred_at is required (a column, or date + time columns "
                "with a time_zone)");
        const json& oa = m_["occurred_at"];
        if (oa.contains("time_zone")) zone_ = zone(oa["time_zone"].get<std::string>());
        if (oa.contains("date") && !zone_ && !oa.contains("time_zone_column"))
            throw ConfigError(
                "mapping.occurred_at with date/time columns needs a time_zone "
                "(an IANA name such as America/New_York, or +02:00) or a "
                "time_zone_column");
    }

    // Columns the mapping reads, to check a file's header once.
    std::vector<std::string> columns() const {
        std::vector<std::string> out;
        auto add = [&](const json& v) {
            if (v.is_string()) out.push_back(v.get<std::string>());
            if (v.is_array())
                for (const auto& x : v) out.push_back(x.get<std::string>());
        };
        add(m_["record_id"]);
        for (const char* part : {"identifiers", "traits", "properties"})
            if (m_.contains(part))
                for (const auto& [k, v] : m_[part].items()) add(v);
        for (const char* k : {"column", "date", "time", "time_zone_column"})
            if (m_["occurred_at"].contains(k)) add(m_["occurred_at"][k]);
        for (const char* part : {"order", "line"})
            if (m_.contains(part))
                for (const auto& [k, v] : m_[part].items())
                    if (k != "currency" && k != "refund_status") add(v);
        return out;
    }

    std::variant<json, RowError> map(const Row& row) {
        try {
            return build(row);
        } catch (const RowErrorThrow& e) {
            return RowError{e.message};
        }
    }

  private:
    struct RowErrorThrow {
        std::string message;
    };
    [[noreturn]] static void fail(std::string m) { throw RowErrorThrow{std::move(m)}; }

    std::optional<TimeZone> zone(const std::string& name) {
        if (auto it = zones_.find(name); it != zones_.end()) return it->second;
        std::optional<TimeZone> z;
        if (auto off = parse_fixed_offset(name)) {
            z = TimeZone::fixed(*off, name);
        } else {
            z = TimeZone::load(iana_name(name), tzdir_);
        }
        if (!z && zones_.empty() && !m_["occurred_at"].contains("time_zone_column"))
            throw ConfigError("unknown time zone \"" + name + "\": use an IANA name from " +
                              tzdir_ + " (e.g. Europe/Berlin) or a fixed offset (+02:00)");
        zones_[name] = z;
        return z;
    }

    // Square's exports name zones the Rails way; the common North American ones map to IANA.
    static std::string iana_name(const std::string& n) {
        static const std::map<std::string, std::string> rails = {
            {"Eastern Time (US & Canada)", "America/New_York"},
            {"Central Time (US & Canada)", "America/Chicago"},
            {"Mountain Time (US & Canada)", "America/Denver"},
            {"Pacific Time (US & Canada)", "America/Los_Angeles"},
            {"Alaska", "America/Juneau"},
            {"Hawaii", "Pacific/Honolulu"},
            {"Arizona", "America/Phoenix"},
            {"Atlantic Time (Canada)", "America/Halifax"}};
        auto it = rails.find(n);
        return it == rails.end() ? n : it->second;
    }

    std::string occurred_at(const Row& row) {
        const json& oa = m_["occurred_at"];
        if (oa.contains("column")) {
            const std::string v = row.get(oa["column"].get<std::string>());
            if (v.empty())
                fail("occurred_at column \"" + oa["column"].get<std::string>() + "\" is empty");
            // With an offset it is already an instant; without one it is local to time_zone.
            if (v.size() > 10 && v.find_first_of("Zz+", 19) != std::string::npos) return v;
            if (v.size() > 19 && v[19] != '.' && v.find('-', 19) != std::string::npos) return v;
            const auto sp = v.find_first_of("T ");
            if (sp == std::string::npos) fail("\"" + v + "\" has no time");
            return local(row, v.substr(0, sp), v.substr(sp + 1), "iso");
        }
        const std::string d = row.get(oa.value("date", std::string()));
        const std::string t = oa.contains("time") ? row.get(oa["time"].get<std::string>()) : "";
        return local(row, d, t.empty() ? "00:00" : t, oa.value("date_format", std::string("iso")));
    }

    std::string local(const Row& row, const std::string& d, const std::string& t,
                      const std::string& format) {
        auto day = parse_date(d, format);
        if (!day) fail("date \"" + d + "\" is not a " + format + " date");
        std::string tt = t;
        if (auto dot = tt.find('.'); dot != std::string::npos && format == "iso") tt.erase(dot);
        auto secs = parse_time(tt);
        if (!secs) fail("time \"" + t + "\" is not HH:MM[:SS] [AM|PM]");
        const json& oa = m_["occurred_at"];
        std::optional<TimeZone> z = zone_;
        if (oa.contains("time_zone_column")) {
            const std::string n = row.get(oa["time_zone_column"].get<std::string>());
            if (!n.empty()) {
                z = zone(n);
                if (!z) fail("unknown time zone \"" + n + "\"");
            }
        }
        if (!z) fail("no time zone for this row");
        const auto r = z->to_utc(*day + *secs);
        if (r.kind == TimeZone::Kind::nonexistent)
            fail("local time " + d + " " + t + " does not exist in " + z->name() +
                 " (skipped by a daylight saving change)");
        return format_rfc3339(r.utc, r.offset);
    }

    int64_t amount(const Row& row, const std::string& column, const std::string& currency,
                   bool required) {
        const std::string v = row.get(column);
        if (v.empty()) {
            if (required) fail("amount column \"" + column + "\" is empty");
            return 0;
        }
        auto m = parse_money(v, currency, decimal_);
        if (!m.minor) fail("column \"" + column + "\": " + m.error);
        return *m.minor;
    }

    json build(const Row& row) {
        json rec = {{"type", type_}};
        // record_id: one column or several joined with '|'.
        std::string rid;
        const json& rc = m_["record_id"];
        for (const auto& col : rc.is_array() ? rc : json::array({rc})) {
            const std::string v = row.get(col.get<std::string>());
            if (v.empty()) fail("record_id column \"" + col.get<std::string>() + "\" is empty");
            rid += (rid.empty() ? "" : "|") + v;
        }
        rec["record_id"] = m_.value("record_id_prefix", std::string()) + rid;
        rec["occurred_at"] = occurred_at(row);
        json ids = json::object();
        const json id_map = m_.value("identifiers", json::object());
        for (const auto& [type, col] : id_map.items()) {
            const std::string v = row.get(col.get<std::string>());
            if (!v.empty()) ids[type] = v;
        }
        rec["identifiers"] = ids;
        for (const char* part : {"traits", "properties"}) {
            json obj = json::object();
            const json cols = m_.value(part, json::object());
            for (const auto& [name, col] : cols.items()) {
                const std::string v = row.get(col.get<std::string>());
                if (!v.empty()) obj[name] = v;
            }
            if (!obj.empty()) rec[part] = obj;
        }
        if (type_ == "track") rec["event"] = m_["event"];
        if (type_ == "order") rec["order"] = order(row);
        return rec;
    }

    json order(const Row& row) {
        const json& o = m_["order"];
        std::string currency = o.value("currency", std::string());
        if (o.contains("currency_column")) {
            const std::string v = row.get(o["currency_column"].get<std::string>());
            if (!v.empty()) currency = v;
        }
        if (currency.empty()) fail("no currency: set mapping.order.currency or currency_column");
        for (auto& ch : currency)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        const std::string id_col = o.value(
            "id", m_["record_id"].is_string() ? m_["record_id"].get<std::string>() : std::string());
        const std::string id = row.get(id_col);
        if (id.empty()) fail("order id column \"" + id_col + "\" is empty");
        json out = {{"id", id}, {"currency", currency}};
        const int64_t total = amount(row, o.value("total", std::string()), currency, true);
        out["total_minor"] = total;
        if (o.contains("tax")) out["tax_minor"] = amount(row, o["tax"], currency, false);
        if (o.contains("discount")) {
            // Exports write discounts as negative amounts; the canonical record wants a reduction
            // as a positive number.
            const int64_t d = amount(row, o["discount"], currency, false);
            out["discount_minor"] = d < 0 ? -d : d;
        }
        std::string status = o.contains("status") ? row.get(o["status"].get<std::string>()) : "";
        if (status.empty() && total < 0) status = o.value("refund_status", std::string("refunded"));
        if (!status.empty()) out["status"] = status;
        if (m_.contains("line")) {
            const json& l = m_["line"];
            json line = json::object();
            const std::string sku = row.get(l.value("sku", std::string()));
            const std::string name = row.get(l.value("name", std::string()));
            line["sku"] = !sku.empty() ? sku : name;
            if (!name.empty()) line["name"] = name;
            const std::string q =
                l.contains("quantity") ? row.get(l["quantity"].get<std::string>()) : "1";
            char* end = nullptr;
            const long long qn = std::strtoll(q.c_str(), &end, 10);
            if (q.empty() || *end != '\0') fail("quantity \"" + q + "\" is not a whole number");
            line["quantity"] = qn;
            line["price_minor"] =
                l.contains("price") ? amount(row, l["price"], currency, true) : total;
            if (!line["sku"].get<std::string>().empty()) out["lines"] = json::array({line});
        }
        return out;
    }

    json m_;
    std::string tzdir_;
    char decimal_;
    std::string type_;
    std::optional<TimeZone> zone_;
    std::map<std::string, std::optional<TimeZone>> zones_;
};

}  // namespace cdphub::csv

// salesforce: a source for Salesforce Sales Cloud (Contacts, Leads, Accounts, or any queryable
// sObject) over the REST API's SOQL query resource, incremental by SystemModstamp.
//
// Per object, one query "SELECT ... FROM T WHERE SystemModstamp >= <watermark> ORDER BY
// SystemModstamp, Id" goes to /queryAll (deleted rows included) and is followed page by page
// through nextRecordsUrl. Every page goes to the hub with the cursor of its own end, so a kill at
// any moment resumes at the last page handed over. See README.md for the failure handling.
#include <cdphub/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <cdphub_plugins/web.hpp>
#include <string>

#include "config.hpp"
#include "cursor.hpp"
#include "mapping.hpp"
#include "session.hpp"

namespace cdphub::salesforce {
namespace {

// "2024-05-01T10:02:03Z": SOQL datetime literals are unquoted and take no fraction, so the
// watermark is rounded down to its second; rows of that second already read are skipped by Id.
std::string soql_datetime(std::int64_t ms) {
    auto s = plugins::format_utc_ms(ms - ((ms % 1000) + 1000) % 1000);
    return s.substr(0, 19) + "Z";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

class SalesforceSource : public Source {
  public:
    SalesforceSource(Host& host, const json& config)
        : Source(host), config_(parse_config(config)), session_(config_) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "salesforce";
        i.version = "1.0.0";
        i.name = "Salesforce Sales Cloud";
        i.kind = Kind::source;
        i.category = Category::crm;
        i.config_spec = config_spec();
        i.capabilities = {{"incremental", true},
                          {"record_types", {"identify", "track"}},
                          {"identifier_types", {"email", "crm_id", "crm_account_id"}},
                          {"rate_limit", {{"requests", 25}, {"per_seconds", 1}}}};
        return i;
    }

    // Credentials, then every configured object and field, without reading a single row.
    void check(Call& call) override {
        session_.authenticate(call);
        std::string missing;
        for (const auto& spec : config_.objects) {
            json d = session_.get(call, api_path() + "/sobjects/" + spec.name + "/describe");
            if (!d.value("queryable", true))
                throw ConfigError(spec.name + " is not queryable for the integration user");
            std::vector<std::string> known;
            for (const auto& f : d.value("fields", json::array())) {
                known.push_back(f.value("name", ""));
                if (f.contains("relationshipName") && f["relationshipName"].is_string())
                    known.push_back(f["relationshipName"].get<std::string>());
            }
            for (const auto& field : spec.fields(false)) {
                const auto head = field.substr(0, field.find('.'));
                bool found = false;
                for (const auto& k : known)
                    found =
                        found || (k.size() == head.size() &&
                                  std::equal(k.begin(), k.end(), head.begin(), [](char a, char b) {
                                      return std::tolower(static_cast<unsigned char>(a)) ==
                                             std::tolower(static_cast<unsigned char>(b));
                                  }));
                if (!found) missing += (missing.empty() ? "" : ", ") + spec.name + "." + field;
            }
        }
        if (!missing.empty())
            throw ConfigError("Salesforce does not show these fields to the integration user: " +
                              missing + "; fix the mapping or the user's field-level security");
        host().info("Salesforce credentials and " + std::to_string(config_.objects.size()) +
                    " objects are fine (" + session_.limit_info() + ")");
    }

    void read(Call& call) override {
        Cursor cursor = Cursor::from_json(call.cursor_json());
        for (const auto& spec : config_.objects) read_object(call, spec, cursor);
        if (!session_.limit_info().empty()) host().info("Salesforce " + session_.limit_info());
    }

  private:
    std::string api_path() const { return "/services/data/v" + config_.api_version; }

    std::string query_path(const ObjectSpec& spec, const ObjectPosition& from) const {
        const bool all = config_.deleted_rows != DeletedRows::ignore;
        std::string soql = "SELECT " + join(spec.fields(all), ", ") + " FROM " + spec.name;
        if (!from.watermark.empty())
            soql += " WHERE SystemModstamp >= " + soql_datetime(from.watermark_ms);
        soql += " ORDER BY SystemModstamp, Id";
        return api_path() + (all ? "/queryAll" : "/query") + "?q=" + plugins::url_encode(soql);
    }

    // One object: the query from the checkpoint, then its pages. An expired locator restarts
    // the query from the last page handed over, which is exactly the stored cursor.
    void read_object(Call& call, const ObjectSpec& spec, Cursor& cursor) {
        for (int restarts = 0;; ++restarts) {
            try {
                read_query(call, spec, cursor);
                return;
            } catch (const QueryLocatorExpired& e) {
                if (restarts >= config_.max_query_restarts)
                    throw RetryableError("Salesforce expired the query locator of " + spec.name +
                                         " " + std::to_string(restarts + 1) +
                                         " times in one read (" + e.what() +
                                         "); the read resumes from its checkpoint");
                host().warn("Salesforce expired the query locator of " + spec.name + " (" +
                            e.what() + "); querying again from the checkpoint");
            }
        }
    }

    void read_query(Call& call, const ObjectSpec& spec, Cursor& cursor) {
        ObjectPosition& pos = cursor.objects[spec.name];
        const ObjectPosition start = pos;  // rows this position covers were handed over before
        std::string path = query_path(spec, start);
        std::vector<std::pair<std::string, std::string>> headers{
            {"Sforce-Query-Options", "batchSize=" + std::to_string(config_.batch_size)}};
        for (;;) {
            json page = session_.get(call, path, headers);
            if (!page.is_object() || !page.contains("records") || !page["records"].is_array())
                throw RetryableError("Salesforce answered a query of " + spec.name +
                                     " without a records array");
            json records = json::array();
            for (const auto& row : page["records"]) {
                const auto id = field_value(row, "Id");
                const auto stamp = field_value(row, "SystemModstamp");
                const auto ms = stamp.is_string() ? plugins::parse_utc_ms(stamp.get<std::string>())
                                                  : std::nullopt;
                if (!id.is_string() || !ms)
                    throw FatalError("Salesforce returned a " + spec.name +
                                     " row without Id or a readable SystemModstamp: " +
                                     row.dump().substr(0, 200));
                if (start.covers(*ms, id.get<std::string>())) continue;
                records.push_back(to_record(spec, config_.deleted_rows, row, id.get<std::string>(),
                                            stamp.get<std::string>(), *ms));
                pos.advance(stamp.get<std::string>(), *ms, id.get<std::string>());
            }
            // The records and the position after them, in one transaction.
            if (!records.empty()) call.emit(records, cursor.to_json());
            if (page.value("done", true)) return;
            const auto next = page.value("nextRecordsUrl", std::string());
            if (next.rfind("/services/data/", 0) != 0)
                throw RetryableError("Salesforce answered done:false for " + spec.name +
                                     " without a usable nextRecordsUrl");
            path = next;
            headers.clear();  // the locator carries the query and its batch size
            call.throw_if_cancelled();
        }
    }

    Config config_;
    Session session_;
};

}  // namespace
}  // namespace cdphub::salesforce

CDPHUB_PLUGIN(cdphub::salesforce::SalesforceSource)

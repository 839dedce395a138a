#include "source_members.hpp"

#include <cdphub_plugins/web.hpp>

#include <algorithm>
#include <ctime>
#include <optional>

#include "member_records.hpp"

namespace cdphub::mailchimp {

namespace {

using plugins::form_encode;
using plugins::parse_utc_ms;
using plugins::url_encode;

// Only what the records need, so a page of 1000 members stays small (Mailchimp's default answer
// carries _links and stats per member).
constexpr const char* kFields =
    "members.id,members.email_address,members.unique_email_id,members.status,"
    "members.unsubscribe_reason,members.merge_fields,members.language,members.vip,"
    "members.last_changed,members.tags,total_items";

// Mailchimp's own timestamp style ("2024-03-01T09:30:00+00:00"), whole seconds. (strftime
// rather than plugins::format_utc_ms, whose snprintf trips -Wformat-truncation at -O2.)
std::string mailchimp_time(int64_t ms) {
    const auto t = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return std::string(buf, n);
}

// Tracks the "complete watermark" of the rows read so far in last_changed order: every row
// stamped at or before it has been read. The newest stamp seen may still have unread rows
// (ties), so the watermark is the greatest stamp strictly below it.
class Watermark {
  public:
    void see(int64_t stamp) {
        if (!newest_ || stamp > *newest_) {
            below_ = newest_;
            newest_ = stamp;
        } else if (stamp < *newest_ && (!below_ || stamp > *below_)) {
            below_ = stamp;
        }
    }
    std::optional<int64_t> complete() const { return below_; }

  private:
    std::optional<int64_t> newest_, below_;
};

json cursor_json(const Config& config, int64_t since_ms) {
    return {{"list_id", config.list_id}, {"since", mailchimp_time(since_ms)}};
}

}  // namespace

void check_audience(const Call& call, const Config& config, const Api& api) {
    auto list =
        api.get(call, "/lists/" + url_encode(config.list_id) + "?fields=id,name,stats.member_count",
                "the audience");
    call.host().info("Mailchimp audience '" + list.value("name", std::string()) + "' (" +
                     config.list_id + ") is readable; " +
                     std::to_string(list.contains("stats") && list["stats"].is_object()
                                        ? list["stats"].value("member_count", int64_t{0})
                                        : int64_t{0}) +
                     " subscribed members");
}

void read_members(const Call& call, const Config& config, const Api& api) {
    // The window is (since, until): `since` from the cursor, `until` now minus settle_seconds,
    // both whole seconds. Rows changing during the read leave the window (their new stamp is
    // later than `until`) and are read by the next read.
    std::optional<int64_t> since;
    if (auto c = call.cursor_json(); c.is_object()) {
        if (c.value("list_id", std::string()) != config.list_id) {
            call.host().warn("the stored cursor belongs to audience '" +
                             c.value("list_id", std::string()) + "'; reading audience '" +
                             config.list_id + "' from the start");
        } else if (auto s = parse_utc_ms(c.value("since", std::string())); s) {
            since = *s;
        } else {
            throw FatalError("the stored cursor has no readable 'since': " + c.dump() +
                             "; reset this connector's cursor");
        }
    }
    const int64_t now_s = call.host().now_ms() / 1000;
    const int64_t until = (now_s - config.settle_seconds) * 1000;
    if (since && until <= *since + 1000) return;  // nothing can have settled since

    const auto base = "/lists/" + url_encode(config.list_id) + "/members?";
    Watermark mark;
    int64_t offset = 0, last_total = -1;
    for (;;) {
        call.throw_if_cancelled();
        std::vector<std::pair<std::string, std::string>> q{
            {"fields", kFields},
            {"count", std::to_string(config.page_size)},
            {"offset", std::to_string(offset)},
            {"sort_field", "last_changed"},
            {"sort_dir", "ASC"},
            {"before_last_changed", mailchimp_time(until)}};
        if (since) q.emplace_back("since_last_changed", mailchimp_time(*since));
        const json page = api.get(call, base + form_encode(q), "audience members");
        const auto total = page.value("total_items", int64_t{-1});
        const auto& members = page.contains("members") ? page["members"] : json::array();
        if (total < 0 || !members.is_array())
            throw RetryableError("Mailchimp answered a members page without members/total_items");
        if (last_total >= 0 && total < last_total) {
            // Rows left the window since the last page (changed, archived or deleted). Those
            // before `offset` shift the rest back: step back as many rows as left and ask again.
            // Rows seen twice are repeats the hub drops; a row never seen would be lost.
            offset = std::max<int64_t>(0, offset - (last_total - total));
            last_total = total;
            continue;
        }
        last_total = total;
        json records = json::array();
        for (const auto& m : members) {
            append_member_records(config, m, records);
            if (auto t = parse_utc_ms(m.value("last_changed", std::string())); t) mark.see(*t);
        }
        offset += static_cast<int64_t>(members.size());
        if (offset >= total) {
            // The window is read: everything up to `until` (exclusive) is in the store.
            call.emit(records, cursor_json(config, std::max(since.value_or(0), until - 1000)));
            return;
        }
        if (members.empty())
            throw RetryableError("Mailchimp returned no members at offset " +
                                 std::to_string(offset) + " of " + std::to_string(total) +
                                 "; the next read resumes here");
        const auto complete = mark.complete();
        json cursor;
        if (complete && (!since || *complete > *since)) cursor = cursor_json(config, *complete);
        call.emit(records, cursor);
    }
}

}  // namespace cdphub::mailchimp

// The square source's settings and the SearchOrders request it sends.
//
// Square insists on two things checked here once rather than per call: the sort field must be
// the date_time_filter's field (UPDATED_AT with updated_at), and every page of a cursor must
// carry the identical query. So the body is built by one function from (settings, start_at)
// alone; the page cursor is the only thing added to it.
#pragma once

#include <cdphub/sdk.hpp>

#include <string>
#include <vector>

namespace cdphub::square {

struct Settings {
    std::string base_url = "https://connect.squareup.com";
    std::string access_token;
    std::string square_version = "2024-05-15";
    std::vector<std::string> location_ids;
    std::vector<std::string> states = {"OPEN", "COMPLETED", "CANCELED"};
    int64_t page_size = 500;
    std::string start_at = "2010-01-01T00:00:00Z";  // before the first order anyone has
    int64_t max_retries = 4;          // extra attempts after the hub's own, for 429/5xx/network
    int64_t retry_backoff_ms = 2000;  // first wait; doubles with jitter
    int64_t max_runs = 5;             // paging runs per read while they still find new versions

    static Settings parse(const json& c) {
        Settings s;
        if (!c.is_object()) throw ConfigError("config must be a JSON object");
        s.base_url = c.value("base_url", s.base_url);
        while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
        if (s.base_url.empty()) throw ConfigError("\"base_url\" must not be empty");
        if (!c.contains("access_token") || !c["access_token"].is_string() ||
            c["access_token"].get<std::string>().empty())
            throw ConfigError(
                "\"access_token\" is required (as a secret reference): a Square access token "
                "with the ORDERS_READ permission");
        s.access_token = c["access_token"].get<std::string>();
        s.square_version = c.value("square_version", s.square_version);
        if (!c.contains("location_ids") || !c["location_ids"].is_array() ||
            c["location_ids"].empty() || c["location_ids"].size() > 10)
            throw ConfigError(
                "\"location_ids\" must list 1 to 10 Square location ids "
                "(SearchOrders takes at most 10; use several instances for more)");
        for (const auto& l : c["location_ids"]) {
            if (!l.is_string() || l.get<std::string>().empty())
                throw ConfigError("\"location_ids\" must hold non-empty strings");
            s.location_ids.push_back(l.get<std::string>());
        }
        if (c.contains("states")) s.states = c["states"].get<std::vector<std::string>>();
        s.page_size = c.value("page_size", s.page_size);
        if (s.page_size < 1 || s.page_size > 1000)
            throw ConfigError("\"page_size\" must be from 1 to 1000 (Square's maximum)");
        s.start_at = c.value("start_at", s.start_at);
        s.max_retries = c.value("max_retries", s.max_retries);
        s.retry_backoff_ms = c.value("retry_backoff_ms", s.retry_backoff_ms);
        s.max_runs = c.value("max_runs", s.max_runs);
        if (s.max_retries < 0 || s.retry_backoff_ms < 0 || s.max_runs < 1)
            throw ConfigError("max_retries and retry_backoff_ms must be >= 0, max_runs >= 1");
        return s;
    }
};

// The SearchOrders body for the paging run that starts at `start_at`, plus `page` if not empty.
inline json search_body(const Settings& s, const std::string& start_at, const std::string& page,
                        int64_t limit) {
    json body = {{"location_ids", s.location_ids},
                 {"limit", limit},
                 {"return_entries", false},
                 {"query",
                  {{"filter",
                    {{"date_time_filter", {{"updated_at", {{"start_at", start_at}}}}},
                     {"state_filter", {{"states", s.states}}}}},
                   {"sort", {{"sort_field", "UPDATED_AT"}, {"sort_order", "ASC"}}}}}};
    if (!page.empty()) body["cursor"] = page;
    return body;
}

}  // namespace cdphub::square

// Upserting rows into the Data Extension: the synchronous rowset call for small batches, the
// asynchronous rows API (202 + requestId, then status and results polling) for large ones.
//
// Sync: POST hub/v1/dataevents/key:{key}/rowset with [{"keys": {...}, "values": {...}}], chunks
// of at most rowset_max_rows rows and rowset_max_bytes. SFMC answers a bad rowset with one 400
// for the whole call, so a refused chunk is resent row by row to find the bad rows; a 413 halves
// the chunk.
// Async: PUT data/v1/async/dataextensions/key:{key}/rows with {"items": [...]}, then
// GET data/v1/async/{id}/status until requestStatus leaves Pending, and on hasErrors
// GET data/v1/async/{id}/results?page=N for per-row items (in request order). Rows that failed
// there get one synchronous retry, whose answer decides: some async errors are transient
// (deadlocks, timeouts) and SFMC's errorCode ("UnexpectedError") does not tell which.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "api.hpp"
#include "rows.hpp"

namespace cdphub::sfmc {

class DataExtension {
  public:
    DataExtension(Api& api, const Settings& s) : api_(api), s_(s) {}

    // Upserts `rows`; out[i] is rows[i]'s outcome. Throws for outages and auth failures; rows
    // already upserted then stay marked in `out`.
    void upsert(const Call& call, const std::vector<Row>& rows, std::vector<RowOutcome>& out) {
        const bool async =
            s_.mode == "async" || (s_.mode == "auto" && rows.size() > s_.async_threshold);
        std::vector<std::size_t> all(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) all[i] = i;
        if (async) {
            for (std::size_t from = 0; from < all.size(); from += s_.async_max_rows) {
                call.throw_if_cancelled();
                std::vector<std::size_t> part(
                    all.begin() + from,
                    all.begin() + std::min(all.size(), from + s_.async_max_rows));
                upsert_async(call, rows, part, out);
            }
        } else {
            sync_chunks(call, rows, all, out);
        }
    }

  private:
    std::string rowset_path() const { return "hub/v1/dataevents/key:" + s_.de_key + "/rowset"; }

    void sync_chunks(const Call& call, const std::vector<Row>& rows,
                     const std::vector<std::size_t>& which, std::vector<RowOutcome>& out) {
        std::vector<std::size_t> chunk;
        std::size_t bytes = 2;
        auto flush = [&] {
            if (!chunk.empty()) rowset(call, rows, chunk, out);
            chunk.clear();
            bytes = 2;
        };
        for (auto i : which) {
            const auto size = rowset_item(rows[i]).dump().size() + 1;
            if (!chunk.empty() &&
                (chunk.size() >= s_.rowset_max_rows || bytes + size > s_.rowset_max_bytes))
                flush();
            chunk.push_back(i);
            bytes += size;
        }
        flush();
    }

    json rowset_item(const Row& r) const {
        return {{"keys", {{s_.key_column, r.key}}}, {"values", r.values}};
    }

    void rowset(const Call& call, const std::vector<Row>& rows,
                const std::vector<std::size_t>& chunk, std::vector<RowOutcome>& out) {
        call.throw_if_cancelled();
        json body = json::array();
        for (auto i : chunk) body.push_back(rowset_item(rows[i]));
        HttpRequest req;
        req.method = "POST";
        req.url = rowset_path();
        req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
        req.retry_safe = true;  // an upsert: repeating it changes nothing
        auto r = api_.send(call, req);
        if (r.ok()) {
            for (auto i : chunk) out[i].state = RowState::upserted;
            return;
        }
        if (r.status() == 413 && chunk.size() > 1) {
            const auto half = chunk.size() / 2;
            rowset(call, rows, {chunk.begin(), chunk.begin() + half}, out);
            rowset(call, rows, {chunk.begin() + half, chunk.end()}, out);
            return;
        }
        if (r.status() == 400 || r.status() == 413) {
            if (chunk.size() == 1) {
                out[chunk[0]] = {RowState::invalid, "SFMC refused the row (HTTP " +
                                                        std::to_string(r.status()) +
                                                        "): " + excerpt(r.body())};
                return;
            }
            for (auto i : chunk) rowset(call, rows, {i}, out);
            return;
        }
        Api::fail("POST " + rowset_path(), r);
    }

    void upsert_async(const Call& call, const std::vector<Row>& rows,
                      const std::vector<std::size_t>& part, std::vector<RowOutcome>& out) {
        json items = json::array();
        for (auto i : part) {
            json item = rows[i].values;
            item[s_.key_column] = rows[i].key;
            items.push_back(std::move(item));
        }
        HttpRequest req;
        req.method = "PUT";  // upsert (POST would insert only)
        req.url = "data/v1/async/dataextensions/key:" + s_.de_key + "/rows";
        req.body =
            json{{"items", std::move(items)}}.dump(-1, ' ', false, json::error_handler_t::replace);
        req.retry_safe = true;
        auto r = api_.send(call, req);
        if (r.status() == 400 || r.status() == 413) {
            // Refused as a whole: the synchronous path finds the rows at fault.
            sync_chunks(call, rows, part, out);
            return;
        }
        if (r.status() != 202 && !r.ok()) Api::fail("PUT " + req.url, r);
        const auto id = r.json_body().value("requestId", std::string());
        if (id.empty()) throw RetryableError("SFMC accepted the rows but sent no requestId");

        json status;
        // The first status checks come soon (a small request often settles within a second),
        // then the interval doubles up to poll_ms, so a long job is not polled more often than
        // configured.
        std::uint32_t wait_ms = std::min<std::uint32_t>(s_.poll_ms, 100);
        for (std::uint32_t poll = 0;; ++poll) {
            if (poll >= s_.max_polls)
                throw RetryableError("SFMC async request " + id + " still Pending after " +
                                     std::to_string(poll) + " polls; the rows will be sent again");
            HttpRequest get;
            get.url = "data/v1/async/" + id + "/status";
            get.retry_safe = true;
            auto st = api_.send(call, get);
            if (!st.ok()) Api::fail("GET " + get.url, st);
            status = st.json_body().value("status", json::object());
            const auto state = status.value("requestStatus", std::string("Pending"));
            if (state == "Complete") break;
            if (state == "Error")
                throw RetryableError("SFMC async request " + id +
                                     " ended in Error: " + excerpt(st.body()));
            call.sleep_ms(wait_ms);
            wait_ms = std::min(s_.poll_ms, wait_ms * 2);
        }
        if (!status.value("hasErrors", false)) {
            for (auto i : part) out[i].state = RowState::upserted;
            return;
        }
        // Per-row results, paged, in the order the items were sent.
        std::vector<std::string> errors(part.size());
        std::vector<bool> known(part.size(), false);
        std::size_t seen = 0;
        for (int page = 1;; ++page) {
            HttpRequest get;
            get.url = "data/v1/async/" + id + "/results?page=" + std::to_string(page);
            get.retry_safe = true;
            auto res = api_.send(call, get);
            if (!res.ok()) Api::fail("GET " + get.url, res);
            auto j = res.json_body();
            const auto page_size = j.value("pageSize", std::size_t{50});
            const auto& page_items = j.value("items", json::array());
            for (std::size_t k = 0; k < page_items.size(); ++k) {
                const auto pos =
                    (static_cast<std::size_t>(j.value("page", page)) - 1) * page_size + k;
                if (pos >= part.size()) continue;
                known[pos] = true;
                const auto& it = page_items[k];
                if (it.value("status", "") == "Error")
                    errors[pos] = it.value("errorCode", "Error") + ": " + it.value("message", "");
            }
            seen += page_items.size();
            if (page_items.empty() || seen >= j.value("count", std::size_t{0})) break;
        }
        std::vector<std::size_t> again;
        for (std::size_t k = 0; k < part.size(); ++k) {
            if (known[k] && errors[k].empty())
                out[part[k]].state = RowState::upserted;
            else
                again.push_back(part[k]);  // failed, or no result for it: let the rowset decide
        }
        if (!again.empty()) {
            api_host_note(call, again.size(), id);
            sync_chunks(call, rows, again, out);
        }
    }

    void api_host_note(const Call& call, std::size_t n, const std::string& id) {
        call.host().info("SFMC async request " + id + " failed " + std::to_string(n) +
                         " rows; sending them again synchronously");
    }

    Api& api_;
    const Settings& s_;
};

}  // namespace cdphub::sfmc

#include "delivery/worker.hpp"

#include <algorithm>

#include "logging/logging.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::delivery {
namespace {

std::size_t declared(const nlohmann::json& caps, const char* key, std::size_t fallback) {
    auto b = caps.find("batch");
    if (b == caps.end() || !b->is_object()) return fallback;
    auto v = b->find(key);
    if (v == b->end() || !v->is_number_unsigned() || v->get<std::size_t>() == 0) return fallback;
    return std::min(fallback, v->get<std::size_t>());
}

bool outage(StatusCode c) {
    return c == StatusCode::retryable || c == StatusCode::fatal || c == StatusCode::unsupported;
}

}  // namespace

DestinationWorker::DestinationWorker(DeliveryStore& store, plugin_host::Connector& connector,
                                     std::vector<BindingRef> bindings, DeliveryOptions options,
                                     StopSignal& stop)
    : store_(store),
      connector_(connector),
      bindings_(std::move(bindings)),
      options_(options),
      stop_(stop),
      backoff_(options.backoff_base, options.backoff_max, options.seed),
      max_records_(declared(connector.plugin().capabilities, "max_records", options.max_records)),
      max_bytes_(declared(connector.plugin().capabilities, "max_bytes", options.max_bytes)) {}

WorkerReport DestinationWorker::run(std::chrono::milliseconds max_wait) {
    WorkerReport report;
    report.destination = connector_.id();
    status_ = store_.destination_status(connector_.id());
    // A run is an explicit request (a schedule or an admin): a destination stopped for bad
    // credentials gets one new try, which fails fast again if nothing was fixed.
    status_.state = status_.failures >= options_.breaker_threshold ? DestinationState::paused
                                                                   : DestinationState::running;
    auto log = logging::get("delivery." + connector_.id());
    using clock = std::chrono::steady_clock;
    auto idle_since = clock::now();
    while (!stop_.stopped()) {
        bool any = false;
        std::chrono::milliseconds wait{0};
        Next next = Next::idle;
        for (const auto& b : bindings_) {
            next = one_batch(b, report, wait);
            if (next == Next::more) any = true;
            if (next == Next::wait || next == Next::stop) break;
        }
        if (next == Next::stop) break;
        if (next == Next::wait) {
            if (wait > max_wait) {
                report.stopped = true;
                break;
            }
            log->info(
                "waiting {} ms before the next batch ({})", wait.count(),
                status_.state == DestinationState::paused ? "circuit breaker open" : "backing off");
            if (!stop_.wait_for(wait)) break;
            idle_since = clock::now();
            continue;
        }
        if (any) {
            idle_since = clock::now();
            continue;
        }
        // Nothing can go now. Changes waiting for their retry time are waited for, within the
        // run's allowance.
        std::int64_t waiting = 0;
        for (const auto& b : bindings_) waiting += store_.pending(b.name);
        if (waiting == 0) break;
        if (clock::now() - idle_since > max_wait) {
            report.stopped = true;
            break;
        }
        if (!stop_.wait_for(std::min(options_.backoff_base, std::chrono::milliseconds(200)))) break;
    }
    for (const auto& b : bindings_) report.pending += store_.pending(b.name);
    status_.last_sync_at = store_.now_text();
    store_.save_destination_status(status_);
    report.state = status_.state;
    if (status_.last_error && report.last_error.empty()) report.last_error = *status_.last_error;
    return report;
}

DestinationWorker::Next DestinationWorker::one_batch(const BindingRef& binding,
                                                     WorkerReport& report,
                                                     std::chrono::milliseconds& wait) {
    auto changes = store_.next_changes(binding.name, max_records_);
    if (changes.empty()) return Next::idle;
    // Within the byte budget; one change always goes, so an oversized one still gets its answer.
    OperationBatch batch(binding);
    std::size_t bytes = 2;
    for (const auto& c : changes) {
        const auto size = batch.size_of(c);
        if (batch.count() > 0 && bytes + size > max_bytes_) break;
        bytes += size;
        batch.append(c);
    }
    const std::size_t n = batch.count();
    changes.resize(n);

    auto result = connector_.write(batch.take_text(), n);
    ++report.batches;
    const auto& bs = result.status;
    std::vector<Settlement> settle;
    settle.reserve(n);
    bool any_delivered = false, any_outage = false, any_throttled = false, stop = false;
    std::optional<std::chrono::milliseconds> retry_after;
    std::string error;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& st = result.records[i].status;
        Settlement s;
        s.change_id = changes[i].id;
        s.error = secrets::redact(st.message);
        switch (st.code) {
            case StatusCode::ok:
                s.outcome = store::ChangeOutcome::delivered;
                any_delivered = true;
                ++report.delivered;
                break;
            case StatusCode::invalid_record:
                s.outcome = store::ChangeOutcome::rejected;
                ++report.rejected;
                break;
            case StatusCode::rate_limited:
                s.count_attempt = false;
                any_throttled = true;
                if (st.retry_after)
                    retry_after = std::max(retry_after.value_or(*st.retry_after), *st.retry_after);
                error = s.error;
                break;
            case StatusCode::auth_error:
            case StatusCode::config_error:
            case StatusCode::cancelled:
                s.count_attempt = false;
                stop = true;
                break;
            default:  // retryable, fatal, unsupported
                any_outage = true;
                error = s.error;
                ++report.retried;
                break;
        }
        settle.push_back(std::move(s));
    }
    // A record that failed while others of its batch went through is retried on its own
    // schedule; a batch-wide failure pauses the whole destination instead (below).
    if (!(outage(bs.code) && !any_delivered))
        for (std::size_t i = 0; i < n; ++i)
            if (settle[i].outcome == store::ChangeOutcome::retry && settle[i].count_attempt)
                settle[i].next_attempt_at =
                    store_.now_text(backoff_.delay(changes[i].attempts + 1).count());
    store_.settle(connector_.id(), settle, options_.max_attempts);

    if (stop || bs.code == StatusCode::auth_error || bs.code == StatusCode::config_error ||
        bs.code == StatusCode::cancelled) {
        const auto code = bs.ok() ? StatusCode::auth_error : bs.code;
        if (code == StatusCode::auth_error) status_.state = DestinationState::auth_failed;
        if (code == StatusCode::config_error) status_.state = DestinationState::config_failed;
        status_.last_error = secrets::redact(bs.ok() ? error : bs.message);
        report.last_error = status_.last_error.value_or("");
        return Next::stop;
    }
    if ((any_throttled || bs.code == StatusCode::rate_limited) && !any_delivered) {
        // Not the destination's health: no breaker, no attempt counted; wait as told.
        ++throttled_;
        if (bs.retry_after) retry_after = bs.retry_after;
        wait = retry_after.value_or(backoff_.delay(throttled_));
        status_.last_error = secrets::redact(bs.ok() ? error : bs.message);
        return Next::wait;
    }
    throttled_ = 0;
    if (outage(bs.code) && !any_delivered) {
        ++status_.failures;
        status_.last_error = secrets::redact(bs.message);
        report.last_error = *status_.last_error;
        if (status_.failures >= options_.breaker_threshold)
            status_.state = DestinationState::paused;
        wait = bs.retry_after.value_or(backoff_.delay(status_.failures));
        status_.paused_until = store_.now_text(wait.count());
        store_.save_destination_status(status_);
        return Next::wait;
    }
    // Something went through: the destination is healthy (the breaker closes).
    status_.failures = 0;
    status_.state = DestinationState::running;
    status_.paused_until.reset();
    status_.last_success_at = store_.now_text();
    if (any_outage) status_.last_error = error;
    return Next::more;
}

}  // namespace cdphub::delivery

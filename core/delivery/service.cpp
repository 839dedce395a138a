#include "delivery/service.hpp"

#include "logging/logging.hpp"

namespace cdphub::delivery {

DeliveryOptions with_settings(DeliveryOptions o,
                              const std::optional<manifest::DeliverySettings>& s) {
    if (!s) return o;
    if (s->max_attempts) o.max_attempts = *s->max_attempts;
    if (s->breaker_after) o.breaker_threshold = *s->breaker_after;
    if (s->batch_records) o.max_records = *s->batch_records;
    if (s->backoff_base) o.backoff_base = *s->backoff_base;
    if (s->backoff_max) o.backoff_max = *s->backoff_max;
    // Only one of the two given, on the wrong side of the other's default: the given one wins.
    if (o.backoff_base > o.backoff_max) {
        if (s->backoff_max)
            o.backoff_base = o.backoff_max;
        else
            o.backoff_max = o.backoff_base;
    }
    return o;
}

DeliveryService::DeliveryService(DeliveryStore& store, DeliveryOptions options)
    : store_(store), options_(options) {}

DeliveryService::~DeliveryService() {
    stop();
}

void DeliveryService::add(std::unique_ptr<plugin_host::Connector> connector,
                          std::vector<BindingRef> bindings,
                          std::optional<DeliveryOptions> options) {
    if (bindings.empty())
        for (auto& b : store_.bindings())
            if (b.destination == connector->id()) bindings.push_back(std::move(b));
    destinations_.push_back(
        {std::move(connector), std::move(bindings), options.value_or(options_)});
}

std::map<std::string, WorkerReport> DeliveryService::run_until_idle(
    std::chrono::milliseconds max_wait) {
    std::vector<WorkerReport> reports(destinations_.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < destinations_.size(); ++i)
        threads.emplace_back([&, i] {
            auto& d = destinations_[i];
            try {
                DestinationWorker w(store_, *d.connector, d.bindings, d.options, stop_);
                reports[i] = w.run(max_wait);
            } catch (const std::exception& e) {
                // A store failure ends this destination's run; the others carry on.
                reports[i].destination = d.connector->id();
                reports[i].stopped = true;
                reports[i].last_error = e.what();
                logging::get("delivery")
                    ->error("{}: delivery stopped: {}", d.connector->id(), e.what());
            }
        });
    for (auto& t : threads) t.join();
    std::map<std::string, WorkerReport> out;
    for (auto& r : reports) out[r.destination] = std::move(r);
    return out;
}

void DeliveryService::start(std::chrono::milliseconds poll) {
    for (auto& d : destinations_)
        threads_.emplace_back([this, &d, poll] {
            DestinationWorker w(store_, *d.connector, d.bindings, d.options, stop_);
            while (!stop_.stopped()) {
                try {
                    auto r = w.run(std::chrono::hours(24));
                    if (r.state == DestinationState::auth_failed ||
                        r.state == DestinationState::config_failed)
                        logging::get("delivery")
                            ->error("{}: stopped until the connector is fixed: {}", r.destination,
                                    r.last_error);
                } catch (const std::exception& e) {
                    logging::get("delivery")->error("{}: {}", d.connector->id(), e.what());
                }
                if (!stop_.wait_for(poll)) break;
            }
        });
}

void DeliveryService::stop() {
    stop_.stop();
    for (auto& d : destinations_) d.connector->cancel();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

}  // namespace cdphub::delivery

// DeliveryStore on the SQLite profile store (schema version 5): the same file, the same writer
// connection and lock, one transaction per call.
#pragma once

#include <chrono>
#include <functional>

#include "delivery/delivery_store.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::delivery {

class SqliteDeliveryStore final : public DeliveryStore {
  public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    explicit SqliteDeliveryStore(store::SqliteProfileStore& store, Clock clock = {});

    std::vector<BindingRef> bindings() override;
    std::vector<OutboxChange> next_changes(std::string_view binding, std::size_t limit) override;
    void settle(std::string_view destination, const std::vector<Settlement>& outcomes,
                int max_attempts) override;
    std::int64_t pending(std::string_view binding) override;
    DestinationStatus destination_status(std::string_view destination) override;
    void save_destination_status(const DestinationStatus& status) override;
    ReplayResult replay_dead(std::string_view binding) override;
    std::vector<BindingDeliveryStatus> binding_status() override;
    std::vector<Failure> failures(std::string_view binding, std::size_t limit) override;
    std::string now_text(std::int64_t plus_ms = 0) override;

  private:
    store::SqliteProfileStore& store_;
    Clock clock_;
};

}  // namespace cdphub::delivery

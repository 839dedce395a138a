// The admin API's JSON shapes of the hub's read models (documented in docs/admin-api.yaml).
#pragma once

#include <nlohmann/json.hpp>

#include "admin/hub_view.hpp"
#include "common/diagnostic.hpp"
#include "delivery/delivery_store.hpp"
#include "store/profile_details.hpp"
#include "store/profile_store.hpp"
#include "store/sqlite_operations.hpp"

namespace cdphub::admin {

nlohmann::json to_json(const store::ProfileDetails& d);
nlohmann::json to_json(const scheduler::TaskStatus& t);
nlohmann::json to_json(const store::SyncRun& r);
nlohmann::json to_json(const store::StoredRejection& r);
nlohmann::json to_json(const delivery::BindingDeliveryStatus& b);
nlohmann::json to_json(const delivery::DestinationStatus& d);
nlohmann::json to_json(const delivery::DeliveryStore::Failure& f);

}  // namespace cdphub::admin

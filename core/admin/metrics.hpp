// /metrics in the Prometheus text exposition format (version 0.0.4): ingest rate and latency,
// inbox and processor depths, per-connector sync counters, per-destination delivery counters,
// errors by class, store sizes. Every name and label is listed in docs/admin-api.md.
#pragma once

#include <string>

#include "admin/hub_view.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::admin {

std::string render_metrics(HubView& hub, store::SqliteProfileStore& store);

}  // namespace cdphub::admin

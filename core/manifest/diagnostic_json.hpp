// A diagnostic as JSON (`cdphub validate --json`, the admin API), with known secrets redacted.
#pragma once

#include <nlohmann/json.hpp>

#include "common/diagnostic.hpp"

namespace cdphub::manifest {

nlohmann::json diagnostic_json(const Diagnostic& d);

}  // namespace cdphub::manifest

// The manifest format's JSON Schemas (manifests/schema/*.schema.json), compiled into the hub at
// build time so that it checks exactly the documented format, whatever its working directory.
// Internal to core/manifest.
#pragma once

#include <string_view>

#include "manifest/schema_check.hpp"

namespace cdphub::manifest::detail {

std::string_view hub_schema_text();
std::string_view connector_schema_text();

// Compiled once, on first use. A schema that does not compile is a build defect, caught by the
// tests; it throws std::exception here.
const SchemaChecker& hub_schema();
const SchemaChecker& connector_schema();

}  // namespace cdphub::manifest::detail

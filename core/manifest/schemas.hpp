// The manifest format's JSON Schemas (manifests/schema/*.schema.json), compiled into the hub at
// build time so that it checks exactly the documented format, whatever its working directory.
// Internal to core/manifest.
#pragma once

#include <string_view>
#include <vector>

#include "manifest/schema_check.hpp"

namespace cdphub::manifest::detail {

// One embedded schema: manifests/schema/<name>.schema.json, byte for byte.
struct EmbeddedSchema {
    std::string_view name;
    std::string_view text;
};

// Every embedded schema's name ("activation", "computed-trait", "connector", ...), in name order.
std::vector<std::string_view> schema_names();
// The text of the schema called `name`, or "" if there is none.
std::string_view schema_text(std::string_view name);
// The schema called `name`, compiled once, on first use. A schema that does not compile is a
// build defect, caught by the tests; it throws std::exception here, as does an unknown name.
const SchemaChecker& schema(std::string_view name);

std::string_view hub_schema_text();
std::string_view connector_schema_text();

const SchemaChecker& hub_schema();
const SchemaChecker& connector_schema();
const SchemaChecker& identity_schema();
const SchemaChecker& computed_trait_schema();
const SchemaChecker& segment_schema();
const SchemaChecker& activation_schema();

}  // namespace cdphub::manifest::detail

// Validates a JSON document against a JSON Schema (draft 7) with valijson and turns valijson's
// results into Diagnostics an admin can act on: the JSON pointer and line:column of each problem,
// what was expected and what was found, one diagnostic per problem. Internal to core/manifest.
//
// valijson reports each failure together with every enclosing "failed to validate property x"
// step, reports only the first unknown key of an object, and lists the failures of every branch of
// a oneOf. The checker keeps the innermost failures, lists every unknown key (with a "did you
// mean"), and explains a failed oneOf/anyOf through the one branch whose type matches the value.
//
// Schemas may say what a valid value looks like in words with the non-standard keyword
// "x-cdphub-expected" (JSON Schema ignores unknown keywords); it is preferred over generated
// wording.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/diagnostic.hpp"
#include "manifest/manifest.hpp"

namespace valijson {
class Schema;
}

namespace cdphub::manifest::detail {

// Where the checked document sits, and which of its values must never be shown.
struct CheckTarget {
    std::string file;                      // Diagnostic::file
    const JsonLocator* locator = nullptr;  // positions in `file`; may be null
    std::string prefix;                    // pointer of the document in the file: "" or "/config"
    // Given a pointer in the file and the value there, what to say instead of showing the value
    // ("" to show it). Every "found" passes through it.
    std::function<std::string(std::string_view pointer, const nlohmann::json& value)> hidden;
};

class SchemaChecker {
  public:
    // Compiles `schema`; throws std::exception if it is not a JSON Schema valijson can use.
    explicit SchemaChecker(nlohmann::json schema);
    ~SchemaChecker();
    SchemaChecker(const SchemaChecker&) = delete;
    SchemaChecker& operator=(const SchemaChecker&) = delete;

    const nlohmann::json& schema() const { return schema_; }

    // One diagnostic per problem, sorted by position. Throws std::exception only for schema
    // problems that show while validating (an invalid regular expression in "pattern").
    Diagnostics check(const nlohmann::json& doc, const CheckTarget& target) const;

  private:
    nlohmann::json schema_;
    std::unique_ptr<valijson::Schema> compiled_;
};

// Compiles a schema with valijson (draft 7, no remote references); throws on an invalid schema.
std::unique_ptr<valijson::Schema> compile_schema(const nlohmann::json& schema);

}  // namespace cdphub::manifest::detail

#include "manifest/diagnostic_json.hpp"

#include "secrets/secrets.hpp"

namespace cdphub::manifest {

nlohmann::json diagnostic_json(const Diagnostic& d) {
    return {{"severity", d.is_error() ? "error" : "warning"},
            {"file", d.file},
            {"pointer", d.pointer},
            {"line", d.line},
            {"column", d.column},
            {"message", secrets::redact(d.message)},
            {"expected", d.expected},
            {"found", secrets::redact(d.found)},
            {"hint", d.hint}};
}

}  // namespace cdphub::manifest

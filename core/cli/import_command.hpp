#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "cli/commands.hpp"

namespace cdphub::cli {

struct ImportOptions {
    std::filesystem::path file;
    std::string source;  // the connector instance (or any name) the records are filed under
    std::size_t batch_size = 5000;
    bool evaluate_segments = true;  // full segment evaluation after the import
};

int cmd_import(const GlobalOptions& g, const ImportOptions& o);

}  // namespace cdphub::cli

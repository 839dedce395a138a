// Logging through spdlog: human-readable lines by default, JSON lines with --log-format json.
// Every line passes the secrets Redactor before it is written, whoever wrote it (core or plugin).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace cdphub::logging {

enum class Format { text, json };

struct Options {
    Format format = Format::text;
    spdlog::level::level_enum level = spdlog::level::info;
    bool color = true;  // text only, and only on a terminal
};

// Installs the default logger (stderr). Safe to call again to change settings.
void init(const Options& options);

// A named logger ("hub", "plugin.crm-salesforce") sharing the default sinks and format.
std::shared_ptr<spdlog::logger> get(const std::string& name);

bool parse_format(std::string_view s, Format& out);
bool parse_level(std::string_view s, spdlog::level::level_enum& out);

}  // namespace cdphub::logging

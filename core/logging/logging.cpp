#include "logging/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "secrets/secrets.hpp"

namespace cdphub::logging {
namespace {

std::string timestamp(const spdlog::log_clock::time_point& tp) {
    auto t = spdlog::log_clock::to_time_t(tp);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

// Formats, redacts and writes to stderr. Redaction happens here, at the last moment, so that no
// code path (core or plugin, formatted or not) can bypass it.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    RedactingSink(Format format, bool color) : format_(format), color_(color) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string text =
            secrets::redact(std::string_view(msg.payload.data(), msg.payload.size()));
        std::string line;
        auto level = spdlog::level::to_string_view(msg.level);
        if (format_ == Format::json) {
            nlohmann::json j{
                {"ts", timestamp(msg.time)},
                {"level", std::string(level.data(), level.size())},
                {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                {"msg", text}};
            line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        } else {
            std::string lvl(level.data(), level.size());
            for (auto& c : lvl) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (color_) lvl = color_for(msg.level) + lvl + "\033[0m";
            line = timestamp(msg.time) + " " + lvl + " [" +
                   std::string(msg.logger_name.data(), msg.logger_name.size()) + "] " + text + "\n";
        }
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
    void flush_() override { std::fflush(stderr); }

  private:
    static std::string color_for(spdlog::level::level_enum l) {
        switch (l) {
            case spdlog::level::err:
            case spdlog::level::critical:
                return "\033[31m";
            case spdlog::level::warn:
                return "\033[33m";
            case spdlog::level::info:
                return "\033[32m";
            default:
                return "\033[2m";
        }
    }
    Format format_;
    bool color_;
};

std::mutex g_mu;
std::shared_ptr<spdlog::sinks::sink> g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;

}  // namespace

void init(const Options& options) {
    std::lock_guard lock(g_mu);
    bool color = options.color && options.format == Format::text && isatty(fileno(stderr)) != 0;
    g_sink = std::make_shared<RedactingSink>(options.format, color);
    g_level = options.level;
    auto def = std::make_shared<spdlog::logger>("hub", g_sink);
    def->set_level(g_level);
    def->flush_on(spdlog::level::warn);
    spdlog::drop_all();
    spdlog::set_default_logger(def);
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
    std::lock_guard lock(g_mu);
    if (!g_sink) g_sink = std::make_shared<RedactingSink>(Format::text, false);
    if (auto existing = spdlog::get(name)) return existing;
    auto l = std::make_shared<spdlog::logger>(name, g_sink);
    l->set_level(g_level);
    l->flush_on(spdlog::level::warn);
    spdlog::register_logger(l);
    return l;
}

bool parse_format(std::string_view s, Format& out) {
    if (s == "text")
        out = Format::text;
    else if (s == "json")
        out = Format::json;
    else
        return false;
    return true;
}

bool parse_level(std::string_view s, spdlog::level::level_enum& out) {
    auto l = spdlog::level::from_str(std::string(s));
    if (l == spdlog::level::off && s != "off") return false;
    out = l;
    return true;
}

}  // namespace cdphub::logging

// When a connector instance runs, or an activation brings its destination up to date. Part of
// the manifest types (manifest.hpp), in a header of its own so that profile_manifests.hpp can use
// it without including manifest.hpp.
#pragma once

#include <chrono>
#include <string>

namespace cdphub::manifest {

struct Schedule {
    enum class Kind { manual, interval };
    Kind kind = Kind::manual;
    std::chrono::seconds every{0};  // with interval
};

// "manual", "every 15m", "every 2h", "every 1d", "every 90s".
inline std::string describe(const Schedule& s) {
    if (s.kind == Schedule::Kind::manual) return "manual";
    auto secs = s.every.count();
    if (secs % 86400 == 0) return "every " + std::to_string(secs / 86400) + "d";
    if (secs % 3600 == 0) return "every " + std::to_string(secs / 3600) + "h";
    if (secs % 60 == 0) return "every " + std::to_string(secs / 60) + "m";
    return "every " + std::to_string(secs) + "s";
}

}  // namespace cdphub::manifest

// Runs the real cdphub binary the way a user's shell does.
#pragma once

#include <string>
#include <utility>

#include "daemon_process.hpp"

namespace cdphub {

struct Run {
    int code = -1;
    std::string out;  // stdout and stderr together
};

// Runs cdphub with `args` (shell words) and `env` assignments prefixed.
inline Run cdphub(const std::string& args, const std::string& env = "") {
    auto o = test::shell(env + " " + CDPHUB_EXE + " " + args);
    return {o.code, std::move(o.text)};
}

}  // namespace cdphub

// Runs the real cdphub binary the way a user's shell does.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace cdphub {

struct Run {
    int code = -1;
    std::string out;  // stdout and stderr together
};

// Runs cdphub with `args` (shell words) and `env` assignments prefixed.
inline Run cdphub(const std::string& args, const std::string& env = "") {
    std::string cmd = env + " " + CDPHUB_EXE + " " + args + " 2>&1";
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace cdphub

// Shell commands and `cdphub run` in the background, as an operator's shell runs them; shared by
// the suites that start the real daemon.
#pragma once

#include <sys/wait.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace cdphub::test {

struct ShellOutput {
    int code = -1;
    std::string text;  // stdout and stderr together
};

// Runs `command` with sh and collects what it prints.
inline ShellOutput shell(const std::string& command) {
    ShellOutput o;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return o;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.text.append(buf.data(), n);
    const int status = ::pclose(p);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
}

// A process started in the background by a shell command line (a daemon), killed with SIGKILL
// if the test ends before stop(), so that a failing test never leaves it behind.
class DaemonProcess {
  public:
    DaemonProcess() = default;
    ~DaemonProcess() {
        if (pid_ > 0) ::kill(pid_, SIGKILL);
    }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // Runs `command` (env assignments, program, arguments and redirections; no trailing &) in
    // the background, then polls `ready` every 50 ms for up to 30 s.
    bool start(const std::string& command, const std::function<bool()>& ready) {
        pid_ = std::atoi(shell(command + " & echo $!").text.c_str());
        for (int i = 0; i < 600 && pid_ > 0; ++i) {
            if (ready()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    // SIGTERM, then waits up to `timeout` for the process to go; true if it did.
    bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
        if (pid_ <= 0) return true;
        ::kill(pid_, SIGTERM);
        for (auto waited = std::chrono::milliseconds(0); waited < timeout;
             waited += std::chrono::milliseconds(50)) {
            if (::kill(pid_, 0) != 0) {
                pid_ = 0;
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    void signal(int sig) const {
        if (pid_ > 0) ::kill(pid_, sig);
    }
    int pid() const { return pid_; }

  private:
    int pid_ = 0;
};

}  // namespace cdphub::test

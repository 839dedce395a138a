// The import commands' progress bar and number formatting.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cdphub::cli {

using Clock = std::chrono::steady_clock;

inline std::string thousands(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// A one-line bar redrawn in place on stderr; only when stderr is a terminal, so logs and CI
// output stay clean.
class ProgressBar {
  public:
    explicit ProgressBar(std::uintmax_t total) : total_(total), tty_(::isatty(2) == 1) {}
    void update(std::uintmax_t done, std::uint64_t records, bool force = false) {
        if (!tty_) return;
        auto now = Clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        double secs = std::chrono::duration<double>(now - start_).count();
        double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
        int filled = static_cast<int>(frac * 30);
        double rate = secs > 0 ? static_cast<double>(records) / secs : 0;
        double eta = frac > 0 ? secs / frac - secs : 0;
        std::fprintf(stderr, "\r[%s%s] %3d%%  %s records  %s rec/s  ETA %ds ",
                     std::string(static_cast<size_t>(filled), '#').c_str(),
                     std::string(static_cast<size_t>(30 - filled), '.').c_str(),
                     static_cast<int>(frac * 100), thousands(records).c_str(),
                     thousands(static_cast<std::uint64_t>(rate)).c_str(), static_cast<int>(eta));
        std::fflush(stderr);
    }
    void finish() {
        if (tty_) std::fprintf(stderr, "\n");
    }

  private:
    std::uintmax_t total_;
    bool tty_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_{};
};

}  // namespace cdphub::cli

// Helpers for the manifest tests: throw-away manifest folders and diagnostic lookups.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "manifest/manifest.hpp"

namespace cdphub::manifest::testing {

namespace fs = std::filesystem;

inline fs::path fixture(std::string_view name) {
    return fs::path(CDPHUB_SOURCE_DIR) / "tests/manifest/fixtures" / name;
}

// A fresh folder under gtest's temp dir, removed when the test ends.
class TempFolder {
  public:
    TempFolder() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        static int counter = 0;
        std::string name = std::string("cdphub-manifest-") + std::to_string(getpid()) + "-" +
                           info->test_suite_name() + "-" + info->name() + "-" +
                           std::to_string(counter++);
        // Parameterized tests have '/' in their names: keep the folder a single level.
        std::replace(name.begin(), name.end(), '/', '_');
        path_ = fs::path(::testing::TempDir()) / name;
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempFolder() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;

    const fs::path& path() const { return path_; }
    std::string file(std::string_view relative) const { return (path_ / relative).string(); }

    // Writes `text` to `relative` (parent folders created) and returns the path as a string.
    std::string write(std::string_view relative, std::string_view text) const {
        fs::path p = path_ / relative;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }

  private:
    fs::path path_;
};

inline std::string dump(const Diagnostics& diags) {
    std::string out;
    for (const auto& d : diags) out += "  " + d.to_string() + "\n";
    return out.empty() ? "  (no diagnostics)\n" : out;
}

// The diagnostics about `file` at exactly `pointer`.
inline std::vector<Diagnostic> at(const Diagnostics& diags, const std::string& file,
                                  std::string_view pointer) {
    std::vector<Diagnostic> out;
    for (const auto& d : diags) {
        if (d.file == file && d.pointer == pointer) out.push_back(d);
    }
    return out;
}

// The single diagnostic about `file` at `pointer`; fails the test if there is not exactly one.
inline Diagnostic one(const Diagnostics& diags, const std::string& file, std::string_view pointer) {
    auto found = at(diags, file, pointer);
    EXPECT_EQ(found.size(), 1u) << "at " << file << " " << pointer << "\n" << dump(diags);
    return found.empty() ? Diagnostic{} : found.front();
}

inline size_t errors(const Diagnostics& diags) {
    size_t n = 0;
    for (const auto& d : diags) n += d.is_error() ? 1 : 0;
    return n;
}

}  // namespace cdphub::manifest::testing

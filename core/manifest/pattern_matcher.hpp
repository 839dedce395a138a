// A regular expression an admin wrote (identity.json's blocked values), compiled once and then
// full-matched against many values: identity resolution checks every identifier of every imported
// record, so matching has to be cheap. RE2 matches in linear time without backtracking; it lacks
// a few ECMAScript features (backreferences, lookahead), and a pattern that uses them is compiled
// with std::regex instead, which is far slower but keeps such manifests working.
// RE2 stays out of this header so that the many files including profile_manifests.hpp need
// neither its headers nor <regex>.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cdphub::manifest {

class PatternMatcher {
  public:
    enum class Engine {
        re2,         // the common syntax: the fast path
        ecmascript,  // std::regex, for what RE2 cannot compile
    };

    // Compiles `pattern` with RE2 when it can, else with std::regex (ECMAScript). Throws
    // std::regex_error (std::regex's complaint) when neither can.
    static std::shared_ptr<const PatternMatcher> compile(const std::string& pattern,
                                                         bool case_insensitive);

    struct Impl;  // RE2 or std::regex
    // Use compile(): Impl is only defined in pattern_matcher.cpp, so nothing else can make one.
    // Public so that std::make_shared can call it.
    explicit PatternMatcher(std::unique_ptr<const Impl> impl);
    ~PatternMatcher();
    PatternMatcher(const PatternMatcher&) = delete;
    PatternMatcher& operator=(const PatternMatcher&) = delete;

    // Whether the pattern matches all of `value` (not just a part of it).
    bool full_match(std::string_view value) const;
    Engine engine() const;
    // Why RE2 refused the pattern ("invalid perl operator: (?="); empty with Engine::re2.
    const std::string& re2_error() const;

  private:
    std::unique_ptr<const Impl> impl_;
};

}  // namespace cdphub::manifest

// PatternMatcher (pattern_matcher.hpp): RE2 first, std::regex only for what RE2 cannot compile.
#include "manifest/pattern_matcher.hpp"

#include <re2/re2.h>

#include <optional>
#include <regex>

namespace cdphub::manifest {

struct PatternMatcher::Impl {
    std::optional<re2::RE2> re2;           // set with Engine::re2
    std::optional<std::regex> ecmascript;  // set with Engine::ecmascript
    std::string re2_error;
};

std::shared_ptr<const PatternMatcher> PatternMatcher::compile(const std::string& pattern,
                                                              bool case_insensitive) {
    auto impl = std::make_unique<Impl>();
    RE2::Options options;
    options.set_case_sensitive(!case_insensitive);
    // The caller reports a pattern RE2 refuses, as a diagnostic; RE2 would also print it.
    options.set_log_errors(false);
    // dot_nl stays false: '.' does not match a newline, as in ECMAScript.
    impl->re2.emplace(pattern, options);
    if (!impl->re2->ok()) {
        impl->re2_error = impl->re2->error();
        impl->re2.reset();
        auto flags = std::regex::ECMAScript | std::regex::optimize;
        if (case_insensitive) flags |= std::regex::icase;
        impl->ecmascript.emplace(pattern, flags);  // throws std::regex_error if it is no regex
    }
    return std::make_shared<const PatternMatcher>(std::move(impl));
}

PatternMatcher::PatternMatcher(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}

PatternMatcher::~PatternMatcher() = default;

bool PatternMatcher::full_match(std::string_view value) const {
    if (impl_->re2) return RE2::FullMatch(value, *impl_->re2);
    return std::regex_match(value.begin(), value.end(), *impl_->ecmascript);
}

PatternMatcher::Engine PatternMatcher::engine() const {
    return impl_->re2 ? Engine::re2 : Engine::ecmascript;
}

const std::string& PatternMatcher::re2_error() const {
    return impl_->re2_error;
}

}  // namespace cdphub::manifest

// When a connector instance runs, or an activation brings its destination up to date. Part of
// the manifest types (manifest.hpp), in a header of its own so that profile_manifests.hpp can use
// it without including manifest.hpp.
#pragma once

#include <chrono>

namespace cdphub::manifest {

struct Schedule {
    enum class Kind { manual, interval };
    Kind kind = Kind::manual;
    std::chrono::seconds every{0};  // with interval
};

}  // namespace cdphub::manifest

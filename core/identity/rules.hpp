// The identity rules the engine applies are exactly what manifests/identity.json declares
// (core/manifest/profile_manifests.hpp: priorities, limits, unique types, blocked values, trait
// precedence); one type, so the loader and the engine can never drift apart.
#pragma once

#include "manifest/profile_manifests.hpp"

namespace cdphub::identity {

using Rules = manifest::IdentityRules;
using TraitRule = manifest::TraitRule;
using TraitStrategy = manifest::TraitStrategy;

}  // namespace cdphub::identity

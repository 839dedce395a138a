// What the profile-engine commands share: the validated manifests, the store file in the hub's
// data directory, the normalizer, resolver and segment engine built from them.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "identity/resolver.hpp"
#include "manifest/manifest.hpp"
#include "normalize/normalizer.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/segments.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::cli {

struct Engine {
    manifest::ManifestSet manifests;
    std::filesystem::path db_path;
    std::unique_ptr<store::SqliteProfileStore> store;
    std::unique_ptr<normalize::Normalizer> normalizer;
    std::unique_ptr<identity::Resolver> resolver;
    std::unique_ptr<pipeline::SegmentEngine> segments;
    std::unique_ptr<pipeline::Ingestor> ingestor;
};

// Loads and validates the manifests (printing problems), opens or creates the store, and syncs
// segment and activation definitions into it. nullopt after printing why it could not.
std::optional<Engine> open_engine(const GlobalOptions& g);

// The current time in the store's format.
std::string now_text();

}  // namespace cdphub::cli

// Segments at work: definitions from manifests, full evaluation (compiled SQL over the whole
// store), real-time evaluation (in memory, for the profiles a batch changed), computed traits
// materialized for readers, and previews. SQLite-backed through SqliteProfileStore, because the
// segment compiler emits SQLite SQL; the in-memory path is backend-neutral.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"
#include "segment/ast.hpp"
#include "store/sqlite_store.hpp"

namespace cdphub::pipeline {

struct SegmentDefinition {
    std::string name;
    std::string expression;
    segment::Expr expr;
};

struct PreviewResult {
    std::int64_t count = 0;
    std::vector<store::ProfileId> sample;  // the first `limit` ids, ascending
};

// Thrown when a definition does not parse (validate() reports these with file positions first).
class DefinitionError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class SegmentEngine {
  public:
    // Parses the manifests' computed traits and enabled segments. Throws DefinitionError.
    SegmentEngine(store::SqliteProfileStore& store, const manifest::ManifestSet& manifests);
    // For tests and tools: explicit definitions.
    SegmentEngine(store::SqliteProfileStore& store, segment::ComputedTraits computed,
                  std::vector<SegmentDefinition> segments);

    // Writes the definitions (and the manifests' activation bindings) to the store.
    void sync_definitions(const manifest::ManifestSet* manifests = nullptr);

    // Recomputes every segment (or one) over the whole store; returns the delta per segment.
    std::map<std::string, store::MembershipDelta> evaluate_all(const std::string& now);
    store::MembershipDelta evaluate(const std::string& name, const std::string& now);

    // Real-time: re-evaluates every segment and computed trait for these profiles only, in one
    // transaction. Merged-away profiles leave their segments. The deltas count entries and exits
    // but not the members (see MembershipDelta::members).
    std::map<std::string, store::MembershipDelta> on_changed(
        const std::vector<store::ProfileId>& profiles, const std::string& now);

    // Parses and counts an ad-hoc expression without saving anything. Throws DefinitionError.
    PreviewResult preview(const std::string& expression, std::size_t limit, const std::string& now);

    const std::vector<SegmentDefinition>& segments() const { return segments_; }
    const segment::ComputedTraits& computed() const { return computed_; }

  private:
    store::SqliteProfileStore& store_;
    segment::ComputedTraits computed_;
    std::vector<SegmentDefinition> segments_;
};

}  // namespace cdphub::pipeline

namespace cdphub::pipeline {

// The segment language's parser as a manifest expression checker (for `cdphub validate`):
// segments may use the computed traits of `manifests` that parse.
manifest::ExpressionChecker expression_checker(const manifest::ManifestSet& manifests);

}  // namespace cdphub::pipeline

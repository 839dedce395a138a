#include "cli/engine.hpp"

#include <iostream>

#include "secrets/secrets.hpp"
#include "store/database.hpp"

namespace cdphub::cli {

std::string now_text() {
    return store::format_timestamp(std::chrono::system_clock::now());
}

std::optional<Engine> open_engine(const GlobalOptions& g) {
    Engine e;
    e.manifests = manifest::load(g.manifests);
    auto problems = e.manifests.diagnostics;
    auto expr =
        manifest::validate_expressions(e.manifests, pipeline::expression_checker(e.manifests));
    problems.insert(problems.end(), expr.begin(), expr.end());
    bool errors = false;
    for (const auto& d : problems) {
        if (!d.is_error()) continue;
        errors = true;
        std::cerr << secrets::redact(d.to_string()) << "\n";
    }
    if (errors) {
        std::cerr << "cdphub: the manifests in " << g.manifests.string()
                  << " have errors (see above); fix them, then run 'cdphub validate'\n";
        return std::nullopt;
    }
    std::error_code ec;
    std::filesystem::create_directories(e.manifests.hub.data_dir, ec);
    if (ec) {
        std::cerr << "cdphub: cannot create the data directory " << e.manifests.hub.data_dir << ": "
                  << ec.message() << "\n";
        return std::nullopt;
    }
    e.db_path = e.manifests.hub.data_dir / "cdphub.db";
    try {
        e.store = store::open_sqlite_store(e.db_path);
        normalize::Options cleansing;
        cleansing.default_region = e.manifests.hub.default_phone_region;
        cleansing.strict_phone_validation = e.manifests.hub.strict_phone_validation;
        e.normalizer = std::make_unique<normalize::Normalizer>(cleansing);
        e.resolver = std::make_unique<identity::Resolver>(e.manifests.identity);
        e.segments = std::make_unique<pipeline::SegmentEngine>(*e.store, e.manifests);
        e.segments->sync_definitions(&e.manifests);
        e.ingestor = std::make_unique<pipeline::Ingestor>(*e.store, *e.normalizer, *e.resolver);
    } catch (const std::exception& ex) {
        std::cerr << "cdphub: " << ex.what() << "\n";
        return std::nullopt;
    }
    return e;
}

}  // namespace cdphub::cli

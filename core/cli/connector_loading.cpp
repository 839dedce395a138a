#include "cli/connector_loading.hpp"

#include <iostream>

#include "secrets/secrets.hpp"

namespace cdphub::cli {

// Everything the commands print passes through here, so no secret reaches the terminal.
void print_diagnostics(const Diagnostics& ds) {
    for (const auto& d : ds) std::cerr << secrets::redact(d.to_string()) << "\n";
}

Loaded load_all(const GlobalOptions& g) {
    Loaded l{manifest::load(g.manifests), plugin_host::PluginCatalog{}, {}};
    l.catalog =
        plugin_host::PluginCatalog::discover(effective_plugin_dirs(g, l.manifests.hub.plugin_dirs));
    l.config_problems = manifest::validate_configs(
        l.manifests,
        [&](std::string_view id) -> std::optional<manifest::PluginSpec> {
            auto p = l.catalog.find(id);
            if (!p) return std::nullopt;
            return manifest::PluginSpec{p->info().id, &p->info().config_spec,
                                        p->info().is_destination()};
        },
        l.catalog.ids());
    return l;
}

bool manifest_usable(const Loaded& l, const manifest::ConnectorManifest& m,
                     const std::string& who) {
    Diagnostics mine;
    for (const auto* list : {&l.manifests.diagnostics, &l.config_problems})
        for (const auto& d : *list)
            if (d.file == m.file.string()) mine.push_back(d);
    if (!has_errors(mine)) return true;
    print_diagnostics(mine);
    std::cerr << who << ": the manifest is invalid; fix it first\n";
    return false;
}

// Instantiates one connector from the loaded manifests, printing why not if it cannot.
std::unique_ptr<plugin_host::Connector> open_connector(Loaded& l, const GlobalOptions& g,
                                                       const std::string& instance) {
    const auto* m = l.manifests.find(instance);
    if (m == nullptr) {
        std::cerr << "cdphub: no connector instance '" << instance << "' in "
                  << g.manifests.string() << "; run 'cdphub connectors' to list them\n";
        return nullptr;
    }
    if (!manifest_usable(l, *m, "cdphub: " + instance)) return nullptr;
    auto created = plugin_host::instantiate(l.catalog, *m, l.manifests.root);
    if (auto* d = std::get_if<Diagnostic>(&created)) {
        print_diagnostics(l.catalog.diagnostics());
        print_diagnostics({*d});
        return nullptr;
    }
    return std::get<std::unique_ptr<plugin_host::Connector>>(std::move(created));
}

}  // namespace cdphub::cli

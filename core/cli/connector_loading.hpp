// What the connector commands (check, read, sync, run) share: the manifests with every
// connector config checked against its plugin's spec, and one instance built from them.
#pragma once

#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "common/diagnostic.hpp"
#include "manifest/manifest.hpp"
#include "plugin_host/connector.hpp"
#include "plugin_host/plugin_catalog.hpp"

namespace cdphub::cli {

struct Loaded {
    manifest::ManifestSet manifests;
    plugin_host::PluginCatalog catalog;
    Diagnostics config_problems;  // from validate_configs
};

// Loads the manifests and discovers the plugins of every effective plugin directory.
Loaded load_all(const GlobalOptions& g);

// Prints diagnostics to stderr with every known secret redacted.
void print_diagnostics(const Diagnostics& ds);

// The diagnostics (manifest and config) of one manifest file; printed, with a note, when they hold
// an error. True if the instance's manifest is usable.
bool manifest_usable(const Loaded& l, const manifest::ConnectorManifest& m, const std::string& who);

// Instantiates one connector from the loaded manifests, printing why not if it cannot.
std::unique_ptr<plugin_host::Connector> open_connector(Loaded& l, const GlobalOptions& g,
                                                       const std::string& instance);

}  // namespace cdphub::cli

#include "plugin_host/plugin_catalog.hpp"

#include <algorithm>

namespace cdphub::plugin_host {
namespace fs = std::filesystem;
namespace {

bool is_plugin_file_name(const fs::path& p) {
    auto ext = p.extension().string();
    return ext == ".so" || ext == ".dylib" || ext == ".dll";
}

// Whether `child` equals `parent` or lies below it, comparing whole path components.
bool is_within(const fs::path& child, const fs::path& parent) {
    auto c = child.begin();
    for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
        if (p->empty()) continue;  // trailing separator
        if (c == child.end() || *c != *p) return false;
    }
    return true;
}

}  // namespace

PluginCatalog PluginCatalog::discover(const std::vector<fs::path>& plugin_dirs) {
    PluginCatalog cat;
    for (const auto& dir : plugin_dirs) {
        std::error_code ec;
        auto canon = fs::canonical(dir, ec);
        if (ec || !fs::is_directory(canon, ec)) {
            Diagnostic d;
            d.severity = Diagnostic::Severity::warning;
            d.file = dir.string();
            d.message = "plugin directory does not exist or is not a directory";
            d.hint = "create it, or fix plugin_dirs in hub.json / --plugin-dir";
            cat.diagnostics_.push_back(std::move(d));
            continue;
        }
        if (std::find(cat.dirs_.begin(), cat.dirs_.end(), canon) == cat.dirs_.end())
            cat.dirs_.push_back(canon);
    }
    for (const auto& dir : cat.dirs_) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (is_plugin_file_name(entry.path())) files.push_back(entry.path());
        if (ec) {
            Diagnostic d;
            d.file = dir.string();
            d.message = "cannot list plugin directory: " + ec.message();
            cat.diagnostics_.push_back(std::move(d));
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) cat.add(f);
    }
    return cat;
}

bool PluginCatalog::inside_plugin_dirs(const fs::path& file) const {
    std::error_code ec;
    auto canon = fs::weakly_canonical(file, ec);
    if (ec) return false;
    return std::any_of(dirs_.begin(), dirs_.end(),
                       [&](const fs::path& d) { return is_within(canon, d); });
}

void PluginCatalog::add(const fs::path& file) {
    if (!inside_plugin_dirs(file)) {
        Diagnostic d;
        d.file = file.string();
        d.message = "resolves to " + fs::weakly_canonical(file).string() +
                    ", outside every plugin directory; refused";
        d.hint = "copy the plugin into a plugin directory instead of linking to it";
        diagnostics_.push_back(std::move(d));
        return;
    }
    auto result = PluginLibrary::load(file, diagnostics_);
    if (auto* d = std::get_if<Diagnostic>(&result)) {
        diagnostics_.push_back(std::move(*d));
        return;
    }
    auto lib = std::get<std::shared_ptr<PluginLibrary>>(std::move(result));
    if (auto existing = find(lib->info().id)) {
        Diagnostic d;
        d.file = file.string();
        d.message = "duplicate plugin id '" + lib->info().id + "': already provided by " +
                    existing->info().path.string() + " (version " + existing->info().version +
                    "); this file is ignored";
        d.hint = "keep one file per plugin id in the plugin directories";
        diagnostics_.push_back(std::move(d));
        return;
    }
    plugins_.push_back(std::move(lib));
}

std::shared_ptr<const PluginLibrary> PluginCatalog::load_file(const fs::path& file) {
    for (const auto& p : plugins_) {
        std::error_code ec;
        if (fs::equivalent(p->info().path, file, ec)) return p;
    }
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        Diagnostic d;
        d.file = file.string();
        d.message = "plugin file does not exist";
        d.hint = "check plugin_file in the connector manifest";
        diagnostics_.push_back(std::move(d));
        return nullptr;
    }
    size_t before = plugins_.size();
    add(file);
    return plugins_.size() > before ? plugins_.back() : nullptr;
}

std::shared_ptr<const PluginLibrary> PluginCatalog::find(std::string_view id) const {
    for (const auto& p : plugins_)
        if (p->info().id == id) return p;
    return nullptr;
}

std::vector<std::string> PluginCatalog::ids() const {
    std::vector<std::string> out;
    for (const auto& p : plugins_) out.push_back(p->info().id);
    return out;
}

}  // namespace cdphub::plugin_host

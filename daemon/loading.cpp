#include "loading.hpp"

#include <algorithm>
#include <filesystem>

namespace mlwm::app {
namespace fs = std::filesystem;

// The host configuration and every model configuration below `dir` (or the
// host's configurations_dir); issues are collected, not thrown.
Loaded load_all(const cli::ParsedArgs& a, const std::optional<std::string>& dir_arg) {
    Loaded l;
    try {
        l.host = config::load_host_config(config::find_host_config(a.get("config").value_or("")));
    } catch (const config::ConfigError& e) {
        l.issues = e.issues();
    }
    const fs::path dir = dir_arg ? fs::path(*dir_arg) : l.host.configurations_dir;
    std::vector<fs::path> folders;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory() && fs::exists(entry.path() / "config.yaml"))
            folders.push_back(entry.path());
    if (ec)
        l.issues.push_back(
            {dir.string(), 0, 0, "", "cannot read the configurations folder: " + ec.message()});
    else if (folders.empty())
        l.issues.push_back({dir.string(), 0, 0, "",
                            "no model configurations (expected <model>/config.yaml folders)"});
    std::sort(folders.begin(), folders.end());
    for (const auto& f : folders) {
        try {
            l.models.push_back(config::load_model_config(f));
        } catch (const config::ConfigError& e) {
            l.issues.insert(l.issues.end(), e.issues().begin(), e.issues().end());
        }
    }
    l.host.configurations_dir = dir;
    return l;
}

}  // namespace mlwm::app

#include "config/issues.hpp"

namespace mlwm::config {

std::string ConfigIssue::str() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
    s += ": ";
    if (!key_path.empty()) s += key_path + ": ";
    return s + message;
}

namespace {
std::string join(const std::vector<ConfigIssue>& issues) {
    std::string s;
    for (const auto& i : issues) s += (s.empty() ? "" : "\n") + i.str();
    return s;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::invalid_argument(join(issues)), issues_(std::move(issues)) {}

}  // namespace mlwm::config

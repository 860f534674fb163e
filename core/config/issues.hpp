// Configuration problems, each naming the file, line, column, key path and
// what was expected, collected so that one run of `mlwm validate` shows them all.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace mlwm::config {

struct ConfigIssue {
    std::string file;
    int line = 0;          // 1-based, 0 = unknown
    int column = 0;        // 1-based
    std::string key_path;  // e.g. inputs.dini.uri_args.resolution.unit
    std::string message;
    // "configurations/x/config.yaml:12:7: inputs.dini.internal_path: must be an absolute path"
    std::string str() const;
};

class ConfigError : public std::invalid_argument {
public:
    explicit ConfigError(std::vector<ConfigIssue> issues);
    const std::vector<ConfigIssue>& issues() const { return issues_; }

private:
    std::vector<ConfigIssue> issues_;
};

}  // namespace mlwm::config

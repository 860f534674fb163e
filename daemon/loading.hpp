// Loading the host configuration and every model configuration, collecting
// the problems: shared by validate, run, daemon and status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "config/host_config.hpp"
#include "config/issues.hpp"
#include "config/model_config.hpp"

namespace mlwm::app {

struct Loaded {
    config::HostConfig host;
    std::vector<config::ModelConfig> models;
    std::vector<config::ConfigIssue> issues;
};

// The host configuration (--config, $MLWM_CONFIG, /etc/mlwm/mlwm.yaml or the
// defaults) and every model configuration below `dir` (or the host's
// configurations_dir); problems are collected, not thrown.
Loaded load_all(const cli::ParsedArgs& a, const std::optional<std::string>& dir);

}  // namespace mlwm::app

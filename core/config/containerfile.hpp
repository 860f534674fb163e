// What `mlwm validate` checks in a model's Containerfile (pure: the text in,
// problems and warnings out, each naming the file and line): instructions it
// knows, a FROM first (after ARGs), base-image arguments that have a value,
// artifact/ copied only when the configuration names an inference artifact,
// and no S3 credentials baked into the image.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/issues.hpp"

namespace mlwm::config {

struct ContainerfileCheck {
    std::vector<ConfigIssue> problems;  // mlwm build-image would fail, or build the wrong thing
    std::vector<ConfigIssue> warnings;  // builds, but should not be this way
};

// `build_args`: the configuration's (they fill the FROM line's ARGs);
// `has_artifact`: the configuration sets inference_artifact.
ContainerfileCheck check_containerfile(std::string_view text, const std::string& file,
                                       bool has_artifact,
                                       const std::map<std::string, std::string>& build_args);

}  // namespace mlwm::config

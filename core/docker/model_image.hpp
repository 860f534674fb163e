// The inference image of a model: configurations/<model>/Containerfile built
// with that folder as context into <repository>/<model>:<tag>, with OCI labels.
// Pure: computes the build options; DockerClient::build_image runs them.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "docker/client.hpp"

namespace mlwm::docker {

struct ModelImageRequest {
    std::filesystem::path model_dir;  // configurations/<model>
    std::string model;                // the folder's name
    std::string repository = "mlwm";  // registry/namespace the image is named under
    std::vector<std::string> tags;    // empty: the revision (if known) and "latest"
    std::map<std::string, std::string> build_args;
    std::string revision;  // git revision of the checkout ("" if unknown)
    std::string source;    // where the configuration comes from (git remote URL or path)
    std::string created;   // RFC 3339 UTC time of the build
};

// Validates the names (a model folder name that cannot be an image name is an
// error naming it) and returns the build: tags <repository>/<model>:<tag>, OCI
// labels org.opencontainers.image.{title,source,revision,created,version}.
BuildOptions plan_model_image(const ModelImageRequest& request);

}  // namespace mlwm::docker

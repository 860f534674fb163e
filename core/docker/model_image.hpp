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

// A model folder's name as an image repository component (Docker's grammar:
// lower case a-z0-9, separated by '.', '_', '__' or dashes):
// "surface-dummy-model_DINI" -> "surface-dummy-model_dini", "My Model+v2" ->
// "my-model-v2". Throws std::invalid_argument when nothing is left.
std::string image_component(const std::string& model);

// Validates the names and returns the build (the image is named after
// image_component(model)): tags <repository>/<model>:<tag>, OCI
// labels org.opencontainers.image.{title,source,revision,created,version}.
BuildOptions plan_model_image(const ModelImageRequest& request);

}  // namespace mlwm::docker

// Where a run's container executes: the part of a container engine that
// running a model needs. DockerClient implements it over the Docker Engine
// API (also Podman's Docker-compatible service); tests use a fake; a cluster
// runner (Docker Swarm jobs) is the next implementation.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/container_spec.hpp"
#include "docker/image_ref.hpp"

namespace mlwm::docker {

struct WaitResult {
    std::int64_t status_code = 0;
    std::string error;  // the engine's wait error, if any
};

// A wait for a container's exit that was open before the container started,
// so that its exit cannot be missed, however fast it is.
class ContainerWait {
public:
    virtual ~ContainerWait() = default;
    // The exit, or nullopt if the deadline passed first (the wait stays open).
    virtual std::optional<WaitResult> wait_until(
        std::chrono::steady_clock::time_point deadline) = 0;
};

using ProgressSink = std::function<void(const std::string& text)>;

class Engine {
public:
    virtual ~Engine() = default;
    // The image's inspection, or nullopt if the engine does not have it.
    virtual std::optional<nlohmann::json> inspect_image(const std::string& name) = 0;
    virtual void pull_image(const ImageRef& ref, const ProgressSink& progress = {}) = 0;
    // Creates the container; returns its id.
    virtual std::string create_container(const ContainerSpec& spec) = 0;
    // condition: next-exit (before a start) or not-running (a container that
    // may have exited already: answers at once then).
    virtual std::unique_ptr<ContainerWait> open_wait(
        const std::string& id, const std::string& condition = "next-exit") = 0;
    virtual void start_container(const std::string& id) = 0;
    virtual void kill_container(const std::string& id, const std::string& signal = "KILL") = 0;
    virtual void remove_container(const std::string& id, bool force = true) = 0;
    virtual ContainerState inspect_container(const std::string& id) = 0;
    // Containers (also stopped ones) carrying all the labels (`k` or `k=v`).
    virtual std::vector<ContainerSummary> list_containers(
        const std::vector<std::string>& labels) = 0;
    // Writes the container's stdout and stderr to two files.
    virtual void save_logs(const std::string& id, const std::filesystem::path& stdout_path,
                           const std::filesystem::path& stderr_path) = 0;
};

}  // namespace mlwm::docker

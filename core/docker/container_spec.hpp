// What to run in a container, and what the engine said about it. Pure: the
// translation to and from Docker Engine API JSON, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlwm::docker {

struct BindMount {
    std::string source;  // host path (absolute)
    std::string target;  // path in the container (absolute)
    bool read_only = true;
    friend bool operator==(const BindMount&, const BindMount&) = default;
};

// GPUs through DeviceRequests: all of them, a count, or given device ids.
struct GpuRequest {
    bool all = false;
    int count = 0;
    std::vector<std::string> device_ids;
    bool any() const { return all || count > 0 || !device_ids.empty(); }
};

// A device for the container, as `docker run --device` takes it: a host
// device node `HOST[:CONTAINER[:PERMISSIONS]]` (HostConfig.Devices, on every
// engine), or a CDI name `VENDOR/CLASS=NAME` such as nvidia.com/gpu=all
// (resolved by the engine from its CDI specs).
struct Device {
    std::string host;         // /dev/... or, for CDI, the qualified name
    std::string container;    // path in the container (host path when not given)
    std::string permissions;  // r, w, m combined (default rwm)
    bool cdi = false;
    friend bool operator==(const Device&, const Device&) = default;
};
// Parses one entry; throws std::invalid_argument naming it and the forms.
Device parse_device(std::string_view text);
// A CDI fully qualified name: VENDOR/CLASS=NAME, VENDOR a domain-like name.
bool is_cdi_name(std::string_view text);

// How a container gets its GPUs: DeviceRequests (`docker run --gpus`, the
// NVIDIA container toolkit's hook), or the variable NVIDIA_VISIBLE_DEVICES,
// which an engine whose default runtime is nvidia honours (a cluster's nodes
// often are set up so; a count cannot be said this way, ids can).
enum class GpuDelivery { requests, nvidia_env };

struct Resources {
    std::vector<Device> devices;
    std::optional<std::int64_t> memory_bytes;
    std::optional<double> cpus;  // -> NanoCpus
    std::optional<std::int64_t> pids_limit;
    std::optional<std::int64_t> shm_size_bytes;
    GpuRequest gpus;
    GpuDelivery gpu_delivery = GpuDelivery::requests;
};

struct ContainerSpec {
    std::string name;  // optional container name ("" lets the engine choose)
    std::string image;
    std::vector<std::string> command;     // empty: the image's CMD
    std::vector<std::string> entrypoint;  // empty: the image's ENTRYPOINT
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> labels;
    std::string working_dir;
    std::string user;
    std::vector<BindMount> mounts;
    std::string network_mode = "none";
    Resources resources;
    bool read_only_rootfs = false;
    bool init = false;
};

// Checks a spec before it goes to the engine: absolute, distinct mount targets,
// absolute sources, env names without '='. Throws std::invalid_argument.
void validate(const ContainerSpec& spec);

// The body of POST /containers/create. Never sets AutoRemove: the exit code
// and logs must survive the container's exit. CDI devices become a
// DeviceRequest with Driver "cdi" (Docker Engine 25+, API 1.45).
nlohmann::json create_body(const ContainerSpec& spec);

// The same container for Podman's own API (POST /libpod/containers/create, a
// SpecGenerator), which resolves CDI names where its Docker-compatible API
// does not. GPU requests become CDI names (nvidia.com/gpu=all or =ID), as
// `podman run --device nvidia.com/gpu=all` asks; a GPU count cannot be
// (std::invalid_argument; see engine_cannot).
nlohmann::json libpod_create_body(const ContainerSpec& spec);

// The parts of GET /containers/{id}/json that mlwm uses.
struct ContainerState {
    std::string id;
    std::string name;
    std::string image_id;
    std::string status;  // created, running, exited, ...
    bool running = false;
    bool oom_killed = false;
    int exit_code = 0;
    std::string error;
    std::string started_at;
    std::string finished_at;
    std::map<std::string, std::string> labels;
};
ContainerState parse_inspect(const nlohmann::json& inspect);

// An entry of GET /containers/json.
struct ContainerSummary {
    std::string id;
    std::vector<std::string> names;
    std::string image;
    std::string state;
    std::map<std::string, std::string> labels;
};
std::vector<ContainerSummary> parse_container_list(const nlohmann::json& list);

// The `filters` query value for containers carrying all the given labels
// (`key` or `key=value`).
std::string label_filter(const std::vector<std::string>& labels);

}  // namespace mlwm::docker

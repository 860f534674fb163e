// The host configuration, /etc/mlwm/mlwm.yaml: where the data is, where the
// engine is, where mlwm keeps its files, and how much it may do at once.
// Every key is optional; the defaults are listed in deploy/mlwm.yaml.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "docker/container_spec.hpp"
#include "storage/s3_config.hpp"

namespace mlwm::config {

// Where runs execute: this host's engine (local), or a Docker Swarm, whose
// replicated jobs run the one-shot `mlwm run` in the mlwm image on the node
// they land on (staging, the model container on that node's engine,
// publishing), the daemon scheduling and recording (swarm).
struct RunnerConfig {
    std::string type = "local";                        // local | swarm
    std::string manager;                               // swarm: the Engine API socket of a manager
    std::string image;                                 // swarm: the mlwm image, on every node
    std::string node_socket = "/var/run/docker.sock";  // each node's engine, on the node
    std::filesystem::path node_work_dir = "/var/lib/mlwm/work";  // on each node
    std::string node_endpoint;  // the S3 endpoint as the nodes reach it (default: storage's)
    std::string gpu_kind = "NVIDIA-GPU";  // the nodes' generic resource that counts GPUs
    std::vector<std::string> placement;   // the jobs' placement constraints, e.g. node.role==worker
    // a job whose node is down (GET /nodes) this long is given up: its next
    // attempt goes elsewhere (the node's task would stay `running` forever)
    std::chrono::seconds node_grace{60};
    bool swarm() const { return type == "swarm"; }
};

// A swarm runner's image given by tag, not digest: its workers try to pull
// it from its registry for every job, even when they have it (Docker 20.10),
// and a moved tag runs another mlwm on some nodes. "" when pinned (pure).
std::string runner_image_warning(const RunnerConfig& runner);

struct HostConfig {
    std::filesystem::path file;  // "" when built from defaults
    // storage: S3 (endpoint/region/profile; credentials from the environment
    // or the shared files), or a local folder (file://) holding one folder per bucket
    std::string storage_type = "s3";  // s3 | file
    storage::S3Settings s3;
    std::filesystem::path file_root;  // storage_type file
    std::string docker_socket = "/var/run/docker.sock";
    // docker.gpus: how model containers get their GPUs (requests | nvidia-env)
    docker::GpuDelivery gpu_delivery = docker::GpuDelivery::requests;
    std::filesystem::path work_dir = "/var/lib/mlwm/work";
    std::filesystem::path configurations_dir = "/etc/mlwm/configurations";
    std::filesystem::path state_dir = "/var/lib/mlwm/state";
    std::string http_listen = "127.0.0.1:9187";
    std::string log_format = "json";  // json | text
    int max_concurrent_runs = 2;
    int transfer_concurrency = 64;
    int keep_failed_runs = 10;
    // daemon: how often the input prefixes are listed
    std::chrono::seconds poll_interval{30};
    // daemon: each poll lists the analysis times after (newest seen - lookback),
    // so a cycle that lands after a newer one is still found within this window
    std::chrono::seconds lookback{24 * 3600};
    // the host's GPUs (device indexes or UUIDs) that runs may use: a run that
    // needs N waits until N of them are free, and gets exactly those
    std::vector<std::string> gpus;
    RunnerConfig runner;
};

// Relative paths in the file are relative to its folder. Throws ConfigError.
HostConfig parse_host_config(const std::string& file, const std::string& text);
HostConfig load_host_config(const std::filesystem::path& file);

// The keys (as written in mlwm.yaml) whose values differ between two host
// configurations: what a reload cannot apply to a running daemon.
std::vector<std::string> changed_host_keys(const HostConfig& running, const HostConfig& fresh);

// --config PATH, else $MLWM_CONFIG, else /etc/mlwm/mlwm.yaml if it exists,
// else the defaults. Returns the path used ("" for the defaults).
std::filesystem::path find_host_config(const std::string& explicit_path);

}  // namespace mlwm::config

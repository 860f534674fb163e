// Which ready runs may start now (issue: the daemon): the host's global
// limit, each model's own limit, and the host's GPUs. A run that needs N GPUs
// waits until N of the listed ones are free and is given exactly those, so two
// runs never share a GPU. Runs are considered in the order given (oldest
// analysis time first); a run that does not fit does not block later ones
// that do. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "docker/container_spec.hpp"

namespace mlwm::schedule {

struct Candidate {
    std::string run_id;
    std::string model;
    int model_limit = 0;  // 0: none
    docker::GpuRequest gpus;
};

struct Capacity {
    int global_limit = 1;
    int active = 0;                           // runs in progress
    std::map<std::string, int> model_active;  // runs in progress per model
    std::vector<std::string> host_gpus;       // the host's GPUs (mlwm.yaml gpus)
    std::vector<std::string> busy_gpus;       // held by runs in progress
};

struct Admission {
    std::string run_id;
    std::vector<std::string> gpus;  // the devices it gets (empty: none)
};

struct Waiting {
    std::string run_id;
    std::string reason;  // for the log and /status
};

struct AdmissionResult {
    std::vector<Admission> start;
    std::vector<Waiting> wait;
};

AdmissionResult admit(const std::vector<Candidate>& candidates, Capacity capacity);

// Why a GPU request can never be met on this host ("" when it can).
std::string gpu_request_unsatisfiable(const docker::GpuRequest& request,
                                      const std::vector<std::string>& host_gpus);

}  // namespace mlwm::schedule

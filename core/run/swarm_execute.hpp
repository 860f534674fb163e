// A run attempt on a Docker Swarm (runner: {type: swarm}): one replicated
// job, named from the run and attempt (a second submission is a no-op), whose
// container is the mlwm image running the one-shot `mlwm run` on the node it
// lands on: staging to the node's disk, the model container on the node's
// engine (network none, read-only inputs, exactly the GPUs the task reserved),
// publishing and the marker. The daemon records the attempt, waits for the
// job, and reads the run's report from the job's log. The job gets its host
// configuration and the model's config.yaml as swarm configs, the S3
// credentials as a swarm secret: nothing is shared between the nodes but S3.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "docker/swarm.hpp"
#include "run/execute.hpp"

namespace mlwm::run {

// Where the job finds what the daemon gives it.
inline constexpr const char* kJobHostConfig = "/etc/mlwm/mlwm.yaml";
inline constexpr const char* kJobConfigurations = "/etc/mlwm/configurations";
inline constexpr const char* kJobCredentials = "mlwm-s3-credentials";  // under /run/secrets
// The job's variable naming the generic resource its GPUs are (`mlwm run`
// then gives the model container the ids in DOCKER_RESOURCE_<that name>).
inline constexpr const char* kJobGpuResourceVariable = "MLWM_SWARM_GPU_RESOURCE";
// The job's variable holding its own name (written in the run's marker).
inline constexpr const char* kJobNameVariable = "MLWM_SWARM_JOB";

// The mlwm.yaml of the job's `mlwm run` on a node (pure).
std::string job_host_config(const config::HostConfig& host);
// The S3 credentials as a shared-credentials file ("" without credentials; pure).
std::string credentials_file(const std::map<std::string, std::string>& aws_env);

// What a model's jobs are given as swarm configs (the host configuration,
// the model's config.yaml) and secrets (the S3 credentials), named by their
// content (swarm::object_name): a changed file is a new object, and the old
// one is pruned once no job uses it. Reads the model's file.
struct JobObject {
    std::string kind;  // "configs" or "secrets"
    docker::swarm::FileRef file;
    std::string data;
};
std::vector<JobObject> job_objects(const config::HostConfig& host,
                                   const config::ModelConfig& model);
// The label (k=v) on the configs and secrets this daemon creates (host name
// and state folder): it prunes only its own, another daemon's jobs on the
// same swarm keep theirs.
std::string job_objects_label(const config::HostConfig& host);

// The job of an attempt (pure): `configs` are the host configuration's and
// the model's (FileRef ids filled by the caller), `secrets` the credentials'.
docker::swarm::JobSpec job_spec(const RunPlan& plan, int attempt, bool force,
                                const config::RunnerConfig& runner,
                                std::vector<docker::swarm::FileRef> configs,
                                std::vector<docker::swarm::FileRef> secrets);

// The report `mlwm run --json` printed in the job's log (pure): nullopt when
// the log holds none (the job died before printing it).
std::optional<RunReport> parse_job_report(std::string_view log, const std::string& run_id);

// Runs (or, resumed, adopts) the attempt and waits for it. The returned
// report's container_id is the job's name: the caller removes the job
// (DockerClient::remove_service) once it has recorded the outcome.
RunReport execute_on_swarm(const RunPlan& plan, const config::ModelConfig& model, int attempt,
                           docker::DockerClient& manager, const config::HostConfig& host,
                           const ExecuteOptions& options);

}  // namespace mlwm::run

// Docker Swarm replicated jobs, the pure part (no I/O): the body of
// POST /services/create for one run attempt, the job's name, and what
// GET /tasks and GET /nodes answer, read into plain values. The calls are
// DockerClient's (client.hpp).
//
// Facts these follow (Docker 20.10, measured on tests/services/swarm.sh's
// cluster): a second create with the same Name answers 409, so a name derived
// from the run and attempt makes submission idempotent; RestartPolicy must be
// `none` (mlwm retries, with a new attempt); a task that reserves N generic
// resources of a kind gets their ids in DOCKER_RESOURCE_<KIND>; services
// cannot use network `none`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlwm::docker::swarm {

struct Mount {
    std::string source;  // a path on the node the task lands on
    std::string target;
    bool read_only = false;
};

// A swarm config or secret given to the job as a file.
struct FileRef {
    std::string id, name;  // of the config or secret
    std::string target;    // configs: an absolute path; secrets: a name under /run/secrets
    int mode = 0444;
};

struct JobSpec {
    std::string name;  // job_name(run_id, attempt)
    std::string image;
    std::vector<std::string> args;  // to the image's entry point
    std::map<std::string, std::string> labels;
    std::vector<std::string> env;  // NAME=VALUE
    std::vector<Mount> mounts;
    int gpus = 0;  // generic resources of gpu_kind reserved
    std::string gpu_kind = "NVIDIA-GPU";
    std::int64_t memory_bytes = 0;         // reserved and limited; 0: none
    double cpus = 0;                       // reserved; 0: none
    std::vector<std::string> constraints;  // placement, e.g. node.role==worker
    std::vector<FileRef> configs, secrets;
    std::vector<std::string> networks;  // e.g. "host"; none: the engine's default
};

// The placement constraint no node meets: a job given it is shut down.
inline constexpr const char* kStoppedConstraint = "node.labels.mlwm-stopped==true";

// A name for a config or secret that cannot change: `prefix` + a digest of its content.
std::string object_name(std::string_view prefix, std::string_view data);

// The body of POST /services/create: Mode ReplicatedJob (1 completion),
// RestartPolicy none, the labels on the service and on its container.
nlohmann::json service_create_body(const JobSpec& spec);

// A service name for a run attempt: [a-z0-9][a-z0-9_.-]*, at most 63
// characters, the same for the same run and attempt, different for different
// ones (long or unusual run ids are shortened with a digest of the whole id).
std::string job_name(std::string_view run_id, int attempt);

struct Task {
    std::string id;
    std::string service_id;
    std::string node_id;
    std::string state;          // new ... running, complete, failed, rejected, orphaned, ...
    std::string desired_state;  // running, shutdown, complete
    std::string message, error;
    std::optional<int> exit_code;
    std::string container_id;
};
// GET /tasks?filters=... -> tasks, newest first.
std::vector<Task> parse_tasks(const nlohmann::json& tasks);

// Where a job is, from its tasks.
enum class JobPhase {
    pending,    // no task yet, or waiting for a node with the resources
    running,    // a task is on a node: assigned, starting or running
    succeeded,  // a task completed (exit 0)
    failed,     // a task ended otherwise (exit code, rejected, orphaned, ...)
};
struct JobStatus {
    JobPhase phase = JobPhase::pending;
    std::optional<int> exit_code;
    std::string node_id;
    std::string message;  // the task's error or message (e.g. "insufficient resources")
};
JobStatus job_status(const std::vector<Task>& tasks);

// GET /nodes -> per ready, active node: how many generic resources of `kind`
// it advertises. A job asking for more than the largest would wait forever.
std::map<std::string, int> generic_resources(const nlohmann::json& nodes, std::string_view kind);

// The digest reference of `ref` (NAME[:TAG]) among an image's RepoDigests
// (GET /images/{name}/json), for pinning a job's image: workers try a
// registry pull for a tag even when they have the image (pure). nullopt:
// `ref` is pinned already, or the image has no digest from NAME's registry
// (built or loaded here, never pushed).
std::optional<std::string> pinned_image(std::string_view ref, const nlohmann::json& inspect);

// GET /services -> the mlwm jobs among them (label org.mlwm.job=true):
// the run and attempt each is (from its labels).
struct JobRef {
    std::string name, run_id;
    int attempt = 0;
};
std::vector<JobRef> parse_jobs(const nlohmann::json& services);

// GET /nodes -> each node's state as the managers see it.
struct NodeState {
    std::string hostname;
    std::string state;  // ready, down, unknown, disconnected
    std::string message;
};
std::map<std::string, NodeState> node_states(const nlohmann::json& nodes);

// How long the node of a running job has been away (pure; one per attempt):
// a node that is not `ready` leaves its task `running` forever, and nothing
// is rescheduled, so the caller gives the job up after a grace period.
class NodeWatch {
public:
    // `node_id` runs the job; `node` its state (nullopt: not listed, i.e.
    // removed from the swarm). Returns how long it has been down,
    // disconnected or missing (0: ready, or unknown -- every node is unknown
    // for seconds after a manager restarts or another one takes over).
    std::chrono::seconds observe(const std::string& node_id, const std::optional<NodeState>& node,
                                 std::chrono::steady_clock::time_point now);

private:
    std::string node_id_;
    std::optional<std::chrono::steady_clock::time_point> away_since_;
};

}  // namespace mlwm::docker::swarm

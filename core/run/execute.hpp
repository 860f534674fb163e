// Running one planned run end to end: check inputs, stage them, run the
// container, publish the outputs and the run marker, clean up.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/host_config.hpp"
#include "docker/engine.hpp"
#include "run/plan.hpp"
#include "storage/object_store.hpp"
#include "storage/s3_store.hpp"
#include "util/clock.hpp"

namespace mlwm::run {

// The store holding a bucket: S3, or <root>/<bucket> for a file store.
using StoreFactory =
    std::function<std::unique_ptr<storage::ObjectStore>(const std::string& bucket)>;
// `counters` (S3 only) count every request and byte, e.g. for metrics.
StoreFactory store_factory(const config::HostConfig& host, storage::S3Counters counters = {});
// The host's S3 settings as a container's AWS_* environment (endpoint, region,
// credentials), for models with s3_credentials: pass. Empty for a file store.
std::map<std::string, std::string> s3_container_env(const config::HostConfig& host);

enum class Outcome { succeeded, already_done, inputs_missing, failed, timed_out };
std::string_view outcome_name(Outcome o);

// The steps of a run, in order; each but `checking` is a ledger state of
// the daemon (run::RunState), written before the step starts.
enum class Phase { checking, staging, launching, running, publishing };
std::string_view phase_name(Phase p);

// Why `needed` bytes do not fit below `dir` (its nearest existing folder's
// free space), or nullopt when they do.
std::optional<std::string> space_shortfall(const std::filesystem::path& dir, std::uint64_t needed);

struct RunReport {
    std::string run_id, model;
    paths::Member member = 0;
    Outcome outcome = Outcome::failed;
    std::string message;  // why it failed, or what was found
    double download_seconds = 0, run_seconds = 0, upload_seconds = 0;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::int64_t exit_code = -1;
    std::filesystem::path log_dir;
    // the container of a failed run, left for the caller to remove once it
    // has recorded the outcome (ExecuteOptions::leave_failed_container)
    std::string container_id;
    // the phase a failure happened in: after `publishing` began, the model's
    // container had succeeded and only publishing needs another try
    Phase failed_in = Phase::checking;
    std::vector<std::string> notes;  // what went wrong without failing the run
    // not the run's fault (its cluster node was lost): the next attempt, if
    // the model's attempts allow one, starts at once instead of after a backoff
    bool retry_at_once = false;
    bool ok() const { return outcome == Outcome::succeeded || outcome == Outcome::already_done; }
};

// Where a run resumes after a daemon restart (see the scheduler's recovery).
struct Resume {
    // Adopt this container of the run: start it if it was only created, wait
    // for it (keeping `deadline`), collect it if it exited meanwhile.
    std::string container_id;
    std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
    // No container: the outputs are in the work folder, publish them.
    bool publish_only = false;
};

struct ExecuteOptions {
    bool force = false;  // run even if the marker exists (and overwrite it)
    std::size_t transfer_concurrency = 64;
    int keep_failed_runs = 10;
    std::string mlwm_version;
    // the swarm job this run is (a cluster's attempt): written in the marker
    std::string job;
    // Called before each phase starts ("staging", "launching", "running" with
    // the container id, "publishing"): the daemon writes its ledger here,
    // before the action (write-ahead). May throw to abort the run.
    std::function<void(Phase phase, const std::string& container_id)> before_phase;
    std::optional<Resume> resume;  // nullopt: from the start
    // A failed run's container (and with it its exit code) is not removed:
    // the caller removes RunReport::container_id after recording the outcome,
    // so that a crash in between cannot forget that the model ran. A
    // succeeded run's container is removed once the marker is written.
    bool leave_failed_container = false;
    // added to the container's environment at run time (s3_container_env, for
    // a plan with pass_s3_credentials): not in the plan, so never in --dry-run
    // output, the ledger, a log line or the marker
    std::map<std::string, std::string> s3_env;
    // the wall clock (completion checks, the adopted container's deadline, the marker's times)
    const util::Clock* clock = &util::system_clock();
};

RunReport execute_run(const RunPlan& plan, const StoreFactory& stores, docker::Engine& docker,
                      const ExecuteOptions& options);

// Keeps the work folders of the newest `keep` failed runs below `work_root`.
void prune_failed_runs(const std::filesystem::path& work_root, int keep);

}  // namespace mlwm::run

// Running one container to completion: create, open the wait, start, wait
// with a deadline (kill when it passes), save the logs, inspect, remove.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "docker/container_spec.hpp"
#include "docker/engine.hpp"

namespace mlwm::docker {

struct RunOptions {
    std::chrono::milliseconds timeout{0};  // 0: no limit
    std::filesystem::path log_dir;         // stdout.log / stderr.log go here ("" = not saved)
    bool remove = true;                    // delete the container afterwards
    // Called with the container id once it has been created (before start),
    // e.g. to record it in a ledger.
    std::function<void(const std::string& id)> on_created;
    std::function<void()> on_started;  // once the engine has started it
};

struct RunOutcome {
    std::string container_id;
    std::string image_id;
    std::int64_t exit_code = -1;
    bool timed_out = false;   // killed at the deadline
    bool oom_killed = false;  // the kernel's OOM killer ended it
    std::string error;        // the engine's wait error, if any
    std::chrono::system_clock::time_point started, finished;
    std::filesystem::path stdout_path, stderr_path;
    // saving the logs failed (e.g. a full disk): the run's outcome stands
    std::string logs_error;

    bool succeeded() const { return exit_code == 0 && !timed_out && !oom_killed; }
    // One line for people: "exit 0", "killed after timeout 10 s (exit 137)", ...
    std::string describe() const;
};

// Runs `spec` to completion. The wait is opened before the start, so a
// container that exits at once is still seen. Throws DockerError /
// EngineUnreachable if the engine fails; the container is removed then too
// (when `remove`).
RunOutcome run_container(Engine& client, const ContainerSpec& spec, const RunOptions& options);

// Adopts a container of an earlier process (a daemon restart): starts it if
// it was only created, waits for it until `deadline` if it runs (killing it
// then), collects it if it exited meanwhile; then the same steps as
// run_container.
RunOutcome adopt_container(Engine& client, const std::string& id,
                           std::chrono::steady_clock::time_point deadline,
                           const RunOptions& options);

// Waits for an already created (or running, e.g. adopted) container and
// finishes the run: the same steps after start as run_container.
RunOutcome finish_container(Engine& client, const std::string& id, ContainerWait& wait,
                            std::chrono::steady_clock::time_point deadline,
                            const RunOptions& options);

}  // namespace mlwm::docker

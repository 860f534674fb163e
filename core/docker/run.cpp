#include "docker/run.hpp"

#include "docker/error.hpp"

namespace mlwm::docker {
namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kAfterKill{60};  // how long a killed container may take to go
}  // namespace

std::string RunOutcome::describe() const {
    std::string s;
    if (timed_out)
        s = "killed at its timeout";
    else if (oom_killed)
        s = "killed by the out-of-memory killer";
    else
        s = "exit " + std::to_string(exit_code);
    if (timed_out || oom_killed) s += " (exit " + std::to_string(exit_code) + ")";
    if (!error.empty()) s += ": " + error;
    return s;
}

RunOutcome finish_container(DockerClient& client, const std::string& id, ContainerWait& wait,
                            Clock::time_point deadline, const RunOptions& options) {
    RunOutcome out;
    out.container_id = id;
    auto result = wait.wait_until(deadline);
    if (!result) {
        out.timed_out = true;
        try {
            client.kill_container(id, "KILL");
        } catch (const DockerError& e) {
            if (e.status() != 409) throw;  // 409: it stopped meanwhile
        }
        result = wait.wait_until(Clock::now() + kAfterKill);
        if (!result)
            throw DockerError("wait for container " + id, 0, "still running after SIGKILL");
    }
    out.finished = std::chrono::system_clock::now();
    out.exit_code = result->status_code;
    out.error = result->error;
    const ContainerState state = client.inspect_container(id);
    out.oom_killed = state.oom_killed;
    out.image_id = state.image_id;
    if (!options.log_dir.empty()) {
        out.stdout_path = options.log_dir / "stdout.log";
        out.stderr_path = options.log_dir / "stderr.log";
        client.save_logs(id, out.stdout_path, out.stderr_path);
    }
    if (options.remove) client.remove_container(id, true);
    return out;
}

RunOutcome run_container(DockerClient& client, const ContainerSpec& spec,
                         const RunOptions& options) {
    const std::string id = client.create_container(spec);
    try {
        if (options.on_created) options.on_created(id);
        auto wait = client.open_wait(id);  // before start: see moby#35001
        const auto started = std::chrono::system_clock::now();
        const auto deadline =
            options.timeout.count() > 0 ? Clock::now() + options.timeout : Clock::time_point::max();
        client.start_container(id);
        RunOutcome out = finish_container(client, id, *wait, deadline, options);
        out.started = started;
        return out;
    } catch (...) {
        if (options.remove) {
            try {
                client.remove_container(id, true);
            } catch (...) {  // the first error is the one to report
            }
        }
        throw;
    }
}

}  // namespace mlwm::docker

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

RunOutcome finish_container(Engine& client, const std::string& id, ContainerWait& wait,
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
        try {
            client.save_logs(id, out.stdout_path, out.stderr_path);
        } catch (const EngineUnreachable&) {
            throw;
        } catch (const std::exception& e) {  // mlwm's bookkeeping, not the model's outcome
            out.logs_error = e.what();
        }
    }
    if (options.remove) client.remove_container(id, true);
    return out;
}

namespace {
// Runs `steps`; on an error removes the container (when options.remove) and
// rethrows the first error.
template <class Steps>
RunOutcome removing_on_error(Engine& client, const std::string& id, const RunOptions& options,
                             Steps steps) {
    try {
        return steps();
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

RunOutcome start_and_finish(Engine& client, const std::string& id, Clock::time_point deadline,
                            const RunOptions& options) {
    auto wait = client.open_wait(id);  // before start: see moby#35001
    const auto started = std::chrono::system_clock::now();
    client.start_container(id);
    if (options.on_started) options.on_started();
    RunOutcome out = finish_container(client, id, *wait, deadline, options);
    out.started = started;
    return out;
}
}  // namespace

RunOutcome run_container(Engine& client, const ContainerSpec& spec, const RunOptions& options) {
    const std::string id = client.create_container(spec);
    return removing_on_error(client, id, options, [&] {
        if (options.on_created) options.on_created(id);
        const auto deadline =
            options.timeout.count() > 0 ? Clock::now() + options.timeout : Clock::time_point::max();
        return start_and_finish(client, id, deadline, options);
    });
}

RunOutcome adopt_container(Engine& client, const std::string& id, Clock::time_point deadline,
                           const RunOptions& options) {
    return removing_on_error(client, id, options, [&] {
        const ContainerState state = client.inspect_container(id);
        if (state.status == "created")  // never started: its whole timeout from now
            return start_and_finish(client, id,
                                    options.timeout.count() > 0 ? Clock::now() + options.timeout
                                                                : Clock::time_point::max(),
                                    options);
        // running: keep its deadline; exited meanwhile: collect it as it is
        auto wait = client.open_wait(id, "not-running");
        return finish_container(client, id, *wait,
                                state.running ? deadline : Clock::time_point::max(), options);
    });
}

}  // namespace mlwm::docker

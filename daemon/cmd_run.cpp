// `mlwm validate` and `mlwm run`: model configurations and one-shot runs.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include <pthread.h>

#include "command.hpp"
#include "config/containerfile.hpp"
#include "config/host_config.hpp"
#include "config/issues.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "docker/registry_auth.hpp"
#include "loading.hpp"
#include "paths/analysis_time.hpp"
#include "run/execute.hpp"
#include "run/plan.hpp"
#include "run/swarm_execute.hpp"
#include "util/text.hpp"
#include "version.hpp"

namespace mlwm::app {
namespace {
namespace fs = std::filesystem;

// Each model's Containerfile, checked (config/containerfile.hpp); warnings
// printed here. A configuration without one (the original's) is noted only.
std::vector<config::ConfigIssue> check_containerfiles(
    const std::vector<config::ModelConfig>& models) {
    std::vector<config::ConfigIssue> problems;
    for (const auto& m : models) {
        const fs::path cf = m.file.parent_path() / "Containerfile";
        const auto text = util::read_file(cf);
        if (!text) {
            std::cerr << "note: " << m.file.parent_path().string()
                      << " has no Containerfile: its image " << m.docker_image
                      << " is built elsewhere (mlwm build-image needs one)\n";
            continue;
        }
        auto c = config::check_containerfile(*text, cf.string(), !m.inference_artifact.empty(),
                                             m.build_args);
        for (const auto& w : c.warnings) std::cerr << "warning: " << w.str() << "\n";
        problems.insert(problems.end(), c.problems.begin(), c.problems.end());
    }
    return problems;
}

int validate(const cli::ParsedArgs& a) {
    Loaded l = load_all(a, a.positionals.empty() ? std::nullopt : std::optional(a.positionals[0]));
    const auto containerfiles = check_containerfiles(l.models);
    l.issues.insert(l.issues.end(), containerfiles.begin(), containerfiles.end());
    for (const auto& i : l.issues) std::cerr << i.str() << "\n";
    if (!l.issues.empty()) {
        std::cerr << l.issues.size() << " problem(s) found\n";
        return kExitFailure;
    }
    std::string names;
    for (const auto& m : l.models) names += (names.empty() ? "" : ", ") + m.name;
    std::cout << "ok: host configuration "
              << (l.host.file.empty() ? "(defaults)" : l.host.file.string()) << "; "
              << l.models.size() << " model configuration(s) in "
              << l.host.configurations_dir.string() << ": " << names << "\n";
    if (const std::string w = config::runner_image_warning(l.host.runner); !w.empty())
        std::cerr << "warning: " << l.host.file.string() << ": " << w << "\n";
    if (!a.has("engine")) return kExitOk;
    // what the engine cannot give a model's containers (CDI devices, GPU counts)
    docker::DockerClient docker(a.get("docker-socket").value_or(l.host.docker_socket));
    const docker::EngineVersion e = docker.engine();
    int problems = 0;
    for (const auto& m : l.models)
        if (const std::string why = docker::engine_cannot(m.resources, e); !why.empty()) {
            std::cerr << m.file.string() << ": resources: " << why << "\n";
            ++problems;
        }
    if (problems > 0) {
        std::cerr << problems << " model(s) cannot run on the engine at " << docker.socket_path()
                  << "\n";
        return kExitFailure;
    }
    std::cout << "ok: the engine at " << docker.socket_path() << " (" << e.platform << " "
              << e.version << ", API " << e.api_version << ") can run every model\n";
    return kExitOk;
}

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s);
    return buf;
}

std::string mib(std::uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(b) / 1048576.0);
    return buf;
}

void print_table(const std::vector<run::RunReport>& reports) {
    std::printf("%-20s %-6s %-15s %9s %8s %9s %9s %9s\n", "MODEL", "MEMBER", "STATUS", "DOWNLOAD",
                "RUN", "UPLOAD", "IN MiB", "OUT MiB");
    for (const auto& r : reports)
        std::printf("%-20s %-6u %-15s %8ss %7ss %8ss %9s %9s\n", r.model.c_str(), r.member,
                    std::string(run::outcome_name(r.outcome)).c_str(),
                    seconds(r.download_seconds).c_str(), seconds(r.run_seconds).c_str(),
                    seconds(r.upload_seconds).c_str(), mib(r.bytes_in).c_str(),
                    mib(r.bytes_out).c_str());
    for (const auto& r : reports)
        if (r.outcome != run::Outcome::succeeded)
            std::printf("%s: %s\n", r.run_id.c_str(), r.message.c_str());
}

nlohmann::ordered_json report_json(const run::RunReport& r) {
    return {{"run_id", r.run_id},           {"model", r.model},
            {"member", r.member},           {"status", run::outcome_name(r.outcome)},
            {"message", r.message},         {"download_seconds", r.download_seconds},
            {"run_seconds", r.run_seconds}, {"upload_seconds", r.upload_seconds},
            {"bytes_in", r.bytes_in},       {"bytes_out", r.bytes_out},
            {"exit_code", r.exit_code},     {"logs", r.log_dir.string()}};
}

// Stops the runs' model containers on SIGTERM or SIGINT, and keeps stopping
// any that start (a create in flight) until the runs end. The signals are
// taken by a thread of its own (sigtimedwait): blocked, they also reach
// `mlwm run` as PID 1 of a container (a swarm job), which would otherwise
// ignore them.
class StopOnSignal {
public:
    StopOnSignal(std::string socket, std::vector<std::string> run_ids, std::atomic<bool>& stopping)
        : socket_(std::move(socket)), run_ids_(std::move(run_ids)), stopping_(stopping) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);  // before any other thread starts
        thread_ = std::thread([this] { watch(); });
    }
    ~StopOnSignal() {
        done_ = true;
        thread_.join();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    StopOnSignal(const StopOnSignal&) = delete;
    StopOnSignal& operator=(const StopOnSignal&) = delete;

private:
    void watch() {
        const timespec second{1, 0};
        while (!done_) {
            const int sig = sigtimedwait(&set_, nullptr, &second);
            if (sig > 0 && !stopping_) {
                stopping_ = true;
                std::cerr << "mlwm run: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                          << ": stopping the model containers (10 s grace)\n";
            }
            if (stopping_) stop_containers();
        }
    }
    void stop_containers() {
        try {
            docker::DockerClient docker(socket_);
            for (const auto& id : run_ids_)
                for (const auto& c : docker.list_containers({"org.mlwm.run-id=" + id}))
                    if (c.state == "running" || c.state == "created")
                        docker.stop_container(c.id, 10);
        } catch (const std::exception& e) {
            std::cerr << "mlwm run: stopping the model containers: " << e.what() << "\n";
        }
    }
    std::string socket_;
    std::vector<std::string> run_ids_;
    std::atomic<bool>& stopping_;
    std::atomic<bool> done_{false};
    sigset_t set_{}, old_{};
    std::thread thread_;
};

int run_models(const cli::ParsedArgs& a) {
    const paths::AnalysisTime t = paths::parse_iso8601_time(a.require("analysis-time"));
    Loaded l = load_all(a, a.get("configurations"));
    if (!l.issues.empty()) {
        for (const auto& i : l.issues) std::cerr << i.str() << "\n";
        std::cerr << "mlwm run: the configuration is not valid (" << l.issues.size()
                  << " problem(s)); see 'mlwm validate'\n";
        return kExitUsage;
    }
    // selection
    std::vector<const config::ModelConfig*> selected;
    for (const auto& name : a.all("model")) {
        auto it = std::find_if(l.models.begin(), l.models.end(),
                               [&](const auto& m) { return m.name == name; });
        if (it == l.models.end()) {
            std::string names;
            for (const auto& m : l.models) names += (names.empty() ? "" : ", ") + m.name;
            throw std::invalid_argument(
                "--model '" + name + "': no such model configuration (configured: " + names + ")");
        }
        selected.push_back(&*it);
    }
    if (selected.empty())
        for (const auto& m : l.models) selected.push_back(&m);
    std::optional<paths::Member> only_member;
    if (auto m = a.get("member")) only_member = paths::parse_member("member" + *m);
    std::vector<run::RunPlan> plans;
    for (const auto* m : selected) {
        if (only_member &&
            std::find(m->members.begin(), m->members.end(), *only_member) == m->members.end())
            throw std::invalid_argument(
                "--member " + std::to_string(*only_member) + ": model '" + m->name +
                "' does not run that member (its members are listed in " + m->file.string() + ")");
        for (paths::Member member : m->members)
            if (!only_member || member == *only_member)
                plans.push_back(run::plan_run(*m, t, member, l.host.work_dir));
    }
    // In a swarm job (runner swarm): exactly the GPUs the task reserved
    if (const char* kind = std::getenv(run::kJobGpuResourceVariable))
        if (const char* ids = std::getenv(("DOCKER_RESOURCE_" + std::string(kind)).c_str()))
            for (auto& p : plans)
                if (p.container.resources.gpus.any())
                    p.container.resources.gpus = {.device_ids = util::split(ids, ',')};
    for (auto& p : plans) p.container.resources.gpu_delivery = l.host.gpu_delivery;
    const bool json = a.has("json");
    if (a.has("dry-run")) {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const auto& p : plans) all.push_back(run::to_json(p));
        if (json) {
            std::cout << all.dump(2) << "\n";
            return kExitOk;
        }
        for (const auto& p : all) {
            std::cout << "run " << p["run_id"].get<std::string>() << "\n  image   "
                      << p["image"].get<std::string>() << "\n";
            for (const auto& in : p["inputs"])
                std::cout << "  input   " << in["name"].get<std::string>() << ": "
                          << in["location"].get<std::string>() << " -> "
                          << in["local"].get<std::string>() << " -> "
                          << in["mount"].get<std::string>() << " (read-only; complete when "
                          << in["complete_when"].get<std::string>() << " exists)\n";
            for (const auto& out : p["outputs"])
                std::cout << "  output  " << out["name"].get<std::string>() << ": "
                          << out["mount"].get<std::string>() << " -> "
                          << out["local"].get<std::string>() << " -> "
                          << out["location"].get<std::string>() << "\n";
            std::cout << "  marker  " << p["marker"].get<std::string>() << "\n";
            for (const auto& [k, v] : p["environment"].items())
                std::cout << "  env     " << k << "=" << v.get<std::string>() << "\n";
            std::cout << "  network " << p["network"].get<std::string>() << ", timeout "
                      << (p["timeout_seconds"].get<long long>()
                              ? std::to_string(p["timeout_seconds"].get<long long>()) + " s"
                              : "none")
                      << ", logs " << p["logs"].get<std::string>() << "\n";
        }
        return kExitOk;
    }

    const auto stores = run::store_factory(l.host);
    docker::DockerClient docker(a.get("docker-socket").value_or(l.host.docker_socket));
    docker.set_registry_auth(docker::registry_auth_for);  // private registries, as docker pull
    docker.ping();
    // SIGTERM or SIGINT (the swarm job stopped or cancelled, Ctrl-C): no
    // container starts any more, the model containers running are stopped
    // (10 s grace) and the reports say so
    std::atomic<bool> stopping{false};
    std::vector<std::string> run_ids;
    for (const auto& p : plans) run_ids.push_back(p.run_id);
    StopOnSignal on_signal(a.get("docker-socket").value_or(l.host.docker_socket), run_ids,
                           stopping);
    const run::ExecuteOptions opts{
        .force = a.has("force"),
        .transfer_concurrency = static_cast<std::size_t>(l.host.transfer_concurrency),
        .keep_failed_runs = l.host.keep_failed_runs,
        .mlwm_version = version::kFullVersion,
        .job = std::getenv(run::kJobNameVariable) ? std::getenv(run::kJobNameVariable) : "",
        .before_phase =
            [&](run::Phase, const std::string&) {
                if (stopping) throw std::runtime_error("stopped by a signal before it ran");
            },
        .s3_env = std::any_of(plans.begin(), plans.end(),
                              [](const run::RunPlan& p) { return p.pass_s3_credentials; })
                      ? run::s3_container_env(l.host)
                      : std::map<std::string, std::string>{}};
    std::vector<run::RunReport> reports(plans.size());
    std::atomic<std::size_t> next{0};
    std::mutex out_mutex;
    auto worker = [&] {
        for (std::size_t i; (i = next++) < plans.size();) {
            {
                std::lock_guard lock(out_mutex);
                if (!json) std::cerr << "running " << plans[i].run_id << "\n";
            }
            reports[i] = run::execute_run(plans[i], stores, docker, opts);
            std::lock_guard lock(out_mutex);
            if (!json)
                std::cerr << plans[i].run_id << ": " << run::outcome_name(reports[i].outcome)
                          << "\n";
        }
    };
    std::vector<std::thread> threads;
    const std::size_t n =
        std::min<std::size_t>(plans.size(), static_cast<std::size_t>(l.host.max_concurrent_runs));
    for (std::size_t i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& th : threads) th.join();
    if (json) {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const auto& r : reports) all.push_back(report_json(r));
        std::cout << all.dump(2) << "\n";
    } else {
        print_table(reports);
    }
    return std::all_of(reports.begin(), reports.end(), [](const auto& r) { return r.ok(); })
               ? kExitOk
               : kExitFailure;
}

}  // namespace

std::vector<Command> run_commands() {
    cli::CommandSpec validate_spec{
        .path = "validate",
        .summary = "check the host configuration and every model configuration",
        .description =
            "Loads the host configuration (--config, $MLWM_CONFIG or /etc/mlwm/mlwm.yaml) and "
            "every\n"
            "DIR/<model>/config.yaml (DIR defaults to the host's configurations_dir). Each "
            "problem\n"
            "is printed as FILE:LINE:COLUMN: KEY.PATH: what is wrong and what was expected.\n"
            "Each model's Containerfile is checked too: known instructions, FROM first, "
            "base-image\n"
            "ARGs with a value, artifact/ copied only with an inference_artifact; S3 credentials\n"
            "baked into the image are a warning. With --engine, also asks the container engine "
            "whether it can give each model\n"
            "what its resources ask (dockerd before 25 has no CDI devices; Podman cannot count\n"
            "GPUs). Exit status 0 only when everything is valid.",
        .options =
            {{"config", "PATH",
              "host configuration (default: $MLWM_CONFIG, /etc/mlwm/mlwm.yaml, or defaults)"},
             {"engine", "",
              "also ask the container engine whether it can give every model what its "
              "resources ask (CDI devices, GPU counts)"},
             {"docker-socket", "PATH", "the engine's socket (default: the host's docker.socket)"}},
        .positionals = {{"DIR", "folder of model configurations", true}},
    };
    cli::CommandSpec run_spec{
        .path = "run",
        .summary = "run the configured models once for one analysis time",
        .description =
            "For each selected model and member: checks that every input is complete (its\n"
            "completion marker exists), downloads the inputs to $WORKDIR/input/<model>/<input>,\n"
            "runs the model's container with the inputs mounted read-only and empty output\n"
            "folders ($WORKDIR/output/<model>/<output>) read-write, and, if it exits 0 with every\n"
            "output non-empty, uploads the outputs and then the run marker _mlwm_run.json beside\n"
            "them. $WORKDIR is <work_dir>/<analysis time>/member<N>. A run whose marker exists is\n"
            "reported as done and not repeated (unless --force). Exit status 0 only if every run\n"
            "succeeded or was done before.",
        .options =
            {
                {"analysis-time", "TIME", "ISO 8601, e.g. 2023-10-01T12:00Z", true},
                {"model", "NAME", "only this model", false, true},
                {"member", "N", "only this ensemble member"},
                {"dry-run", "",
                 "print the plan (locations, mounts, environment, image); touch nothing"},
                {"force", "", "run even if the outputs were published before"},
                {"json", "", "print JSON instead of the table"},
                {"config", "PATH",
                 "host configuration (default: $MLWM_CONFIG, /etc/mlwm/mlwm.yaml, or defaults)"},
                {"configurations", "DIR",
                 "model configurations (default: the host's configurations_dir)"},
                {"docker-socket", "PATH", "engine socket (default: the host configuration's)"},
            },
        .positionals = {},
        .epilog = "example:\n  mlwm run --analysis-time 2023-10-01T12:00Z --model persistence",
    };
    return {{validate_spec, validate}, {run_spec, run_models}};
}

}  // namespace mlwm::app

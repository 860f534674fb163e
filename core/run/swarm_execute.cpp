#include "run/swarm_execute.hpp"

#include <thread>

#include <nlohmann/json.hpp>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "docker/error.hpp"
#include "paths/analysis_time.hpp"
#include "util/text.hpp"

namespace mlwm::run {
namespace swarm = docker::swarm;

std::string job_host_config(const config::HostConfig& host) {
    YAML::Emitter y;
    y << YAML::BeginMap;
    y << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "type" << YAML::Value << "s3";
    const std::string endpoint =
        host.runner.node_endpoint.empty() ? host.s3.endpoint : host.runner.node_endpoint;
    if (!endpoint.empty()) y << YAML::Key << "endpoint" << YAML::Value << endpoint;
    if (!host.s3.region.empty()) y << YAML::Key << "region" << YAML::Value << host.s3.region;
    if (host.s3.virtual_hosted)
        y << YAML::Key << "virtual_hosted" << YAML::Value << *host.s3.virtual_hosted;
    y << YAML::EndMap;
    y << YAML::Key << "docker" << YAML::Value << YAML::BeginMap << YAML::Key << "socket"
      << YAML::Value << host.runner.node_socket;
    if (host.gpu_delivery == docker::GpuDelivery::nvidia_env)
        y << YAML::Key << "gpus" << YAML::Value << "nvidia-env";
    y << YAML::EndMap;
    y << YAML::Key << "work_dir" << YAML::Value << host.runner.node_work_dir.string();
    y << YAML::Key << "configurations_dir" << YAML::Value << kJobConfigurations;
    y << YAML::Key << "state_dir" << YAML::Value
      << (host.runner.node_work_dir / ".mlwm-state").string();
    y << YAML::Key << "keep_failed_runs" << YAML::Value << host.keep_failed_runs;
    y << YAML::Key << "concurrency" << YAML::Value << YAML::BeginMap << YAML::Key << "transfers"
      << YAML::Value << host.transfer_concurrency << YAML::EndMap;
    y << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
}

std::string credentials_file(const std::map<std::string, std::string>& env) {
    const auto get = [&](const char* k) {
        const auto it = env.find(k);
        return it == env.end() ? std::string() : it->second;
    };
    if (get("AWS_ACCESS_KEY_ID").empty()) return "";
    std::string s = "[default]\naws_access_key_id = " + get("AWS_ACCESS_KEY_ID") +
                    "\naws_secret_access_key = " + get("AWS_SECRET_ACCESS_KEY") + "\n";
    if (!get("AWS_SESSION_TOKEN").empty())
        s += "aws_session_token = " + get("AWS_SESSION_TOKEN") + "\n";
    return s;
}

std::vector<JobObject> job_objects(const config::HostConfig& host,
                                   const config::ModelConfig& model) {
    const std::string host_yaml = job_host_config(host);
    const auto model_yaml = util::read_file(model.file);
    if (!model_yaml) throw std::runtime_error("cannot read " + model.file.string());
    std::vector<JobObject> out{
        {"configs",
         {.name = swarm::object_name("mlwm-host", host_yaml), .target = kJobHostConfig},
         host_yaml},
        {"configs",
         {.name = swarm::object_name("mlwm-model-" + model.name, *model_yaml),
          .target = std::string(kJobConfigurations) + "/" + model.name + "/config.yaml"},
         *model_yaml}};
    if (const std::string creds = credentials_file(s3_container_env(host)); !creds.empty())
        out.push_back({"secrets",
                       {.name = swarm::object_name("mlwm-s3", creds),
                        .target = kJobCredentials,
                        .mode = 0400},
                       creds});
    return out;
}

std::string job_objects_label(const config::HostConfig& host) {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return "org.mlwm.owner=" + std::string(name) + ":" + host.state_dir.string();
}

swarm::JobSpec job_spec(const RunPlan& plan, int attempt, bool force,
                        const config::RunnerConfig& runner, std::vector<swarm::FileRef> configs,
                        std::vector<swarm::FileRef> secrets) {
    swarm::JobSpec j;
    j.name = swarm::job_name(plan.run_id, attempt);
    j.image = runner.image;
    j.args = {"run",
              "--config",
              kJobHostConfig,
              "--analysis-time",
              paths::format_iso8601(plan.analysis_time),
              "--model",
              plan.model,
              "--member",
              std::to_string(plan.member),
              "--json"};
    if (force) j.args.push_back("--force");
    // not org.mlwm.run-id / org.mlwm.managed: those mark model containers, and
    // the job's own `mlwm run` would take its container for a second copy of the run
    j.labels = {{"org.mlwm.job", "true"},
                {"org.mlwm.job.run-id", plan.run_id},
                {"org.mlwm.job.model", plan.model},
                {"org.mlwm.job.attempt", std::to_string(attempt)}};
    j.env.push_back(std::string(kJobGpuResourceVariable) + "=" + runner.gpu_kind);
    j.env.push_back(std::string(kJobNameVariable) + "=" + j.name);
    if (!secrets.empty())
        j.env.push_back(std::string("AWS_SHARED_CREDENTIALS_FILE=/run/secrets/") + kJobCredentials);
    // the node's engine and work folder, at the paths they have on the node:
    // the model container's bind mounts are resolved there
    j.mounts = {{runner.node_socket, runner.node_socket, false},
                {runner.node_work_dir.string(), runner.node_work_dir.string(), false}};
    const auto& g = plan.container.resources.gpus;
    j.gpus = g.count > 0 ? g.count : static_cast<int>(g.device_ids.size());
    j.gpu_kind = runner.gpu_kind;
    j.configs = std::move(configs);
    j.secrets = std::move(secrets);
    j.networks = {"host"};  // services cannot use `none`; the model container does
    j.constraints = runner.placement;
    return j;
}

std::optional<RunReport> parse_job_report(std::string_view log, const std::string& run_id) {
    // `mlwm run --json` prints one JSON array, its first line "[" and its last
    // "]"; the log may hold other lines (stderr) before and after it
    for (std::size_t at = log.size(); at > 0;) {
        at = log.rfind("[\n", at - 1);
        if (at == std::string_view::npos) break;
        if (at > 0 && log[at - 1] != '\n') continue;
        const std::size_t end = log.find("\n]", at);
        if (end == std::string_view::npos) continue;
        const auto j = nlohmann::json::parse(log.substr(at, end + 2 - at), nullptr, false);
        if (!j.is_array()) continue;
        for (const auto& e : j) {
            if (!e.is_object() || e.value("run_id", "") != run_id) continue;
            RunReport r;
            r.run_id = run_id;
            r.model = e.value("model", "");
            r.member = e.value("member", 0u);
            const std::string status = e.value("status", "");
            r.outcome = Outcome::failed;
            for (const Outcome o : {Outcome::succeeded, Outcome::already_done,
                                    Outcome::inputs_missing, Outcome::failed, Outcome::timed_out})
                if (status == outcome_name(o)) r.outcome = o;
            r.message = e.value("message", "");
            r.download_seconds = e.value("download_seconds", 0.0);
            r.run_seconds = e.value("run_seconds", 0.0);
            r.upload_seconds = e.value("upload_seconds", 0.0);
            r.bytes_in = e.value("bytes_in", std::uint64_t{0});
            r.bytes_out = e.value("bytes_out", std::uint64_t{0});
            r.exit_code = e.value("exit_code", std::int64_t{-1});
            return r;
        }
    }
    return std::nullopt;
}

namespace {

std::string last_lines(std::string_view text, int n) {
    std::size_t at = text.size();
    while (n-- > 0 && at > 0) {
        const auto nl = text.rfind('\n', at - 1);
        at = nl == std::string_view::npos ? 0 : nl;
    }
    return std::string(text.substr(at == 0 ? 0 : at + 1));
}

// Submits the attempt's job unless it exists; "" when submitted, else why
// it cannot run on this cluster.
std::string submit(const RunPlan& plan, const config::ModelConfig& model, int attempt, bool force,
                   docker::DockerClient& manager, const config::HostConfig& host) {
    const auto& runner = host.runner;
    const swarm::JobSpec probe = job_spec(plan, attempt, force, runner, {}, {});
    if (manager.inspect_service(probe.name)) return "";  // submitted before (a restart)
    if (plan.container.resources.gpus.all)
        return "resources.gpus: all cannot be counted on a cluster: give a number";
    if (probe.gpus > 0) {
        int largest = 0;
        for (const auto& [node, n] :
             swarm::generic_resources(manager.list_nodes(), runner.gpu_kind))
            largest = std::max(largest, n);
        if (largest < probe.gpus)
            return "it needs " + std::to_string(probe.gpus) + " GPUs (" + runner.gpu_kind +
                   ") and the largest ready node of the swarm has " + std::to_string(largest);
    }
    const std::string owner = job_objects_label(host);
    const std::map<std::string, std::string> labels{
        {"org.mlwm.job", "true"},
        {owner.substr(0, owner.find('=')), owner.substr(owner.find('=') + 1)}};
    std::vector<swarm::FileRef> configs, secrets;
    for (auto& o : job_objects(host, model)) {
        o.file.id = manager.ensure_swarm_object(o.kind, o.file.name, o.data, labels);
        (o.kind == "configs" ? configs : secrets).push_back(std::move(o.file));
    }
    manager.create_service(swarm::service_create_body(
        job_spec(plan, attempt, force, runner, std::move(configs), std::move(secrets))));
    return "";
}

// Calls `f` until it returns, through a manager that does not answer (or
// answers 5xx) until `deadline`: a job keeps running on the cluster meanwhile,
// and giving up would start a second attempt beside it.
template <typename F>
auto through_outages(std::chrono::steady_clock::time_point deadline, F f) {
    for (auto pause = std::chrono::seconds(1);;
         pause = std::min(pause * 2, std::chrono::seconds(30))) {
        try {
            return f();
        } catch (const docker::EngineUnreachable&) {
            if (std::chrono::steady_clock::now() + pause > deadline) throw;
        } catch (const docker::DockerError& e) {
            if ((e.status() != 0 && e.status() < 500) ||
                std::chrono::steady_clock::now() + pause > deadline)
                throw;
        }
        std::this_thread::sleep_for(pause);
    }
}

// Why the job's node counts as lost (away longer than runner.node_grace), or nullopt.
std::optional<std::string> node_lost(docker::DockerClient& manager, const std::string& node_id,
                                     swarm::NodeWatch& watch, const config::RunnerConfig& runner) {
    if (node_id.empty()) return std::nullopt;
    std::optional<swarm::NodeState> node;
    try {
        const auto nodes = swarm::node_states(manager.list_nodes());
        const auto it = nodes.find(node_id);
        if (it == nodes.end() && nodes.empty()) return std::nullopt;  // an odd answer
        if (it != nodes.end()) node = it->second;
    } catch (const std::exception&) {
        return std::nullopt;  // the manager does not answer: nothing is known about the node
    }
    const auto away = watch.observe(node_id, node, std::chrono::steady_clock::now());
    if (away < runner.node_grace) return std::nullopt;
    const std::string what = node ? (node->hostname.empty() ? "" : node->hostname + " ") + "(" +
                                        node_id.substr(0, 12) + ") is " + node->state +
                                        (node->message.empty() ? "" : " (" + node->message + ")")
                                  : node_id.substr(0, 12) + " left the swarm";
    return "its node " + what + " since " + std::to_string(away.count()) +
           " s, longer than runner.node_grace (" + std::to_string(runner.node_grace.count()) +
           " s): given up, so that the run's next attempt can go to another node";
}

}  // namespace

RunReport execute_on_swarm(const RunPlan& plan, const config::ModelConfig& model, int attempt,
                           docker::DockerClient& manager, const config::HostConfig& host,
                           const ExecuteOptions& options) {
    RunReport r;
    r.run_id = plan.run_id;
    r.model = plan.model;
    r.member = plan.member;
    r.log_dir = plan.log_dir;
    const std::string name = swarm::job_name(plan.run_id, attempt);
    const auto phase = [&](Phase p, const std::string& job) {
        if (options.before_phase) options.before_phase(p, job);
    };
    try {
        // write-ahead: the job stages on its node; what the ledger must know
        // before the submission is that one may exist (launching)
        if (!options.resume) {
            phase(Phase::staging, "");
            phase(Phase::launching, "");
        }
        // the job enforces the model's own limits; this is the backstop for a lost job
        const auto backstop = std::chrono::steady_clock::now() + plan.timeout +
                              plan.staging_timeout + plan.publishing_timeout +
                              std::chrono::minutes(10);
        // (a lost answer to the create is harmless: the retry's create answers 409)
        if (const std::string why = through_outages(
                backstop,
                [&] { return submit(plan, model, attempt, options.force, manager, host); });
            !why.empty()) {
            r.message = "cannot run on the swarm: " + why;
            return r;
        }
        r.container_id = name;  // from here on, the job is the caller's to remove
        phase(Phase::running, name);
        swarm::JobStatus st;
        swarm::NodeWatch watch;
        const auto waiting_since = std::chrono::steady_clock::now();
        auto next_node_check = std::chrono::steady_clock::now();
        for (;;) {
            const auto tasks =
                through_outages(backstop, [&] { return manager.list_tasks({name}); });
            st = swarm::job_status(tasks);
            if (st.phase == swarm::JobPhase::succeeded || st.phase == swarm::JobPhase::failed)
                break;
            if (tasks.empty() && !through_outages(backstop, [&] {
                    return manager.inspect_service(name).has_value();
                })) {
                r.message = "the swarm job " + name + " was removed (mlwm cancel, or an operator)";
                return r;
            }
            if (st.phase == swarm::JobPhase::running &&
                std::chrono::steady_clock::now() >= next_node_check) {
                next_node_check = std::chrono::steady_clock::now() + std::chrono::seconds(2);
                if (const auto lost = node_lost(manager, st.node_id, watch, host.runner)) {
                    // stopped where it is once its node returns; removed after
                    manager.release_service(name);
                    r.retry_at_once = true;
                    r.message = "the swarm job " + name + " was given up: " + *lost;
                    return r;
                }
            }
            if (std::chrono::steady_clock::now() > backstop) {
                manager.stop_service(name);
                r.outcome = Outcome::timed_out;
                r.message = "the swarm job " + name + " did not end in time (" + st.message + ")";
                return r;
            }
            // each waiting job costs the manager a task listing per pause: every
            // second for the first minute (short jobs end promptly), then every 5 s
            std::this_thread::sleep_for(std::chrono::steady_clock::now() - waiting_since <
                                                std::chrono::minutes(1)
                                            ? std::chrono::seconds(1)
                                            : std::chrono::seconds(5));
        }
        const std::string log = through_outages(backstop + std::chrono::minutes(10),
                                                [&] { return manager.service_logs(name); });
        if (auto parsed = parse_job_report(log, plan.run_id)) {
            parsed->log_dir = plan.log_dir;
            parsed->container_id = name;
            return *parsed;
        }
        r.exit_code = st.exit_code.value_or(-1);
        r.message = "the swarm job " + name + " ended without a report (" +
                    (st.message.empty() ? "exit code " + std::to_string(r.exit_code) : st.message) +
                    "); its log ends: " + last_lines(log, 3);
    } catch (const std::exception& e) {
        r.outcome = Outcome::failed;
        r.message = e.what();
    }
    return r;
}

}  // namespace mlwm::run

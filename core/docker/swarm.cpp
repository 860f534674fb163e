#include "docker/swarm.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "util/hash.hpp"

namespace mlwm::docker::swarm {

nlohmann::json service_create_body(const JobSpec& s) {
    nlohmann::json mounts = nlohmann::json::array();
    for (const auto& m : s.mounts)
        mounts.push_back({{"Type", "bind"},
                          {"Source", m.source},
                          {"Target", m.target},
                          {"ReadOnly", m.read_only}});
    const auto files = [](const std::vector<FileRef>& refs, const char* id_key,
                          const char* name_key) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& f : refs)
            out.push_back(
                {{"File", {{"Name", f.target}, {"UID", "0"}, {"GID", "0"}, {"Mode", f.mode}}},
                 {id_key, f.id},
                 {name_key, f.name}});
        return out;
    };
    nlohmann::json container = {{"Image", s.image},
                                {"Args", s.args},
                                {"Env", s.env},
                                {"Labels", s.labels},
                                {"Mounts", mounts},
                                {"Configs", files(s.configs, "ConfigID", "ConfigName")},
                                {"Secrets", files(s.secrets, "SecretID", "SecretName")},
                                // time for `mlwm run` to stop its model container (10 s)
                                {"StopGracePeriod", std::int64_t{30} * 1000 * 1000 * 1000}};
    nlohmann::json reservations = nlohmann::json::object();
    nlohmann::json limits = nlohmann::json::object();
    if (s.gpus > 0)
        reservations["GenericResources"] = nlohmann::json::array(
            {{{"DiscreteResourceSpec", {{"Kind", s.gpu_kind}, {"Value", s.gpus}}}}});
    if (s.memory_bytes > 0) {
        reservations["MemoryBytes"] = s.memory_bytes;
        limits["MemoryBytes"] = s.memory_bytes;
    }
    if (s.cpus > 0) reservations["NanoCPUs"] = std::llround(s.cpus * 1e9);
    nlohmann::json task = {{"ContainerSpec", container},
                           {"Resources", {{"Reservations", reservations}, {"Limits", limits}}},
                           {"RestartPolicy", {{"Condition", "none"}, {"MaxAttempts", 0}}},
                           {"Placement", {{"Constraints", s.constraints}}}};
    if (!s.networks.empty()) {
        task["Networks"] = nlohmann::json::array();
        for (const auto& n : s.networks) task["Networks"].push_back({{"Target", n}});
    }
    return {{"Name", s.name},
            {"Labels", s.labels},
            {"TaskTemplate", task},
            {"Mode", {{"ReplicatedJob", {{"MaxConcurrent", 1}, {"TotalCompletions", 1}}}}}};
}

std::string job_name(std::string_view run_id, int attempt) {
    std::string readable;
    for (const char c : run_id) {
        const auto u = static_cast<unsigned char>(c);
        readable += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
    }
    const std::string digest = util::sha256_hex(run_id).substr(0, 10);
    const std::string tail = "-" + digest + "-a" + std::to_string(attempt);
    const std::size_t room = 63 - 5 - tail.size();  // "mlwm-" + readable + tail
    if (readable.size() > room) readable.resize(room);
    while (!readable.empty() && readable.back() == '-') readable.pop_back();
    return "mlwm-" + readable + tail;
}

std::string object_name(std::string_view prefix, std::string_view data) {
    return std::string(prefix) + "-" + util::sha256_hex(data).substr(0, 16);
}

std::vector<Task> parse_tasks(const nlohmann::json& tasks) {
    std::vector<Task> out;
    std::vector<std::string> created;
    if (!tasks.is_array()) return out;
    for (const auto& t : tasks) {
        if (!t.is_object()) continue;
        Task x;
        x.id = t.value("ID", "");
        x.service_id = t.value("ServiceID", "");
        x.node_id = t.value("NodeID", "");
        x.desired_state = t.value("DesiredState", "");
        if (const auto st = t.find("Status"); st != t.end() && st->is_object()) {
            x.state = st->value("State", "");
            x.message = st->value("Message", "");
            x.error = st->value("Err", "");
            if (const auto cs = st->find("ContainerStatus"); cs != st->end() && cs->is_object()) {
                x.container_id = cs->value("ContainerID", "");
                if (const auto ec = cs->find("ExitCode");
                    ec != cs->end() && ec->is_number_integer())
                    x.exit_code = ec->get<int>();
            }
        }
        out.push_back(std::move(x));
        created.push_back(t.value("CreatedAt", ""));
    }
    // newest first (RFC 3339 times of one engine compare as text)
    std::vector<std::size_t> order(out.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::ranges::stable_sort(order, [&](auto a, auto b) { return created[a] > created[b]; });
    std::vector<Task> sorted;
    for (auto i : order) sorted.push_back(std::move(out[i]));
    return sorted;
}

JobStatus job_status(const std::vector<Task>& tasks) {
    JobStatus s;
    if (tasks.empty()) return s;
    const Task& t = tasks.front();
    s.node_id = t.node_id;
    s.exit_code = t.exit_code;
    s.message = t.error.empty() ? t.message : t.error;
    // (assigned: given to a node, which may start it any moment)
    static const std::vector<std::string> waiting{"new", "allocated", "pending"};
    static const std::vector<std::string> active{"assigned", "accepted", "preparing",
                                                 "ready",    "starting", "running"};
    if (t.state == "complete")
        s.phase = JobPhase::succeeded;
    else if (std::ranges::find(waiting, t.state) != waiting.end())
        s.phase = JobPhase::pending;
    else if (std::ranges::find(active, t.state) != active.end())
        s.phase = JobPhase::running;
    else  // failed, rejected, shutdown, orphaned, remove
        s.phase = JobPhase::failed;
    return s;
}

std::map<std::string, int> generic_resources(const nlohmann::json& nodes, std::string_view kind) {
    std::map<std::string, int> out;
    if (!nodes.is_array()) return out;
    for (const auto& n : nodes) {
        if (!n.is_object()) continue;
        const auto status = n.value("Status", nlohmann::json::object());
        const auto spec = n.value("Spec", nlohmann::json::object());
        if (status.value("State", "") != "ready" || spec.value("Availability", "") != "active")
            continue;
        int count = 0;
        const auto desc = n.value("Description", nlohmann::json::object());
        const auto res = desc.value("Resources", nlohmann::json::object());
        for (const auto& g : res.value("GenericResources", nlohmann::json::array())) {
            if (const auto named = g.find("NamedResourceSpec"); named != g.end())
                count += named->value("Kind", "") == kind ? 1 : 0;
            if (const auto discrete = g.find("DiscreteResourceSpec"); discrete != g.end())
                count += discrete->value("Kind", "") == kind ? discrete->value("Value", 0) : 0;
        }
        out[n.value("ID", "")] = count;
    }
    return out;
}

std::optional<std::string> pinned_image(std::string_view ref, const nlohmann::json& inspect) {
    if (ref.find('@') != std::string_view::npos || !inspect.is_object()) return std::nullopt;
    // NAME without its tag (a ':' after the last '/': a registry's port is before it)
    const auto slash = ref.rfind('/');
    const auto colon = ref.rfind(':');
    const std::string_view name =
        colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)
            ? ref.substr(0, colon)
            : ref;
    for (const auto& d : inspect.value("RepoDigests", nlohmann::json::array()))
        if (d.is_string() && d.get<std::string>().starts_with(std::string(name) + "@sha256:"))
            return d.get<std::string>();
    return std::nullopt;
}

std::vector<JobRef> parse_jobs(const nlohmann::json& services) {
    std::vector<JobRef> out;
    if (!services.is_array()) return out;
    for (const auto& svc : services) {
        if (!svc.is_object()) continue;
        const auto spec = svc.value("Spec", nlohmann::json::object());
        const auto labels = spec.value("Labels", nlohmann::json::object());
        if (!labels.is_object() || labels.value("org.mlwm.job", "") != "true") continue;
        JobRef j{.name = spec.value("Name", ""), .run_id = labels.value("org.mlwm.job.run-id", "")};
        try {
            j.attempt = std::stoi(labels.value("org.mlwm.job.attempt", "0"));
        } catch (const std::exception&) {
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::map<std::string, NodeState> node_states(const nlohmann::json& nodes) {
    std::map<std::string, NodeState> out;
    if (!nodes.is_array()) return out;
    for (const auto& n : nodes) {
        if (!n.is_object()) continue;
        const auto status = n.value("Status", nlohmann::json::object());
        const auto desc = n.value("Description", nlohmann::json::object());
        out[n.value("ID", "")] = {.hostname = desc.value("Hostname", ""),
                                  .state = status.value("State", "unknown"),
                                  .message = status.value("Message", "")};
    }
    return out;
}

std::chrono::seconds NodeWatch::observe(const std::string& node_id,
                                        const std::optional<NodeState>& node,
                                        std::chrono::steady_clock::time_point now) {
    if (node_id != node_id_) {  // a new task, on another node
        node_id_ = node_id;
        away_since_.reset();
    }
    // (unknown: not heard from since a manager took over -- every node is,
    // for seconds; one that stays silent is marked down)
    if (node && (node->state == "ready" || node->state == "unknown")) {
        away_since_.reset();
        return std::chrono::seconds(0);
    }
    if (!away_since_) away_since_ = now;
    return std::chrono::duration_cast<std::chrono::seconds>(now - *away_since_);
}

}  // namespace mlwm::docker::swarm

#include "docker/container_spec.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

namespace mlwm::docker {
namespace {

std::map<std::string, std::string> string_map(const nlohmann::json& j) {
    std::map<std::string, std::string> out;
    if (!j.is_object()) return out;
    for (const auto& [k, v] : j.items())
        if (v.is_string()) out[k] = v.get<std::string>();
    return out;
}

std::string str(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void validate(const ContainerSpec& spec) {
    if (spec.image.empty()) throw std::invalid_argument("container: no image given");
    std::set<std::string> targets;
    for (const auto& m : spec.mounts) {
        if (m.source.empty() || m.source.front() != '/')
            throw std::invalid_argument("mount source '" + m.source + "' must be an absolute path");
        if (m.target.empty() || m.target.front() != '/')
            throw std::invalid_argument("mount target '" + m.target + "' must be an absolute path");
        if (!targets.insert(m.target).second)
            throw std::invalid_argument("two mounts on one path in the container: " + m.target);
    }
    for (const auto& [k, v] : spec.env)
        if (k.empty() || k.find('=') != std::string::npos)
            throw std::invalid_argument("environment variable name '" + k +
                                        "' is empty or contains '='");
    if (spec.resources.cpus && !(*spec.resources.cpus > 0))
        throw std::invalid_argument("cpus must be positive");
}

nlohmann::json create_body(const ContainerSpec& spec) {
    validate(spec);
    nlohmann::json body;
    body["Image"] = spec.image;
    if (!spec.command.empty()) body["Cmd"] = spec.command;
    if (!spec.entrypoint.empty()) body["Entrypoint"] = spec.entrypoint;
    nlohmann::json env = nlohmann::json::array();
    for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
    body["Env"] = env;
    body["Labels"] = spec.labels;
    if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
    if (!spec.user.empty()) body["User"] = spec.user;
    body["AttachStdin"] = false;
    body["AttachStdout"] = false;
    body["AttachStderr"] = false;
    body["Tty"] = false;
    body["OpenStdin"] = false;

    nlohmann::json host;
    nlohmann::json mounts = nlohmann::json::array();
    for (const auto& m : spec.mounts)
        mounts.push_back({{"Type", "bind"},
                          {"Source", m.source},
                          {"Target", m.target},
                          {"ReadOnly", m.read_only}});
    host["Mounts"] = mounts;
    host["NetworkMode"] = spec.network_mode;
    host["AutoRemove"] = false;
    host["ReadonlyRootfs"] = spec.read_only_rootfs;
    if (spec.init) host["Init"] = true;
    const Resources& r = spec.resources;
    if (r.memory_bytes) host["Memory"] = *r.memory_bytes;
    if (r.cpus) host["NanoCpus"] = static_cast<std::int64_t>(std::llround(*r.cpus * 1e9));
    if (r.pids_limit) host["PidsLimit"] = *r.pids_limit;
    if (r.shm_size_bytes) host["ShmSize"] = *r.shm_size_bytes;
    if (r.gpus.any()) {
        nlohmann::json req{
            {"Driver", ""}, {"Capabilities", {{"gpu"}}}, {"Options", nlohmann::json::object()}};
        if (r.gpus.all) {
            req["Count"] = -1;
        } else if (!r.gpus.device_ids.empty()) {
            req["Count"] = 0;
            req["DeviceIDs"] = r.gpus.device_ids;
        } else {
            req["Count"] = r.gpus.count;
        }
        host["DeviceRequests"] = nlohmann::json::array({req});
    }
    body["HostConfig"] = host;
    return body;
}

ContainerState parse_inspect(const nlohmann::json& j) {
    ContainerState s;
    s.id = str(j, "Id");
    s.name = str(j, "Name");
    if (!s.name.empty() && s.name.front() == '/') s.name.erase(0, 1);
    s.image_id = str(j, "Image");
    if (auto it = j.find("State"); it != j.end() && it->is_object()) {
        const auto& st = *it;
        s.status = str(st, "Status");
        s.running = st.value("Running", false);
        s.oom_killed = st.value("OOMKilled", false);
        s.exit_code = st.value("ExitCode", 0);
        s.error = str(st, "Error");
        s.started_at = str(st, "StartedAt");
        s.finished_at = str(st, "FinishedAt");
    }
    if (auto it = j.find("Config"); it != j.end() && it->is_object())
        s.labels = string_map(it->value("Labels", nlohmann::json::object()));
    return s;
}

std::vector<ContainerSummary> parse_container_list(const nlohmann::json& list) {
    std::vector<ContainerSummary> out;
    if (!list.is_array()) return out;
    for (const auto& c : list) {
        ContainerSummary s;
        s.id = str(c, "Id");
        if (auto it = c.find("Names"); it != c.end() && it->is_array())
            for (const auto& n : *it) {
                std::string name = n.is_string() ? n.get<std::string>() : "";
                if (!name.empty() && name.front() == '/') name.erase(0, 1);
                s.names.push_back(name);
            }
        s.image = str(c, "Image");
        s.state = str(c, "State");
        s.labels = string_map(c.value("Labels", nlohmann::json::object()));
        out.push_back(std::move(s));
    }
    return out;
}

std::string label_filter(const std::vector<std::string>& labels) {
    return nlohmann::json{{"label", labels}}.dump();
}

}  // namespace mlwm::docker

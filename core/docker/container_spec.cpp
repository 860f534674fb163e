#include "docker/container_spec.hpp"

#include <cctype>
#include <cmath>
#include <set>
#include <stdexcept>

#include "util/text.hpp"

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
    const GpuRequest& g = spec.resources.gpus;
    const bool gpus_by_env = spec.resources.gpu_delivery == GpuDelivery::nvidia_env && g.any();
    if (gpus_by_env) {
        if (g.count > 0)
            throw std::invalid_argument(
                "resources.gpus: a count cannot be given as NVIDIA_VISIBLE_DEVICES (docker.gpus: "
                "nvidia-env): list the GPU ids, or give the host a gpus: list to assign from");
        env.push_back("NVIDIA_VISIBLE_DEVICES=" + (g.all ? "all" : util::join(g.device_ids, ",")));
    }
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
    nlohmann::json devices = nlohmann::json::array();
    std::vector<std::string> cdi;
    for (const auto& d : r.devices) {
        if (d.cdi)
            cdi.push_back(d.host);
        else
            devices.push_back({{"PathOnHost", d.host},
                               {"PathInContainer", d.container},
                               {"CgroupPermissions", d.permissions}});
    }
    if (!devices.empty()) host["Devices"] = devices;
    if (!cdi.empty()) host["DeviceRequests"].push_back({{"Driver", "cdi"}, {"DeviceIDs", cdi}});
    if (r.gpus.any() && !gpus_by_env) {
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
        host["DeviceRequests"].push_back(req);
    }
    body["HostConfig"] = host;
    return body;
}

bool is_cdi_name(std::string_view text) {
    const auto slash = text.find('/');
    const auto eq = text.find('=');
    if (slash == std::string_view::npos || eq == std::string_view::npos || slash == 0 ||
        eq < slash + 2 || eq + 1 == text.size())
        return false;
    const std::string_view vendor = text.substr(0, slash),
                           cls = text.substr(slash + 1, eq - slash - 1), name = text.substr(eq + 1);
    auto only = [](std::string_view v, std::string_view extra) {
        for (const char c : v)
            if (!std::isalnum(static_cast<unsigned char>(c)) &&
                extra.find(c) == std::string_view::npos)
                return false;
        return std::isalnum(static_cast<unsigned char>(v.front())) &&
               std::isalnum(static_cast<unsigned char>(v.back()));
    };
    return only(vendor, "._-") && only(cls, "_-") && only(name, "._:-");
}

Device parse_device(std::string_view text) {
    const std::string t(text);
    auto bad = [&](const std::string& why) {
        return std::invalid_argument(
            "device '" + t + "': " + why +
            " (expected /dev/HOST[:/CONTAINER[:PERMISSIONS]] with PERMISSIONS of r, w, m, or a "
            "CDI name such as nvidia.com/gpu=all)");
    };
    if (is_cdi_name(text)) return {.host = t, .container = "", .permissions = "", .cdi = true};
    if (text.find('=') != std::string_view::npos) throw bad("not a CDI name VENDOR/CLASS=NAME");
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const auto colon = t.find(':', start);
        parts.push_back(t.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    auto is_permissions = [](const std::string& p) {
        return !p.empty() && p.size() <= 3 && p.find_first_not_of("rwm") == std::string::npos;
    };
    Device d{.host = parts[0], .container = parts[0], .permissions = "rwm"};
    if (parts.size() > 3) throw bad("too many ':'");
    if (parts.size() == 2 && is_permissions(parts[1])) {
        d.permissions = parts[1];
    } else if (parts.size() >= 2) {
        d.container = parts[1];
        if (parts.size() == 3) {
            if (!is_permissions(parts[2])) throw bad("permissions '" + parts[2] + "'");
            d.permissions = parts[2];
        }
    }
    if (d.host.empty() || d.host.front() != '/')
        throw bad("the host device must be an absolute path");
    if (d.container.empty() || d.container.front() != '/')
        throw bad("the path in the container must be absolute");
    return d;
}

nlohmann::json libpod_create_body(const ContainerSpec& spec) {
    validate(spec);
    nlohmann::json b;
    if (!spec.name.empty()) b["name"] = spec.name;
    b["image"] = spec.image;
    if (!spec.command.empty()) b["command"] = spec.command;
    if (!spec.entrypoint.empty()) b["entrypoint"] = spec.entrypoint;
    b["env"] = spec.env;
    b["labels"] = spec.labels;
    if (!spec.working_dir.empty()) b["work_dir"] = spec.working_dir;
    if (!spec.user.empty()) b["user"] = spec.user;
    nlohmann::json mounts = nlohmann::json::array();
    for (const auto& m : spec.mounts)
        mounts.push_back({{"type", "bind"},
                          {"source", m.source},
                          {"destination", m.target},
                          {"options", {"rbind", m.read_only ? "ro" : "rw"}}});
    b["mounts"] = mounts;
    const std::string& net = spec.network_mode;
    if (net == "none" || net == "host" || net == "bridge" || net == "default") {
        b["netns"] = {{"nsmode", net == "default" ? "bridge" : net}};
    } else {  // a named network
        b["netns"] = {{"nsmode", "bridge"}};
        b["networks"] = {{net, nlohmann::json::object()}};
    }
    b["read_only_filesystem"] = spec.read_only_rootfs;
    if (spec.init) b["init"] = true;
    const Resources& r = spec.resources;
    nlohmann::json limits = nlohmann::json::object();
    if (r.memory_bytes) limits["memory"] = {{"limit", *r.memory_bytes}};
    if (r.cpus)
        limits["cpu"] = {{"quota", static_cast<std::int64_t>(std::llround(*r.cpus * 100000))},
                         {"period", 100000}};
    if (r.pids_limit) limits["pids"] = {{"limit", *r.pids_limit}};
    if (!limits.empty()) b["resource_limits"] = limits;
    if (r.shm_size_bytes) b["shm_size"] = *r.shm_size_bytes;
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : r.devices)
        devices.push_back(
            {{"path", d.cdi ? d.host : d.host + ":" + d.container + ":" + d.permissions}});
    if (r.gpus.count > 0)  // engine_cannot says so first
        throw std::invalid_argument("a GPU count has no CDI name");
    if (r.gpus.all) devices.push_back({{"path", "nvidia.com/gpu=all"}});
    for (const auto& id : r.gpus.device_ids) devices.push_back({{"path", "nvidia.com/gpu=" + id}});
    if (!devices.empty()) b["devices"] = devices;
    return b;
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

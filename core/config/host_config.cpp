#include "config/host_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/yaml_reader.hpp"

namespace mlwm::config {
namespace fs = std::filesystem;

HostConfig parse_host_config(const std::string& file, const std::string& text) {
    Reader r(file);
    const YAML::Node root = r.parse(text);
    HostConfig c;
    c.file = file;
    const fs::path base = fs::path(file).parent_path();
    auto dir = [&](const YAML::Node& parent, const char* key, const std::string& path,
                   fs::path& out) {
        if (auto v = r.string(parent, key, path, false)) {
            if (v->empty())
                r.issue(parent[key], path.empty() ? key : path + "." + key,
                        "expected a folder path");
            out = fs::path(*v).is_absolute() ? fs::path(*v) : base / *v;
        }
    };
    if (root.IsNull() || !root.IsDefined()) {  // an empty file: all defaults
        r.throw_if_any();
        return c;
    }
    if (!r.map(root, "",
               {"storage", "docker", "work_dir", "configurations_dir", "state_dir", "http", "log",
                "concurrency", "keep_failed_runs", "daemon", "gpus", "runner"}))
        r.throw_if_any();
    const YAML::Node st = root["storage"];
    if (r.map(st, "storage", {"type", "endpoint", "region", "profile", "virtual_hosted", "root"},
              false)) {
        if (auto t = r.string(st, "type", "storage", false)) {
            if (*t != "s3" && *t != "file")
                r.issue(st["type"], "storage.type", "'" + *t + "' is not s3 or file");
            c.storage_type = *t;
        }
        if (auto e = r.string(st, "endpoint", "storage", false)) {
            if (!e->starts_with("http://") && !e->starts_with("https://"))
                r.issue(st["endpoint"], "storage.endpoint",
                        "'" + *e + "': expected http://HOST[:PORT] or https://HOST[:PORT]");
            c.s3.endpoint = *e;
        }
        if (auto v = r.string(st, "region", "storage", false)) c.s3.region = *v;
        if (auto v = r.string(st, "profile", "storage", false)) c.s3.profile = *v;
        if (auto v = r.boolean(st, "virtual_hosted", "storage")) c.s3.virtual_hosted = *v;
        dir(st, "root", "storage", c.file_root);
        if (c.storage_type == "file" && c.file_root.empty())
            r.issue(st, "storage.root",
                    "missing: a file store needs the folder that holds one folder per bucket");
    }
    const YAML::Node dk = root["docker"];
    if (r.map(dk, "docker", {"socket", "gpus"}, false)) {
        if (auto g = r.string(dk, "gpus", "docker", false)) {
            if (*g != "requests" && *g != "nvidia-env")
                r.issue(dk["gpus"], "docker.gpus",
                        "'" + *g +
                            "' is not requests (DeviceRequests, as docker run --gpus) or "
                            "nvidia-env (NVIDIA_VISIBLE_DEVICES, for an nvidia default runtime)");
            c.gpu_delivery = *g == "nvidia-env" ? docker::GpuDelivery::nvidia_env
                                                : docker::GpuDelivery::requests;
        }
        if (auto s = r.string(dk, "socket", "docker", false)) {
            std::string sock = s->starts_with("unix://") ? s->substr(7) : *s;
            if (sock.empty() || sock.front() != '/')
                r.issue(dk["socket"], "docker.socket",
                        "'" + *s + "': expected an absolute socket path or unix:///PATH");
            c.docker_socket = sock;
        }
    }
    dir(root, "work_dir", "", c.work_dir);
    dir(root, "configurations_dir", "", c.configurations_dir);
    dir(root, "state_dir", "", c.state_dir);
    const YAML::Node http = root["http"];
    if (r.map(http, "http", {"listen"}, false))
        if (auto l = r.string(http, "listen", "http", false)) {
            const auto colon = l->rfind(':');
            if (colon == std::string::npos || colon + 1 >= l->size())
                r.issue(http["listen"], "http.listen",
                        "'" + *l + "': expected HOST:PORT, e.g. 127.0.0.1:9187");
            c.http_listen = *l;
        }
    const YAML::Node log = root["log"];
    if (r.map(log, "log", {"format"}, false))
        if (auto f = r.string(log, "format", "log", false)) {
            if (*f != "json" && *f != "text")
                r.issue(log["format"], "log.format", "'" + *f + "' is not json or text");
            c.log_format = *f;
        }
    const YAML::Node cc = root["concurrency"];
    if (r.map(cc, "concurrency", {"runs", "transfers"}, false)) {
        if (auto v = r.integer(cc, "runs", "concurrency", 1, 1024))
            c.max_concurrent_runs = static_cast<int>(*v);
        if (auto v = r.integer(cc, "transfers", "concurrency", 1, 256))
            c.transfer_concurrency = static_cast<int>(*v);
    }
    if (auto v = r.integer(root, "keep_failed_runs", "", 0, 100000))
        c.keep_failed_runs = static_cast<int>(*v);
    c.gpus = r.string_list(root, "gpus", "");
    for (std::size_t i = 0; i < c.gpus.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (c.gpus[i] == c.gpus[j])
                r.issue(root["gpus"][i], "gpus", "GPU '" + c.gpus[i] + "' listed twice");
    const YAML::Node dm = root["daemon"];
    if (r.map(dm, "daemon", {"poll_interval", "lookback"}, false)) {
        if (auto d = r.duration(dm, "poll_interval", "daemon")) {
            if (d->count() < 1)
                r.issue(dm["poll_interval"], "daemon.poll_interval", "must be at least 1 second");
            c.poll_interval = *d;
        }
        if (auto d = r.duration(dm, "lookback", "daemon")) c.lookback = *d;
    }
    const YAML::Node rn = root["runner"];
    if (r.map(rn, "runner",
              {"type", "manager", "image", "node_socket", "node_work_dir", "node_endpoint",
               "gpu_kind", "placement", "node_grace"},
              false)) {
        RunnerConfig& x = c.runner;
        if (auto t = r.string(rn, "type", "runner", false)) {
            if (*t != "local" && *t != "swarm")
                r.issue(rn["type"], "runner.type", "'" + *t + "' is not local or swarm");
            x.type = *t;
        }
        const auto socket = [&](const char* key, std::string& to) {
            if (auto v = r.string(rn, key, "runner", false)) {
                to = v->starts_with("unix://") ? v->substr(7) : *v;
                if (to.empty() || to.front() != '/')
                    r.issue(rn[key], std::string("runner.") + key,
                            "'" + *v + "': expected an absolute socket path or unix:///PATH");
            }
        };
        socket("manager", x.manager);
        socket("node_socket", x.node_socket);
        if (auto v = r.string(rn, "image", "runner", false)) x.image = *v;
        if (auto v = r.string(rn, "node_work_dir", "runner", false)) {
            if (v->empty() || v->front() != '/')
                r.issue(rn["node_work_dir"], "runner.node_work_dir",
                        "'" + *v + "': expected an absolute path (on the nodes)");
            x.node_work_dir = *v;
        }
        if (auto v = r.string(rn, "node_endpoint", "runner", false)) {
            if (!v->starts_with("http://") && !v->starts_with("https://"))
                r.issue(rn["node_endpoint"], "runner.node_endpoint",
                        "'" + *v + "': expected http://HOST[:PORT] or https://HOST[:PORT]");
            x.node_endpoint = *v;
        }
        if (auto v = r.string(rn, "gpu_kind", "runner", false)) x.gpu_kind = *v;
        x.placement = r.string_list(rn, "placement", "runner");
        if (auto d = r.duration(rn, "node_grace", "runner")) {
            if (d->count() < 1)
                r.issue(rn["node_grace"], "runner.node_grace", "must be at least 1 second");
            x.node_grace = *d;
        }
        if (x.swarm() && x.manager.empty())
            r.issue(rn, "runner.manager", "missing: a swarm runner needs a manager's socket");
        if (x.swarm() && x.image.empty())
            r.issue(
                rn, "runner.image",
                "missing: a swarm runner needs the mlwm image (mlwm/mlwm:<version>) its jobs run");
        if (x.swarm() && c.storage_type != "s3")
            r.issue(rn, "runner.type", "swarm needs S3 storage: the nodes reach the data there");
    }
    r.throw_if_any();
    return c;
}

std::string runner_image_warning(const RunnerConfig& runner) {
    if (!runner.swarm() || runner.image.empty() ||
        runner.image.find("@sha256:") != std::string::npos)
        return "";
    return "runner.image '" + runner.image +
           "' is a tag: the workers try to pull it from its registry for every job even when "
           "they have it, and a moved tag runs another mlwm on some nodes; pin it by digest "
           "(NAME@sha256:..., `docker image inspect -f '{{index .RepoDigests 0}}' " +
           runner.image + "`)";
}

std::vector<std::string> changed_host_keys(const HostConfig& a, const HostConfig& b) {
    std::vector<std::string> out;
    const auto differ = [&](const char* key, bool changed) {
        if (changed) out.emplace_back(key);
    };
    differ("storage.type", a.storage_type != b.storage_type);
    differ("storage.endpoint", a.s3.endpoint != b.s3.endpoint);
    differ("storage.region", a.s3.region != b.s3.region);
    differ("storage.profile", a.s3.profile != b.s3.profile);
    differ("storage.virtual_hosted", a.s3.virtual_hosted != b.s3.virtual_hosted);
    differ("storage.root", a.file_root != b.file_root);
    differ("docker.socket", a.docker_socket != b.docker_socket);
    differ("docker.gpus", a.gpu_delivery != b.gpu_delivery);
    differ("work_dir", a.work_dir != b.work_dir);
    differ("configurations_dir", a.configurations_dir != b.configurations_dir);
    differ("state_dir", a.state_dir != b.state_dir);
    differ("http.listen", a.http_listen != b.http_listen);
    differ("log.format", a.log_format != b.log_format);
    differ("concurrency.runs", a.max_concurrent_runs != b.max_concurrent_runs);
    differ("concurrency.transfers", a.transfer_concurrency != b.transfer_concurrency);
    differ("keep_failed_runs", a.keep_failed_runs != b.keep_failed_runs);
    differ("daemon.poll_interval", a.poll_interval != b.poll_interval);
    differ("daemon.lookback", a.lookback != b.lookback);
    differ("gpus", a.gpus != b.gpus);
    differ("runner",
           a.runner.type != b.runner.type || a.runner.manager != b.runner.manager ||
               a.runner.image != b.runner.image || a.runner.node_socket != b.runner.node_socket ||
               a.runner.node_work_dir != b.runner.node_work_dir ||
               a.runner.node_endpoint != b.runner.node_endpoint ||
               a.runner.gpu_kind != b.runner.gpu_kind || a.runner.placement != b.runner.placement ||
               a.runner.node_grace != b.runner.node_grace);
    return out;
}

HostConfig load_host_config(const fs::path& file) {
    if (file.empty()) return HostConfig{};
    std::ifstream in(file);
    if (!in) throw ConfigError({{file.string(), 0, 0, "", "cannot read the host configuration"}});
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_host_config(file.string(), ss.str());
}

fs::path find_host_config(const std::string& explicit_path) {
    if (!explicit_path.empty()) return explicit_path;
    if (const char* env = std::getenv("MLWM_CONFIG"); env && *env) return env;
    std::error_code ec;
    if (fs::exists("/etc/mlwm/mlwm.yaml", ec)) return "/etc/mlwm/mlwm.yaml";
    return {};
}

}  // namespace mlwm::config

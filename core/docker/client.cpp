#include "docker/client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "archive/tar_stream.hpp"
#include "docker/error.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

namespace mlwm::docker {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kClientApiVersion = "1.41";
constexpr std::chrono::seconds kShortCall{60};

// "1.41" -> {1, 41}
std::pair<int, int> parse_api(const std::string& v) {
    const auto dot = v.find('.');
    if (dot == std::string::npos) return {0, 0};
    return {std::atoi(v.substr(0, dot).c_str()), std::atoi(v.substr(dot + 1).c_str())};
}

bool is_podman(const EngineVersion& e) {
    return e.platform == "Podman Engine";
}

bool has_cdi(const Resources& r) {
    return std::any_of(r.devices.begin(), r.devices.end(), [](const Device& d) { return d.cdi; });
}

// The engine's error message, verbatim: {"message": "..."} or the body text.
std::string engine_message(const HttpResponse& r) {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) {
        if (auto it = j.find("message"); it != j.end() && it->is_string())
            return it->get<std::string>();
        if (auto it = j.find("cause"); it != j.end() && it->is_string())
            return it->get<std::string>();
    }
    std::string text = r.body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text.empty() ? "(no message)" : text;
}

nlohmann::json parse_json(const std::string& operation, const HttpResponse& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded())
        throw DockerError(operation, r.status,
                          "the engine's answer is not JSON: " + r.body.substr(0, 200));
    return j;
}

}  // namespace

std::string url_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

namespace {
// An open POST /containers/{id}/wait: its response headers have arrived, so
// the container may be started.
class HttpContainerWait final : public ContainerWait {
public:
    HttpContainerWait(std::unique_ptr<PendingResponse> p, std::string id)
        : pending_(std::move(p)), id_(std::move(id)) {}
    std::optional<WaitResult> wait_until(Clock::time_point deadline) override;

private:
    std::unique_ptr<PendingResponse> pending_;
    std::string id_;
};
}  // namespace

std::optional<WaitResult> HttpContainerWait::wait_until(Clock::time_point deadline) {
    if (!pending_->wait_until(deadline)) return std::nullopt;
    const HttpResponse r = pending_->take();
    const std::string op = "wait for container " + id_;
    if (r.status != 200) throw DockerError(op, r.status, engine_message(r));
    const auto j = parse_json(op, r);
    WaitResult w;
    w.status_code = j.value("StatusCode", std::int64_t{-1});
    if (auto it = j.find("Error"); it != j.end() && it->is_object())
        if (auto m = it->find("Message"); m != it->end() && m->is_string())
            w.error = m->get<std::string>();
    return w;
}

DockerClient::DockerClient(const std::string& socket)
    : http_(socket.starts_with("unix://") ? socket.substr(7) : socket) {}

std::string DockerClient::default_socket() {
    if (const char* host = std::getenv("DOCKER_HOST");
        host && std::string_view(host).starts_with("unix://"))
        return std::string(host).substr(7);
    return "/var/run/docker.sock";
}

std::string request_kind(const std::string& method, const std::string& target) {
    std::string_view t(target);
    t = t.substr(0, t.find('?'));
    if (t.size() > 2 && t.starts_with("/v") && t[2] >= '0' && t[2] <= '9') {  // the API version
        const auto slash = t.find('/', 1);
        t = slash == std::string_view::npos ? std::string_view() : t.substr(slash);
    }
    std::vector<std::string_view> seg;
    while (!t.empty()) {
        t.remove_prefix(1);
        const auto slash = t.find('/');
        seg.push_back(t.substr(0, slash));
        t = slash == std::string_view::npos ? std::string_view() : t.substr(slash);
    }
    if (seg.empty()) return "other";
    if (seg.size() == 1) {
        if (seg[0] == "_ping" || seg[0] == "version" || seg[0] == "info") {
            return seg[0] == "_ping" ? "ping" : std::string(seg[0]);
        }
        if (seg[0] == "build") return "image_build";
        if (seg[0] == "tasks" || seg[0] == "nodes" || seg[0] == "services")
            return std::string(seg[0].substr(0, seg[0].size() - 1)) + "_list";
        return "other";
    }
    if (seg[0] == "containers") {
        if (seg.size() == 2) {
            if (seg[1] == "create") return "container_create";
            if (seg[1] == "json") return "container_list";
            return method == "DELETE" ? "container_remove" : "other";
        }
        if (seg.size() == 3) {
            static const std::set<std::string_view> known{"start", "wait", "kill", "stop", "logs"};
            if (seg[2] == "json") return "container_inspect";
            if (known.contains(seg[2])) return "container_" + std::string(seg[2]);
        }
        return "other";
    }
    if (seg[0] == "services") {
        if (seg.size() == 2)
            return seg[1] == "create"   ? "service_create"
                   : method == "DELETE" ? "service_remove"
                                        : "service_inspect";
        if (seg.size() == 3 && (seg[2] == "update" || seg[2] == "logs"))
            return "service_" + std::string(seg[2]);
        return "other";
    }
    if (seg[0] == "images") {  // image names may hold '/'
        if (seg.size() == 2 && seg[1] == "create") return "image_pull";
        if (seg.size() > 2 && seg.back() == "push" && method == "POST") return "image_push";
        if (seg.back() == "json") return "image_inspect";
        return method == "DELETE" ? "image_remove" : "other";
    }
    return "other";
}

void DockerClient::observe(const HttpRequest& request, long status) {
    if (observer_) observer_(request_kind(request.method, request.target), status);
}

HttpResponse DockerClient::send(const HttpRequest& request) {
    try {
        HttpResponse r = http_.perform(request);
        observe(request, r.status);
        return r;
    } catch (...) {
        observe(request, 0);
        throw;
    }
}

HttpResponse DockerClient::call(const std::string& operation, HttpRequest request,
                                std::initializer_list<long> ok) {
    if (request.timeout.count() == 0) request.timeout = kShortCall;
    HttpResponse r = send(request);
    for (long s : ok)
        if (r.status == s) return r;
    throw DockerError(operation, r.status, engine_message(r));
}

void DockerClient::ping() {
    const auto r = call("ping", {.method = "GET", .target = "/_ping"});
    if (r.body != "OK") throw DockerError("ping", r.status, "unexpected answer '" + r.body + "'");
}

EngineVersion DockerClient::version() {
    const auto j = parse_json("version", call("version", {.method = "GET", .target = "/version"}));
    EngineVersion v;
    v.version = j.value("Version", "");
    v.api_version = j.value("ApiVersion", "");
    v.min_api_version = j.value("MinAPIVersion", "");
    if (auto it = j.find("Platform"); it != j.end() && it->is_object())
        v.platform = it->value("Name", "");
    if (auto it = j.find("Components"); it != j.end() && it->is_array())
        for (const auto& c : *it)
            if (c.is_object() && c.value("Name", "").find("Podman") != std::string::npos)
                v.platform = "Podman Engine";
    if (v.platform.empty()) v.platform = "Docker Engine";  // Debian's dockerd names none
    // use 1.41 unless the engine is older, or too new to speak it
    auto chosen = parse_api(kClientApiVersion);
    const auto engine = parse_api(v.api_version);
    if (engine.first > 0 && engine < chosen) chosen = engine;
    const auto minimum = parse_api(v.min_api_version);
    if (minimum.first > 0 && minimum > chosen) chosen = minimum;
    v.negotiated = std::to_string(chosen.first) + "." + std::to_string(chosen.second);
    return v;
}

EngineVersion DockerClient::engine() {
    std::lock_guard lock(version_mutex_);
    if (!engine_) engine_ = version();
    return *engine_;
}

std::string DockerClient::api_version() {
    return engine().negotiated;
}

std::string DockerClient::path(const std::string& endpoint) {
    return "/v" + api_version() + endpoint;
}

nlohmann::json DockerClient::info() {
    return parse_json("info", call("info", {.method = "GET", .target = path("/info")}));
}

std::optional<nlohmann::json> DockerClient::inspect_image(const std::string& name) {
    const std::string op = "inspect image " + name;
    const auto r =
        call(op, {.method = "GET", .target = path("/images/" + name + "/json")}, {200, 404});
    if (r.status == 404) return std::nullopt;
    return parse_json(op, r);
}

void DockerClient::pull_image(const ImageRef& ref, const ProgressSink& progress) {
    if (!ref.pinned())
        throw std::invalid_argument("pull " + ref.repository +
                                    ": refusing a reference without tag or digest");
    const std::string op = "pull " + ref.str();
    const std::string target = path("/images/create?fromImage=" + url_encode(ref.repository) +
                                    "&tag=" + url_encode(ref.digest ? *ref.digest : *ref.tag));
    HttpRequest req{.method = "POST", .target = target};
    req.timeout = std::chrono::hours(2);
    if (registry_auth_) req.headers.push_back("X-Registry-Auth: " + registry_auth_(ref.repository));
    stream_progress(op, req, [&](const ProgressMessage& m) {
        if (progress && !m.text.empty()) progress(m.text);
    });
}

std::string DockerClient::push_image(const ImageRef& ref, const ProgressSink& progress) {
    if (!ref.tag || ref.digest)
        throw std::invalid_argument("push " + ref.str() + ": expected repository:tag");
    const std::string op = "push " + ref.str();
    // the repository's '/' stay path separators, as the docker CLI sends them
    HttpRequest req{
        .method = "POST",
        .target = path("/images/" + ref.repository + "/push?tag=" + url_encode(*ref.tag))};
    req.timeout = std::chrono::hours(2);
    req.headers.push_back("X-Registry-Auth: " +
                          (registry_auth_ ? registry_auth_(ref.repository) : std::string("e30=")));
    std::string digest;
    stream_progress(op, req, [&](const ProgressMessage& m) {
        if (m.digest) digest = *m.digest;
        if (progress && !m.text.empty()) progress(m.text);
    });
    if (digest.empty())
        throw DockerError(op, 200, "the engine reported no digest for the pushed image");
    return digest;
}

void DockerClient::stream_progress(const std::string& operation, HttpRequest request,
                                   const std::function<void(const ProgressMessage&)>& on_message) {
    std::optional<std::string> error;
    JsonLinesParser parser([&](const ProgressMessage& m) {
        if (m.error) error = m.error;
        on_message(m);
    });
    request.on_data = [&](std::string_view chunk) { parser.feed(chunk); };
    const auto r = send(request);
    parser.finish();
    if (r.status != 200) throw DockerError(operation, r.status, engine_message(r));
    if (error) throw DockerError(operation, r.status, *error);
}

BuildResult DockerClient::build_image(const BuildOptions& o, const ProgressSink& progress) {
    const std::string op = "build " + o.context_dir.string();
    if (!std::filesystem::exists(o.context_dir / o.dockerfile))
        throw std::invalid_argument(op + ": no " + o.dockerfile + " in the build context");
    std::string query = "?dockerfile=" + url_encode(o.dockerfile) + "&rm=1&forcerm=1";
    for (const auto& t : o.tags) query += "&t=" + url_encode(t);
    if (!o.labels.empty()) query += "&labels=" + url_encode(nlohmann::json(o.labels).dump());
    if (!o.build_args.empty())
        query += "&buildargs=" + url_encode(nlohmann::json(o.build_args).dump());
    query += o.pull ? "&pull=1" : "";
    query += o.no_cache ? "&nocache=1" : "";

    archive::TarStream tar(o.context_dir);
    BuildResult result;
    HttpRequest req{
        .method = "POST", .target = path("/build" + query), .content_type = "application/x-tar"};
    req.upload = [&](char* buf, std::size_t n) { return tar.read(buf, n); };
    req.timeout = std::chrono::hours(4);
    stream_progress(op, req, [&](const ProgressMessage& m) {
        if (m.image_id) result.image_id = *m.image_id;
        if (!m.text.empty()) {
            result.output += m.text;
            if (progress) progress(m.text);
        }
    });
    if (result.image_id.empty() && !o.tags.empty())  // engines without aux ID (older podman)
        if (auto img = inspect_image(o.tags.front())) result.image_id = img->value("Id", "");
    return result;
}

std::string engine_cannot(const Resources& r, const EngineVersion& e) {
    const std::string engine = e.platform + " " + e.version + " (API " + e.api_version + ")";
    if (is_podman(e) && r.gpus.count > 0)
        return "this engine is " + engine +
               ", which names GPUs by CDI and cannot count them: write resources.gpus: all or a "
               "list of GPU ids (the host's gpus: list does that for the daemon)";
    if (!is_podman(e) && has_cdi(r) && parse_api(e.api_version) < std::pair{1, 45})
        return "CDI devices need Docker Engine 25 or later with CDI enabled (API 1.45); this "
               "engine is " +
               engine + ": name host devices (/dev/...), use resources.gpus, or run on Podman";
    return "";
}

std::string DockerClient::create_container(const ContainerSpec& spec) {
    const auto body = create_body(spec);  // validates
    for (const auto& m : spec.mounts) {
        if (!m.read_only) {
            std::filesystem::create_directories(m.source);
        } else if (!std::filesystem::exists(m.source)) {
            throw std::invalid_argument("create container: read-only mount source " + m.source +
                                        " does not exist");
        }
    }
    const std::string op = "create container" + (spec.name.empty() ? "" : " " + spec.name);
    const EngineVersion e = engine();
    if (const std::string why = engine_cannot(spec.resources, e); !why.empty())
        throw std::invalid_argument(op + ": " + why);
    const bool cdi = has_cdi(spec.resources);
    if (is_podman(e) && (cdi || spec.resources.gpus.any())) {
        // Podman's Docker-compatible API ignores GPU requests and cannot resolve CDI
        // names; its own API does both, as `podman run --device nvidia.com/gpu=all`
        const auto r = call(op + " (Podman API)",
                            {.method = "POST",
                             .target = "/v4.0.0/libpod/containers/create",
                             .body = libpod_create_body(spec).dump()},
                            {201});
        return parse_json(op, r).value("Id", "");
    }
    // DeviceRequests with Driver "cdi" are understood from API 1.45 on
    std::string target = cdi ? "/v1.45/containers/create" : path("/containers/create");
    if (!spec.name.empty()) target += "?name=" + url_encode(spec.name);
    const auto r = call(op, {.method = "POST", .target = target, .body = body.dump()}, {201});
    return parse_json(op, r).value("Id", "");
}

std::unique_ptr<ContainerWait> DockerClient::open_wait(const std::string& id,
                                                       const std::string& condition) {
    HttpRequest req{.method = "POST",
                    .target = path("/containers/" + id + "/wait?condition=" + condition)};
    const HttpRequest described{.method = req.method, .target = req.target};
    std::unique_ptr<PendingResponse> pending;
    try {
        pending = http_.begin(std::move(req), Clock::now() + kShortCall);
    } catch (...) {
        observe(described, 0);
        throw;
    }
    observe(described, pending->status());
    if (pending->status() != 200) {
        pending->wait_until(Clock::now() + kShortCall);
        throw DockerError("wait for container " + id, pending->status(),
                          engine_message(pending->take()));
    }
    return std::make_unique<HttpContainerWait>(std::move(pending), id);
}

void DockerClient::start_container(const std::string& id) {
    call("start container " + id,
         {.method = "POST", .target = path("/containers/" + id + "/start")}, {204, 304});
}

void DockerClient::kill_container(const std::string& id, const std::string& signal) {
    call("kill container " + id,
         {.method = "POST",
          .target = path("/containers/" + id + "/kill?signal=" + url_encode(signal))},
         {204});
}

void DockerClient::stop_container(const std::string& id, int grace_seconds) {
    HttpRequest req{
        .method = "POST",
        .target = path("/containers/" + id + "/stop?t=" + std::to_string(grace_seconds))};
    req.timeout = std::chrono::seconds(grace_seconds + 60);
    call("stop container " + id, req, {204, 304});
}

void DockerClient::remove_container(const std::string& id, bool force) {
    call("remove container " + id,
         {.method = "DELETE",
          .target = path("/containers/" + id + (force ? "?force=1&v=1" : "?v=1"))},
         {204});
}

ContainerState DockerClient::inspect_container(const std::string& id) {
    const std::string op = "inspect container " + id;
    return parse_inspect(
        parse_json(op, call(op, {.method = "GET", .target = path("/containers/" + id + "/json")})));
}

std::vector<ContainerSummary> DockerClient::list_containers(
    const std::vector<std::string>& labels) {
    const std::string op = "list containers";
    const auto r = call(
        op, {.method = "GET",
             .target = path("/containers/json?all=1&filters=" + url_encode(label_filter(labels)))});
    return parse_container_list(parse_json(op, r));
}

void DockerClient::save_logs(const std::string& id, const std::filesystem::path& out_path,
                             const std::filesystem::path& err_path) {
    if (out_path.has_parent_path()) std::filesystem::create_directories(out_path.parent_path());
    if (err_path.has_parent_path()) std::filesystem::create_directories(err_path.parent_path());
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    std::ofstream err(err_path, std::ios::binary | std::ios::trunc);
    if (!out || !err)
        throw std::runtime_error("cannot write container logs to " +
                                 (out ? err_path : out_path).string() + ": " +
                                 std::strerror(errno));
    int write_errno = 0;  // the first write error's (a full disk, say)
    LogDemuxer demux([&](StreamKind kind, std::string_view data) {
        auto& to = kind == StreamKind::stderr_ ? err : out;
        to.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!to && write_errno == 0) write_errno = errno ? errno : EIO;
    });
    const std::string op = "logs of container " + id;
    HttpRequest req{.method = "GET",
                    .target = path("/containers/" + id + "/logs?stdout=1&stderr=1")};
    req.on_data = [&](std::string_view chunk) { demux.feed(chunk); };
    req.timeout = std::chrono::minutes(10);
    HttpResponse r = send(req);
    if (r.status != 200) throw DockerError(op, r.status, engine_message(r));
    out.flush();
    err.flush();
    if ((!out || !err) && write_errno == 0) write_errno = errno ? errno : EIO;
    if (write_errno != 0)
        throw std::runtime_error("writing container logs to " + out_path.parent_path().string() +
                                 " failed: " + std::strerror(write_errno));
}

std::optional<std::string> DockerClient::create_service(const nlohmann::json& body) {
    const std::string op = "create service " + body.value("Name", std::string());
    const auto r =
        call(op, {.method = "POST", .target = path("/services/create"), .body = body.dump()},
             {201, 409});
    if (r.status == 409) return std::nullopt;
    return parse_json(op, r).value("ID", "");
}

std::optional<nlohmann::json> DockerClient::inspect_service(const std::string& name_or_id) {
    const std::string op = "inspect service " + name_or_id;
    const auto r = call(
        op, {.method = "GET", .target = path("/services/" + url_encode(name_or_id))}, {200, 404});
    if (r.status == 404) return std::nullopt;
    return parse_json(op, r);
}

void DockerClient::update_service(const std::string& id, std::uint64_t version,
                                  const nlohmann::json& spec) {
    call("update service " + id, {.method = "POST",
                                  .target = path("/services/" + url_encode(id) +
                                                 "/update?version=" + std::to_string(version)),
                                  .body = spec.dump()});
}

void DockerClient::remove_service(const std::string& name_or_id) {
    call("remove service " + name_or_id,
         {.method = "DELETE", .target = path("/services/" + url_encode(name_or_id))}, {200, 404});
}

bool DockerClient::release_service(const std::string& name_or_id) {
    const auto svc = inspect_service(name_or_id);
    if (!svc) return true;
    // every task, not only the newest: a placement update adds a pending one
    // while the old one is still being shut down
    if (std::ranges::none_of(list_tasks({name_or_id}), [](const swarm::Task& t) {
            return swarm::job_status({t}).phase == swarm::JobPhase::running;
        })) {
        remove_service(name_or_id);
        return true;
    }
    nlohmann::json spec = svc->value("Spec", nlohmann::json::object());
    const nlohmann::json stopped = {swarm::kStoppedConstraint};
    if (spec["TaskTemplate"]["Placement"]["Constraints"] != stopped) {
        spec["TaskTemplate"]["Placement"]["Constraints"] = stopped;
        const auto version =
            svc->value("Version", nlohmann::json::object()).value("Index", std::uint64_t{0});
        update_service(svc->value("ID", name_or_id), version, spec);
    }
    return false;
}

bool DockerClient::stop_service(const std::string& name_or_id) {
    // the job's StopGracePeriod (swarm.cpp: 30 s) and some
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
    for (;;) {
        if (release_service(name_or_id)) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

std::vector<swarm::JobRef> DockerClient::list_jobs() {
    const std::string op = "list swarm jobs";
    const nlohmann::json filters = {{"label", {"org.mlwm.job=true"}}};
    return swarm::parse_jobs(parse_json(
        op, call(op, {.method = "GET",
                      .target = path("/services?filters=" + url_encode(filters.dump()))})));
}

std::vector<swarm::Task> DockerClient::list_tasks(const std::vector<std::string>& services) {
    const std::string op = "list tasks of service " + util::join(services, ", ");
    const nlohmann::json filters = {{"service", services}};
    return swarm::parse_tasks(
        parse_json(op, call(op, {.method = "GET",
                                 .target = path("/tasks?filters=" + url_encode(filters.dump()))})));
}

nlohmann::json DockerClient::list_nodes() {
    return parse_json("list nodes",
                      call("list nodes", {.method = "GET", .target = path("/nodes")}));
}

std::string DockerClient::service_logs(const std::string& id) {
    std::string text;
    LogDemuxer demux([&](StreamKind, std::string_view data) { text.append(data); });
    const std::string op = "logs of service " + id;
    HttpRequest req{.method = "GET",
                    .target = path("/services/" + url_encode(id) + "/logs?stdout=1&stderr=1")};
    req.on_data = [&](std::string_view chunk) { demux.feed(chunk); };
    req.timeout = std::chrono::minutes(1);
    const HttpResponse r = send(req);
    if (r.status != 200) throw DockerError(op, r.status, engine_message(r));
    return text;
}

std::string DockerClient::ensure_swarm_object(const std::string& kind, const std::string& name,
                                              std::string_view data,
                                              const std::map<std::string, std::string>& labels) {
    const std::string op = "create " + kind.substr(0, kind.size() - 1) + " " + name;
    const nlohmann::json body = {{"Name", name}, {"Data", util::base64(data)}, {"Labels", labels}};
    const auto r =
        call(op, {.method = "POST", .target = path("/" + kind + "/create"), .body = body.dump()},
             {201, 409});
    if (r.status == 201) return parse_json(op, r).value("ID", "");
    const nlohmann::json filters = {{"name", {name}}};
    const auto list = parse_json(
        op, call(op, {.method = "GET",
                      .target = path("/" + kind + "?filters=" + url_encode(filters.dump()))}));
    for (const auto& o : list)
        if (o.value("Spec", nlohmann::json::object()).value("Name", "") == name)
            return o.value("ID", "");
    throw DockerError(op, 409, "exists, but is not listed");
}

std::map<std::string, std::string> DockerClient::list_swarm_objects(const std::string& kind,
                                                                    const std::string& label) {
    const std::string op = "list " + kind;
    const nlohmann::json filters = {{"label", {label}}};
    std::map<std::string, std::string> out;
    for (const auto& o : parse_json(
             op, call(op, {.method = "GET",
                          .target = path("/" + kind + "?filters=" + url_encode(filters.dump()))})))
        out[o.value("ID", "")] = o.value("Spec", nlohmann::json::object()).value("Name", "");
    return out;
}

bool DockerClient::remove_swarm_object(const std::string& kind, const std::string& id) {
    const std::string op = "remove " + kind.substr(0, kind.size() - 1) + " " + id;
    const auto r = call(op, {.method = "DELETE", .target = path("/" + kind + "/" + url_encode(id))},
                        {200, 204, 400, 404});
    return r.status != 400;  // 400: in use by a service
}

}  // namespace mlwm::docker

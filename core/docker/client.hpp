// A Docker Engine API client (v1.41, negotiated down or up from GET /version)
// over the engine's unix socket. Works with dockerd and with Podman's
// Docker-compatible service. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/container_spec.hpp"
#include "docker/engine.hpp"
#include "docker/image_ref.hpp"
#include "docker/streams.hpp"
#include "docker/swarm.hpp"
#include "docker/unix_http.hpp"

namespace mlwm::docker {

struct EngineVersion {
    std::string version;          // e.g. 20.10.24
    std::string api_version;      // the engine's newest, e.g. 1.41
    std::string min_api_version;  // the engine's oldest
    std::string negotiated;       // what this client uses
    std::string
        platform;  // e.g. "Docker Engine - Community", "Podman Engine"; else "Docker Engine"
};

struct BuildOptions {
    std::filesystem::path context_dir;
    std::string dockerfile = "Containerfile";  // relative to the context
    std::vector<std::string> tags;             // repository:tag
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> build_args;
    bool pull = false;  // never: bases are local
    bool no_cache = false;
};

struct BuildResult {
    std::string image_id;  // sha256:...
    std::string output;    // everything the build printed
};

// Why an engine cannot give a container these resources ("" when it can;
// pure): Podman cannot count GPUs (it names them by CDI); Docker before
// Engine 25 (API 1.45) has no CDI devices.
std::string engine_cannot(const Resources& r, const EngineVersion& e);

class DockerClient : public Engine {
public:
    // `socket`: a path or unix:///path.
    explicit DockerClient(const std::string& socket);

    // The socket from DOCKER_HOST (unix:// only) or /var/run/docker.sock.
    static std::string default_socket();

    const std::string& socket_path() const { return http_.socket_path(); }

    // Called after every request with its kind (request_kind) and HTTP status
    // (0: the engine did not answer), e.g. for metrics. Set before use.
    using RequestObserver = std::function<void(const std::string& kind, long status)>;
    void set_request_observer(RequestObserver observer) { observer_ = std::move(observer); }

    void ping();
    EngineVersion version();
    nlohmann::json info();
    // The negotiated API version ("1.41"); asks the engine on first use.
    std::string api_version();
    // The engine as first seen (cached): version, platform, negotiated API.
    EngineVersion engine();

    std::optional<nlohmann::json> inspect_image(const std::string& name) override;
    // The X-Registry-Auth value for a repository's registry (registry_auth.hpp),
    // sent with pulls and pushes. Unset: pulls send none, pushes send "{}".
    using RegistryAuth = std::function<std::string(const std::string& repository)>;
    void set_registry_auth(RegistryAuth auth) { registry_auth_ = std::move(auth); }

    // Pulls a tagged or digest-pinned reference; never a tag-less one.
    void pull_image(const ImageRef& ref, const ProgressSink& progress = {}) override;
    // Pushes repository:tag to its registry; returns the manifest digest the
    // registry stored (sha256:...). Throws DockerError with the registry's
    // message (e.g. unauthorized) when the push fails.
    std::string push_image(const ImageRef& ref, const ProgressSink& progress = {});
    // Builds from a context directory, streaming it as tar. Throws DockerError
    // with the build's own error message when a step fails.
    BuildResult build_image(const BuildOptions& options, const ProgressSink& progress = {});

    // Creates the container (after creating missing read-write mount sources);
    // returns its id. GPU requests are refused on Podman, whose
    // Docker-compatible API accepts DeviceRequests and silently ignores them.
    std::string create_container(const ContainerSpec& spec) override;
    // condition: next-exit (before a start) or not-running (a container that
    // may have exited already: answers at once then).
    std::unique_ptr<ContainerWait> open_wait(const std::string& id,
                                             const std::string& condition = "next-exit") override;
    void start_container(const std::string& id) override;
    void kill_container(const std::string& id, const std::string& signal = "KILL") override;
    void stop_container(const std::string& id, int grace_seconds);
    void remove_container(const std::string& id, bool force = true) override;
    ContainerState inspect_container(const std::string& id) override;
    // Containers (also stopped ones) carrying all the labels (`k` or `k=v`).
    std::vector<ContainerSummary> list_containers(const std::vector<std::string>& labels) override;
    // Writes the container's stdout and stderr, demultiplexed, to two files.
    void save_logs(const std::string& id, const std::filesystem::path& stdout_path,
                   const std::filesystem::path& stderr_path) override;

    // Docker Swarm, on a manager's socket (the bodies and parsers: swarm.hpp).
    // Creates a service; nullopt when one of that name exists (HTTP 409), so a
    // submission under a deterministic name is idempotent.
    std::optional<std::string> create_service(const nlohmann::json& body);
    std::optional<nlohmann::json> inspect_service(const std::string& name_or_id);  // 404: nullopt
    // `version`: Version.Index from inspect_service (the update is refused if it changed)
    void update_service(const std::string& id, std::uint64_t version, const nlohmann::json& spec);
    void remove_service(const std::string& name_or_id);  // one that is gone already: fine
    // Releases a job without waiting: removes it when no task of it is on a
    // node (true; also when it is gone), else makes its placement impossible,
    // which makes the swarm shut the task down (also on a node that is away,
    // when it comes back), and keeps it (false): deleting a service whose task
    // runs left its container running on Docker 20.10 (moby#44312).
    bool release_service(const std::string& name_or_id);
    // release_service, waiting up to 45 s for the task to end (a job's
    // StopGracePeriod is 30 s: its `mlwm run` stops its model container); false: the
    // job is still on a node (e.g. one that is down), stopped but not removed.
    bool stop_service(const std::string& name_or_id);
    std::vector<swarm::JobRef> list_jobs();  // the services labelled org.mlwm.job=true
    // The tasks of these services (names or IDs), read at one instant.
    std::vector<swarm::Task> list_tasks(const std::vector<std::string>& services);
    nlohmann::json list_nodes();
    // The job's stdout and stderr, in the order written (one task).
    std::string service_logs(const std::string& id);
    // A swarm config or secret (`kind`: "configs" or "secrets") named `name`
    // holding `data`, created unless one of that name exists; returns its ID.
    // Neither can change: name them by their content (swarm::object_name).
    std::string ensure_swarm_object(const std::string& kind, const std::string& name,
                                    std::string_view data,
                                    const std::map<std::string, std::string>& labels = {});
    // The configs or secrets labelled `label` (k=v): ID -> name.
    std::map<std::string, std::string> list_swarm_objects(const std::string& kind,
                                                          const std::string& label);
    // Removes one; false when a service uses it (the engine refuses), true
    // when removed or gone.
    bool remove_swarm_object(const std::string& kind, const std::string& id);

private:
    std::string path(const std::string& endpoint);  // versioned path
    HttpResponse send(const HttpRequest& request);  // http_.perform, observed
    void observe(const HttpRequest& request, long status);
    RequestObserver observer_;
    RegistryAuth registry_auth_;
    // Performs a request answered with JSON-lines progress (pull, build); an
    // error status or an error inside the stream becomes a DockerError.
    void stream_progress(const std::string& operation, HttpRequest request,
                         const std::function<void(const ProgressMessage&)>& on_message);
    HttpResponse call(const std::string& operation, HttpRequest request,
                      std::initializer_list<long> ok = {200, 201, 204});
    UnixSocketHttp http_;
    std::mutex version_mutex_;
    std::optional<EngineVersion> engine_;
};

// A bounded name for a request, for metric labels (ids and names dropped):
// "container_create", "container_start", "container_wait", "image_inspect",
// "image_pull", "image_build", "ping", ... ("other" for the rest).
std::string request_kind(const std::string& method, const std::string& target);

// Percent-encodes a query value or path segment (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

}  // namespace mlwm::docker

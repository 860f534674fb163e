// The Docker Engine client against a real engine (dockerd, or Podman's
// Docker-compatible service), started by tests/integration/run.sh.
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "docker/client.hpp"
#include "docker/error.hpp"
#include "docker/run.hpp"
#include "test_env.hpp"

using namespace mlwm::docker;
using namespace mlwm::test;
using namespace std::chrono_literals;

namespace {

ContainerSpec sh(const std::string& script) {
    ContainerSpec s;
    s.image = test_image();
    s.command = {"sh", "-c", script};
    s.labels = {{"org.mlwm.test", "1"}};
    return s;
}

// `docker` CLI pointed at the engine under test (it also speaks to podman).
std::string docker_cli(const std::string& args) {
    return shell("DOCKER_HOST=unix://" + docker_socket() + " docker " + args);
}

constexpr auto npos = std::string::npos;

bool is_podman() {
    return engine() == "podman";
}

}  // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("ping, version negotiation and info") {
    DockerClient c(docker_socket());
    CHECK_NOTHROW(c.ping());
    const EngineVersion v = c.version();
    CHECK_FALSE(v.version.empty());
    CHECK(v.negotiated == "1.41");  // dockerd 20.10 and podman 4.3 both speak 1.41
    CHECK(c.api_version() == "1.41");
    CHECK(c.info().contains("Containers"));
}

TEST_CASE("image inspect: present and missing") {
    DockerClient c(docker_socket());
    auto img = c.inspect_image(test_image());
    REQUIRE(img.has_value());
    CHECK((*img)["Id"].get<std::string>().starts_with("sha256:"));
    CHECK_FALSE(c.inspect_image("mlwm-test/does-not-exist:1").has_value());
}

TEST_CASE("exit codes 0, 1 and 137, and containers that exit at once") {
    DockerClient c(docker_socket());
    CHECK(run_container(c, sh("exit 0"), {}).exit_code == 0);
    CHECK(run_container(c, sh("exit 1"), {}).exit_code == 1);
    // PID 1 ignores SIGKILL from inside its namespace: kill a child shell, exit with its status
    const RunOutcome killed = run_container(c, sh("sh -c 'kill -9 $$'; exit $?"), {});
    CHECK(killed.exit_code == 137);
    CHECK_FALSE(killed.succeeded());
    // The wait is open before the start: an immediate exit is never missed.
    for (int i = 0; i < 10; ++i) {
        ContainerSpec s = sh("");
        s.command = {"true"};
        const RunOutcome o = run_container(c, s, {.timeout = 30s});
        CHECK(o.exit_code == 0);
        CHECK_FALSE(o.timed_out);
    }
    CHECK(run_container(c, sh("exit 42"), {.timeout = 30s}).exit_code == 42);
}

TEST_CASE(
    "a read-only input mount is read-only; what the container writes to the output is on the "
    "host") {
    DockerClient c(docker_socket());
    TempDir tmp;
    write_file(tmp.path() / "in" / "data.txt", "forecast input\n");
    ContainerSpec s =
        sh("cat /volume/inputs/data.txt > /volume/outputs/copy.txt; "
           "if touch /volume/inputs/new 2>/dev/null; then echo writable; else echo read-only; fi > "
           "/volume/outputs/probe.txt");
    s.mounts = {{(tmp.path() / "in").string(), "/volume/inputs", true},
                {(tmp.path() / "out" / "nested").string(), "/volume/outputs", false}};
    const RunOutcome o = run_container(c, s, {.timeout = 60s});
    CHECK(o.exit_code == 0);
    CHECK(read_file(tmp.path() / "out" / "nested" / "copy.txt") == "forecast input\n");
    CHECK(read_file(tmp.path() / "out" / "nested" / "probe.txt") == "read-only\n");
    CHECK_FALSE(std::filesystem::exists(tmp.path() / "in" / "new"));
}

TEST_CASE("a missing read-only mount source is an error naming it") {
    DockerClient c(docker_socket());
    ContainerSpec s = sh("true");
    s.mounts = {{"/nonexistent/mlwm/input", "/in", true}};
    CHECK_THROWS_WITH(run_container(c, s, {}), doctest::Contains("/nonexistent/mlwm/input"));
}

TEST_CASE("with network none the container has only lo") {
    DockerClient c(docker_socket());
    TempDir tmp;
    ContainerSpec s = sh("ls /sys/class/net > /out/ifaces");
    s.mounts = {{tmp.path().string(), "/out", false}};
    REQUIRE(run_container(c, s, {}).exit_code == 0);
    CHECK(read_file(tmp.path() / "ifaces") == "lo\n");
}

TEST_CASE("stdout and stderr are captured per stream, in order") {
    DockerClient c(docker_socket());
    TempDir tmp;
    const RunOutcome o = run_container(c,
                                       sh("i=1; while [ $i -le 200 ]; do echo out$i; echo err$i "
                                          ">&2; i=$((i+1)); done; printf 'no newline'"),
                                       {.log_dir = tmp.path()});
    REQUIRE(o.exit_code == 0);
    std::string want_out, want_err;
    for (int i = 1; i <= 200; ++i) {
        want_out += "out" + std::to_string(i) + "\n";
        want_err += "err" + std::to_string(i) + "\n";
    }
    CHECK(read_file(o.stdout_path) == want_out + "no newline");
    CHECK(read_file(o.stderr_path) == want_err);
}

TEST_CASE("a container past its timeout is killed and its logs kept") {
    DockerClient c(docker_socket());
    TempDir tmp;
    const auto t0 = std::chrono::steady_clock::now();
    const RunOutcome o =
        run_container(c, sh("echo started; sleep 60"), {.timeout = 1500ms, .log_dir = tmp.path()});
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(o.timed_out);
    CHECK(o.exit_code == 137);
    CHECK_FALSE(o.succeeded());
    CHECK(took < 20s);
    CHECK(read_file(o.stdout_path) == "started\n");
    CHECK(o.describe().find("timeout") != std::string::npos);
}

TEST_CASE("labels, mounts and settings as the docker CLI's inspect shows them") {
    DockerClient c(docker_socket());
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "in");
    ContainerSpec s = sh("sleep 30");
    s.name = "mlwm-test-inspect-" + std::to_string(::getpid());
    s.labels["org.mlwm.managed"] = "true";
    s.labels["org.mlwm.run-id"] = "persistence/2023-10-01T1200Z/member0";
    s.env = {{"ANALYSIS_TIME", "2023-10-01T12:00:00Z"}};
    s.working_dir = "/tmp";
    s.mounts = {{(tmp.path() / "in").string(), "/volume/inputs", true},
                {(tmp.path() / "out").string(), "/volume/outputs", false}};
    s.resources.memory_bytes = 256 << 20;
    s.resources.pids_limit = 100;
    s.init = true;
    const std::string id = c.create_container(s);
    const auto j = nlohmann::json::parse(docker_cli("inspect " + id))[0];
    CHECK(j["Config"]["Labels"]["org.mlwm.run-id"] == "persistence/2023-10-01T1200Z/member0");
    CHECK(j["Config"]["Labels"]["org.mlwm.managed"] == "true");
    CHECK(j["HostConfig"]["NetworkMode"] == "none");
    CHECK(j["HostConfig"]["AutoRemove"] == false);
    CHECK(j["HostConfig"]["Memory"] == 256 << 20);
    CHECK(j["Config"]["WorkingDir"] == "/tmp");
    bool in_ro = false, out_rw = false;
    for (const auto& m : j["Mounts"]) {
        if (m["Destination"] == "/volume/inputs")
            in_ro = m["RW"] == false && m["Source"] == (tmp.path() / "in").string();
        if (m["Destination"] == "/volume/outputs")
            out_rw = m["RW"] == true && m["Source"] == (tmp.path() / "out").string();
    }
    CHECK(in_ro);
    CHECK(out_rw);
    bool env_ok = false;
    for (const auto& e : j["Config"]["Env"])
        env_ok = env_ok || e == "ANALYSIS_TIME=2023-10-01T12:00:00Z";
    CHECK(env_ok);

    // listing by label and inspecting: the basis for adopting a run
    c.start_container(id);
    const auto listed = c.list_containers({"org.mlwm.run-id=persistence/2023-10-01T1200Z/member0"});
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].id == id);
    CHECK(listed[0].state == "running");
    CHECK(c.inspect_container(id).running);
    CHECK(c.list_containers({"org.mlwm.run-id=nothing-like-this"}).empty());
    // adopt: a new wait on the running container, then finish it
    auto wait = c.open_wait(id);
    c.kill_container(id);
    const RunOutcome o = finish_container(c, id, *wait, std::chrono::steady_clock::now() + 30s, {});
    CHECK(o.exit_code == 137);
    CHECK(c.list_containers({"org.mlwm.run-id=persistence/2023-10-01T1200Z/member0"}).empty());
}

TEST_CASE("engine errors are surfaced verbatim with status and operation") {
    DockerClient c(docker_socket());
    ContainerSpec s = sh("true");
    s.image = "mlwm-test/no-such-image:1";
    try {
        c.create_container(s);
        FAIL("create with a missing image succeeded");
    } catch (const DockerError& e) {
        CHECK(e.status() == 404);
        CHECK(e.operation() == "create container");
        CHECK(std::string(e.what()).find("no-such-image") != std::string::npos);
    }
    CHECK_THROWS_AS(c.inspect_container("no-such-container-mlwm"), DockerError);
    CHECK_THROWS_AS(c.start_container("no-such-container-mlwm"), DockerError);
}

TEST_CASE("GPU requests reach the engine") {
    DockerClient c(docker_socket());
    ContainerSpec s = sh("true");
    s.resources.gpus.all = true;
    try {
        run_container(c, s, {.timeout = 30s});
        FAIL("a GPU request succeeded on a host without GPUs");
    } catch (const DockerError& e) {
        // No GPU here. dockerd refuses at start (no GPU runtime); Podman, asked
        // through its own API as `podman run --device nvidia.com/gpu=all`
        // would, finds no CDI spec for the name (its Docker-compatible API
        // would run the container without GPUs instead)
        CHECK(std::string(e.what()).find(is_podman() ? "nvidia.com/gpu=all" : "gpu") !=
              std::string::npos);
    }
}

TEST_CASE("a host device node is in the container at the path asked") {
    DockerClient c(docker_socket());
    TempDir tmp;
    ContainerSpec s = sh(
        "ls -l /dev/mlwm-zero; test -c /dev/mlwm-zero && head -c 3 /dev/mlwm-zero | od -An -tx1; "
        "test -e /dev/mlwm-null || echo no-null");
    s.resources.devices = {parse_device("/dev/zero:/dev/mlwm-zero:r")};
    const RunOutcome o = run_container(c, s, {.log_dir = tmp.path()});
    CHECK(o.exit_code == 0);
    const std::string out = read_file(o.stdout_path);
    CHECK(out.starts_with("crw"));           // a character device...
    CHECK(out.find("1,   5") != npos);       // ...with /dev/zero's major, minor
    CHECK(out.find(" 00 00 00\n") != npos);  // read through it
    CHECK(out.find("no-null") != npos);      // only what was asked
}

TEST_CASE("CDI devices: resolved by Podman from its spec; refused by an engine without CDI") {
    DockerClient c(docker_socket());
    TempDir tmp;
    ContainerSpec s =
        sh("ls -l /dev/mlwm-null; echo cdi=$MLWM_CDI; cat /in/x; echo done > /out/y; id -u");
    s.resources.devices = {parse_device("mlwm.test/dev=nul")};
    std::filesystem::create_directories(tmp.path() / "in");
    std::filesystem::create_directories(tmp.path() / "out");
    write_file(tmp.path() / "in/x", "input\n");
    s.mounts = {{(tmp.path() / "in").string(), "/in", true},
                {(tmp.path() / "out").string(), "/out", false}};
    s.env = {{"A", "1"}};
    if (!is_podman()) {
        // dockerd 20.10 (API 1.41) has no CDI: refused before the engine is asked
        const EngineVersion v = c.engine();
        CHECK_THROWS_WITH_AS(
            run_container(c, s, {}),
            doctest::Contains("CDI devices need Docker Engine 25 or later with CDI enabled"),
            std::invalid_argument);
        CHECK_THROWS_WITH(run_container(c, s, {}),
                          doctest::Contains(("API " + v.api_version).c_str()));
        return;
    }
    // A CDI spec, as the NVIDIA container toolkit writes for GPUs, for a
    // harmless device: /dev/null at /dev/mlwm-null, and an environment edit
    const std::filesystem::path spec =
        "/var/run/cdi/mlwm-test-" + std::to_string(::getpid()) + ".yaml";
    std::filesystem::create_directories(spec.parent_path());
    write_file(spec, R"(cdiVersion: "0.5.0"
kind: mlwm.test/dev
devices:
  - name: "nul"
    containerEdits:
      deviceNodes:
        - path: /dev/mlwm-null
          hostPath: /dev/null
      env:
        - MLWM_CDI=yes
)");
    struct Remove {
        std::filesystem::path p;
        ~Remove() { std::filesystem::remove(p); }
    } remove{spec};
    const RunOutcome o = run_container(c, s, {.log_dir = tmp.path() / "logs"});
    CHECK(o.exit_code == 0);
    const std::string out = read_file(o.stdout_path);
    CAPTURE(out);
    CHECK(out.starts_with("crw"));
    CHECK(out.find("1,   3") != npos);  // /dev/null's major, minor
    CHECK(out.find("cdi=yes") != npos);
    CHECK(out.find("input") != npos);  // mounts as through the compat API
    CHECK(read_file(tmp.path() / "out/y") == "done\n");
    // an unknown CDI name is the engine's error, naming it
    s.resources.devices = {parse_device("mlwm.test/dev=missing")};
    CHECK_THROWS_WITH_AS(run_container(c, s, {}), doctest::Contains("mlwm.test/dev=missing"),
                         DockerError);
}

TEST_CASE("an unreachable engine gives one line that says what to do") {
    TempDir tmp;
    {
        DockerClient c((tmp.path() / "missing.sock").string());
        CHECK_THROWS_WITH_AS(c.ping(), doctest::Contains("does not exist"), EngineUnreachable);
    }
    {
        // a socket file nobody listens on: the engine is down
        const auto path = (tmp.path() / "down.sock").string();
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        ::close(fd);
        DockerClient c(path);
        try {
            c.ping();
            FAIL("ping succeeded");
        } catch (const EngineUnreachable& e) {
            const std::string m = e.what();
            CHECK(m.find("connection refused") != std::string::npos);
            CHECK(m.find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("image build from a Containerfile, and the build's own error") {
    DockerClient c(docker_socket());
    TempDir tmp;
    const auto ctx = tmp.path() / "ctx";
    write_file(ctx / "Containerfile", "FROM " + test_image() +
                                          "\nARG GREETING=hello\nCOPY payload/ /payload/\n"
                                          "RUN echo \"$GREETING\" > /greeting\nCMD [\"cat\", "
                                          "\"/greeting\", \"/payload/a.txt\"]\n");
    write_file(ctx / "payload" / "a.txt", "payload\n");
    std::string streamed;
    const std::string tag = "mlwm-test/built:" + std::to_string(::getpid());
    const BuildResult b = c.build_image({.context_dir = ctx,
                                         .tags = {tag},
                                         .labels = {{"org.opencontainers.image.revision", "abc"}},
                                         .build_args = {{"GREETING", "bonjour"}}},
                                        [&](const std::string& t) { streamed += t; });
    CHECK(b.image_id.starts_with("sha256:"));
    CHECK_FALSE(streamed.empty());
    const auto img = c.inspect_image(tag);
    REQUIRE(img.has_value());
    CHECK((*img)["Config"]["Labels"]["org.opencontainers.image.revision"] == "abc");
    TempDir logs;
    ContainerSpec s;
    s.image = tag;
    s.labels = {{"org.mlwm.test", "1"}};
    const RunOutcome o = run_container(c, s, {.log_dir = logs.path()});
    CHECK(o.exit_code == 0);
    CHECK(read_file(o.stdout_path) == "bonjour\npayload\n");

    // a broken Containerfile: the engine's build error is the exception
    write_file(ctx / "Containerfile",
               "FROM " + test_image() + "\nRUN echo failing-step && exit 3\n");
    try {
        c.build_image({.context_dir = ctx, .tags = {tag + "-broken"}});
        FAIL("a failing build succeeded");
    } catch (const DockerError& e) {
        const std::string m = e.what();
        CAPTURE(m);
        CHECK((m.find("exit status 3") != std::string::npos ||
               m.find("non-zero code: 3") != std::string::npos));
    }
    write_file(ctx / "Containerfile", "FROM " + test_image() + "\nFROBNICATE everything\n");
    CHECK_THROWS_AS(c.build_image({.context_dir = ctx, .tags = {tag + "-broken"}}), DockerError);
    CHECK_THROWS_WITH(c.build_image({.context_dir = tmp.path() / "nothing", .tags = {tag}}),
                      doctest::Contains("Containerfile"));
}

TEST_CASE("pulling a tag-less reference is refused before it reaches the engine") {
    DockerClient c(docker_socket());
    CHECK_THROWS_AS(c.pull_image(parse_image_ref("busybox", false)), std::invalid_argument);
}

TEST_CASE("20 containers at once") {
    DockerClient c(docker_socket());
    std::vector<std::thread> threads;
    std::vector<std::int64_t> codes(20, -1);
    for (int i = 0; i < 20; ++i)
        threads.emplace_back([&, i] {
            codes[i] =
                run_container(c, sh("exit " + std::to_string(i)), {.timeout = 120s}).exit_code;
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 20; ++i) CHECK(codes[i] == i);
}

TEST_CASE("an out-of-memory kill is reported") {
    DockerClient c(docker_socket());
    ContainerSpec s = sh("");
    s.command = {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"};
    s.resources.memory_bytes = 16 << 20;
    const RunOutcome o = run_container(c, s, {.timeout = 60s});
    CHECK(o.exit_code == 137);
    CHECK_FALSE(o.succeeded());
    if (is_podman()) {
        // podman 4.3 does not set State.OOMKilled for a container killed by
        // the cgroup OOM killer; the exit code is all there is
        MESSAGE("podman does not report OOMKilled: checked the exit code only");
    } else {
        CHECK(o.oom_killed);
        CHECK(o.describe().find("out-of-memory") != std::string::npos);
    }
}

TEST_CASE("stop: SIGTERM, then SIGKILL after the grace period") {
    DockerClient c(docker_socket());
    ContainerSpec s = sh("trap 'exit 143' TERM; while true; do sleep 0.1; done");
    const std::string id = c.create_container(s);
    auto wait = c.open_wait(id);
    c.start_container(id);
    c.stop_container(id, 10);
    const auto r = wait->wait_until(std::chrono::steady_clock::now() + 30s);
    REQUIRE(r.has_value());
    CHECK(r->status_code == 143);  // the container's own TERM handler ran
    c.remove_container(id);
}

TEST_CASE("pull by tag and by digest from a registry on loopback") {
    const std::string registry = require_env("MLWM_TEST_REGISTRY");
    DockerClient c(docker_socket());
    const std::string repo = registry + "/mlwm-test/busybox";
    // the registry holds the test image (pushed by run.sh); make sure the engine does not
    shell("DOCKER_HOST=unix://" + docker_socket() + " docker rmi -f " + repo +
          ":1 >/dev/null 2>&1 || true");
    REQUIRE_FALSE(c.inspect_image(repo + ":1").has_value());
    std::string progress;
    c.pull_image(parse_image_ref(repo + ":1"), [&](const std::string& t) { progress += t; });
    CHECK(c.inspect_image(repo + ":1").has_value());
    CHECK_FALSE(progress.empty());

    const std::string digest = shell(
        "curl -sfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://" +
        registry +
        "/v2/mlwm-test/busybox/manifests/1 | tr -d '\\r' | awk -F': ' "
        "'tolower($1)==\"docker-content-digest\"{print $2}'");
    REQUIRE(digest.starts_with("sha256:"));
    const ImageRef pinned = parse_image_ref(repo + "@" + digest.substr(0, 71));
    CHECK_NOTHROW(c.pull_image(pinned));
    CHECK(c.inspect_image(pinned.str()).has_value());

    try {
        c.pull_image(parse_image_ref(repo + ":no-such-tag"));
        FAIL("pulling a missing tag succeeded");
    } catch (const DockerError& e) {
        const std::string m = e.what();
        CAPTURE(m);
        CHECK(m.find("pull " + repo + ":no-such-tag") == 0);
        CHECK((m.find("not found") != std::string::npos || m.find("unknown") != std::string::npos));
    }
}

TEST_SUITE_END();

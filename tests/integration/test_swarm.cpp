// Docker Swarm replicated jobs through DockerClient, on the cluster of
// tests/services/swarm.sh (3 dockerd in network namespaces, 2 fake GPUs
// each): idempotent submission, exit codes, logs, GPU accounting, the node's
// own engine socket inside a job. Needs MLWM_TEST_SWARM_MANAGER.
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "docker/client.hpp"
#include "docker/swarm.hpp"
#include "test_env.hpp"

using namespace mlwm::docker;
using namespace std::chrono_literals;

namespace {

swarm::JobSpec job(const std::string& name, const std::string& script, int gpus = 0) {
    return {.name = name,
            .image = "mlwm-test/busybox:1",
            .args = {"sh", "-c", script},
            .labels = {{"org.mlwm.test", "1"}},
            .gpus = gpus};
}

// Until every job is final (or the deadline), sampling how many ran at once:
// every job's tasks in one request, the manager's state at one instant (one
// request per job let a job that had ended and its GPU's next job both count)
struct Watch {
    std::map<std::string, swarm::JobStatus> last;
    int most_running = 0;
    bool saw_insufficient = false;
};
Watch watch(DockerClient& c, const std::vector<std::string>& names, std::chrono::seconds limit) {
    Watch w;
    std::map<std::string, std::string> name_of;  // service ID -> name
    for (const auto& n : names)
        if (const auto s = c.inspect_service(n)) name_of[s->value("ID", "")] = n;
    REQUIRE(name_of.size() == names.size());
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        std::map<std::string, std::vector<swarm::Task>> tasks;
        for (auto& t : c.list_tasks(names)) tasks[name_of.at(t.service_id)].push_back(std::move(t));
        int running = 0, final = 0;
        for (const auto& n : names) {
            const auto s = swarm::job_status(tasks[n]);
            w.last[n] = s;
            running += s.phase == swarm::JobPhase::running;
            final += s.phase == swarm::JobPhase::succeeded || s.phase == swarm::JobPhase::failed;
            w.saw_insufficient |= s.message.find("insufficient resources") != std::string::npos;
        }
        w.most_running = std::max(w.most_running, running);
        if (final == static_cast<int>(names.size())) break;
        std::this_thread::sleep_for(100ms);
    }
    return w;
}

}  // namespace

TEST_SUITE_BEGIN("swarm");

TEST_CASE(
    "swarm: a job runs once; its exit code, node and logs are read; a second submission is a "
    "no-op") {
    DockerClient c(mlwm::test::require_env("MLWM_TEST_SWARM_MANAGER"));
    const std::string name = swarm::job_name("swarm-test/2023-10-01T1200Z/member0", 1);
    c.remove_service(name);
    const auto id = c.create_service(swarm::service_create_body(
        job(name, "echo to-stdout; echo to-stderr >&2; sleep 1; exit 3")));
    REQUIRE(id);
    CHECK_FALSE(c.create_service(swarm::service_create_body(job(name, "exit 0"))));  // 409
    const Watch w = watch(c, {name}, 60s);
    const auto s = w.last.at(name);
    CHECK(s.phase == swarm::JobPhase::failed);
    CHECK(s.exit_code == 3);
    const std::string logs = c.service_logs(*id);
    CHECK(logs.find("to-stdout") != std::string::npos);
    CHECK(logs.find("to-stderr") != std::string::npos);
    CHECK(c.list_tasks({name}).size() == 1);  // RestartPolicy none: never a second task
    c.remove_service(name);
    CHECK_FALSE(c.inspect_service(name));
    c.remove_service(name);  // gone already: fine
}

TEST_CASE("swarm: 8 one-GPU jobs on 3 nodes x 2 GPUs: at most 6 at once, no GPU shared") {
    DockerClient c(mlwm::test::require_env("MLWM_TEST_SWARM_MANAGER"));
    const auto gpus = swarm::generic_resources(c.list_nodes(), "NVIDIA-GPU");
    REQUIRE(gpus.size() == 3);
    for (const auto& [node, n] : gpus) CHECK(n == 2);
    std::vector<std::string> names;
    std::map<std::string, std::string> ids;
    for (int i = 0; i < 8; ++i) {
        names.push_back(swarm::job_name("gpu-test/2023-10-01T1200Z/member" + std::to_string(i), 1));
        c.remove_service(names.back());
        const auto id = c.create_service(swarm::service_create_body(
            job(names.back(),
                "echo start=$(date +%s) $(tr '\\0' '\\n' </proc/1/environ | grep DOCKER_RESOURCE); "
                "sleep 4",
                1)));
        REQUIRE(id);
        ids[names.back()] = *id;
    }
    const Watch w = watch(c, names, 90s);
    CHECK(w.most_running <= 6);
    CHECK(w.most_running >= 5);  // the cluster's 6 GPUs were used together
    CHECK(w.saw_insufficient);   // the 7th and 8th waited for a GPU
    // each job saw exactly one GPU (in its first process's environment: shells
    // drop a name with '-' from their children's); two jobs with the same GPU never overlapped
    std::vector<std::pair<std::string, long>> seen;  // GPU id, start
    const std::regex line(R"(start=(\d+) DOCKER_RESOURCE_NVIDIA-GPU=(GPU-n\d-[a-z])\s)");
    for (const auto& n : names) {
        CHECK(w.last.at(n).phase == swarm::JobPhase::succeeded);
        const std::string logs = c.service_logs(ids[n]);
        std::smatch m;
        REQUIRE_MESSAGE(std::regex_search(logs, m, line), logs);
        seen.emplace_back(m[2], std::stol(m[1]));
        c.remove_service(n);
    }
    for (std::size_t a = 0; a < seen.size(); ++a)
        for (std::size_t b = a + 1; b < seen.size(); ++b)
            if (seen[a].first == seen[b].first)
                CHECK_MESSAGE(std::labs(seen[a].second - seen[b].second) >= 4,
                              seen[a].first << " shared at once");
    // a job asking for more GPUs than any node has would wait forever: known up front
    int largest = 0;
    for (const auto& [node, n] : gpus) largest = std::max(largest, n);
    CHECK(largest == 2);
}

TEST_CASE("swarm: a job reaches the engine of the node it runs on") {
    DockerClient c(mlwm::test::require_env("MLWM_TEST_SWARM_MANAGER"));
    const std::string name = swarm::job_name("socket-test/2023-10-01T1200Z/member0", 1);
    c.remove_service(name);
    auto spec = job(name, "test -S /var/run/docker.sock");
    spec.mounts = {
        {mlwm::test::require_env("MLWM_TEST_SWARM_NODE_SOCKET"), "/var/run/docker.sock"}};
    REQUIRE(c.create_service(swarm::service_create_body(spec)));
    const Watch w = watch(c, {name}, 60s);
    CHECK(w.last.at(name).phase == swarm::JobPhase::succeeded);
    CHECK(w.last.at(name).exit_code == 0);
    c.remove_service(name);
}

TEST_CASE("swarm: stopping a running job stops its container on its node, then removes it") {
    DockerClient c(mlwm::test::require_env("MLWM_TEST_SWARM_MANAGER"));
    const std::string name = swarm::job_name("stop-test/2023-10-01T1200Z/member0", 1);
    c.remove_service(name);
    REQUIRE(c.create_service(swarm::service_create_body(job(name, "sleep 300"))));
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    std::string container;
    while (container.empty() && std::chrono::steady_clock::now() < deadline) {
        const auto tasks = c.list_tasks({name});
        if (!tasks.empty() && tasks.front().state == "running")
            container = tasks.front().container_id;
        std::this_thread::sleep_for(100ms);
    }
    REQUIRE_FALSE(container.empty());
    c.stop_service(name);
    CHECK_FALSE(c.inspect_service(name));
    // on no node does the job's container still run
    std::istringstream nodes(mlwm::test::require_env("MLWM_TEST_SWARM_NODES"));
    for (std::string sock; nodes >> sock;) {
        DockerClient node(sock);
        for (const auto& k : node.list_containers({"org.mlwm.test=1"})) {
            const bool still_running =
                k.id.starts_with(container.substr(0, 12)) && k.state == "running";
            CHECK_MESSAGE(!still_running, "the stopped job's container still runs on " << sock);
        }
    }
}

TEST_SUITE_END();

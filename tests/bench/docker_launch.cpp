// Benchmark: start-to-exit of a trivial container on one engine, alternating
// three clients each round:
//   mlwm   mlwm's client in process (create, open wait, start, wait, inspect, delete)
//   cli    `docker run --rm --network none IMAGE true` (the Docker CLI)
//   floor  the engine's own floor: create / start / wait / delete made with bare
//          `curl --unix-socket` from a shell
// Reports per tool the median and mean wall time and the client CPU (user+sys)
// per launch, the ratios, and 20 launches at once: mlwm threads vs 20 CLI runs.
//
// usage: mlwm_bench_docker_launch SOCKET IMAGE [ROUNDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docker/client.hpp"
#include "docker/run.hpp"

using namespace mlwm::docker;
using Clock = std::chrono::steady_clock;

namespace {

struct Sample {
    double wall_ms;
    double cpu_ms;
};

double cpu_ms(const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

// Runs `sh -c script` and returns wall and the child's CPU.
Sample run_shell(const std::string& script) {
    const auto t0 = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "command failed: %s\n", script.c_str());
        std::exit(1);
    }
    return {wall, cpu_ms(ru)};
}

Sample run_mlwm(DockerClient& client, const ContainerSpec& spec) {
    rusage before{}, after{};
    ::getrusage(RUSAGE_THREAD, &before);
    const auto t0 = Clock::now();
    const RunOutcome o = run_container(client, spec, {});
    const double wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ::getrusage(RUSAGE_THREAD, &after);
    if (o.exit_code != 0) {
        std::fprintf(stderr, "mlwm launch: exit %lld\n", static_cast<long long>(o.exit_code));
        std::exit(1);
    }
    return {wall, cpu_ms(after) - cpu_ms(before)};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
double mean(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s SOCKET IMAGE [ROUNDS]\n", argv[0]);
        return 2;
    }
    const std::string socket = argv[1], image = argv[2];
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 30;
    DockerClient client(socket);
    client.ping();
    ContainerSpec spec;
    spec.image = image;
    spec.command = {"true"};
    spec.labels = {{"org.mlwm.test", "bench"}};

    const std::string cli = "DOCKER_HOST=unix://" + socket + " docker run --rm --network none " +
                            image + " true >/dev/null";
    const std::string c = "curl -sf --unix-socket " + socket + " ";
    const std::string api = "http://d/v" + client.api_version();
    const std::string floor =
        "id=$(" + c + "-X POST -H 'Content-Type: application/json' -d '{\"Image\":\"" + image +
        "\",\"Cmd\":[\"true\"],\"HostConfig\":{\"NetworkMode\":\"none\"}}' " + api +
        "/containers/create | sed 's/.*\"Id\":\"\\([0-9a-f]*\\)\".*/\\1/') && " + c + "-X POST " +
        api + "/containers/$id/start && " + c + "-X POST \"" + api +
        "/containers/$id/wait?condition=not-running\" >/dev/null && " + c + "-X DELETE " + api +
        "/containers/$id";

    // warm-up: image layers in the page cache, connections, binaries
    run_mlwm(client, spec);
    run_shell(cli);
    run_shell(floor);

    const char* names[] = {"mlwm", "cli", "floor"};
    std::vector<double> wall[3], cpu[3];
    for (int r = 0; r < rounds; ++r) {
        for (int k = 0; k < 3; ++k) {
            const int tool = (r + k) % 3;  // rotate the order every round
            const Sample s =
                tool == 0 ? run_mlwm(client, spec) : run_shell(tool == 1 ? cli : floor);
            wall[tool].push_back(s.wall_ms);
            cpu[tool].push_back(s.cpu_ms);
        }
    }
    std::printf("engine %s (API %s), %d rounds, one trivial container per launch\n",
                client.version().version.c_str(), client.api_version().c_str(), rounds);
    std::printf("%-6s %12s %12s %14s\n", "tool", "wall med ms", "wall mean ms", "client CPU ms");
    for (int t = 0; t < 3; ++t)
        std::printf("%-6s %12.1f %12.1f %14.2f\n", names[t], median(wall[t]), mean(wall[t]),
                    mean(cpu[t]));
    const double added = median(wall[0]) - median(wall[2]);
    const double cpu_ratio = mean(cpu[0]) / mean(cpu[1]);
    std::printf("mlwm wall - floor wall (medians): %+.1f ms   (target <= +10 ms)\n", added);
    std::printf("mlwm CPU / CLI CPU per launch:    %.3f      (target <= 0.2)\n", cpu_ratio);
    std::printf("mlwm wall / CLI wall (medians):   %.3f\n", median(wall[0]) / median(wall[1]));

    // 20 at once
    constexpr int kParallel = 20;
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < kParallel; ++i)
        threads.emplace_back([&] { run_container(client, spec, {}); });
    for (auto& t : threads) t.join();
    const double mlwm_par = std::chrono::duration<double>(Clock::now() - t0).count();
    ::getrusage(RUSAGE_SELF, &after);
    const double mlwm_par_cpu = cpu_ms(after) - cpu_ms(before);
    std::string script;
    for (int i = 0; i < kParallel; ++i) script += cli.substr(0, cli.size() - 10) + " >/dev/null & ";
    script += "wait";
    const Sample cli_par = run_shell(script);
    std::printf(
        "%d at once: mlwm %.2f s wall, %.0f ms CPU; docker CLI %.2f s wall, %.0f ms CPU; wall "
        "ratio %.2f\n",
        kParallel, mlwm_par, mlwm_par_cpu, cli_par.wall_ms / 1e3, cli_par.cpu_ms,
        mlwm_par / (cli_par.wall_ms / 1e3));
    const bool ok = added <= 10.0 && cpu_ratio <= 0.2;
    std::printf("targets %s\n", ok ? "met" : "NOT met");
    return ok ? 0 : 1;
}

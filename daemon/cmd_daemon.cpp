// `mlwm daemon` and `mlwm status`: the long-running scheduler service.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <curl/curl.h>
#include <malloc.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "command.hpp"
#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "docker/registry_auth.hpp"
#include "docker/swarm.hpp"
#include "endpoints.hpp"
#include "http/server.hpp"
#include "ledger/ledger.hpp"
#include "loading.hpp"
#include "schedule/scheduler.hpp"
#include "telemetry/log.hpp"
#include "telemetry/log_events.hpp"
#include "telemetry/metrics.hpp"
#include "util/curl_global.hpp"
#include "util/instance_lock.hpp"
#include "util/text.hpp"
#include "version.hpp"

namespace mlwm::app {
namespace {
namespace asio = boost::asio;
namespace ev = telemetry::events;

// systemd's notification protocol (a no-op without NOTIFY_SOCKET)
void notify(const std::string& message) {
    sd_notify(0, message.c_str());
}

// Ends the daemon at once, as SIGTERM does: running containers are left to
// the next start (adopted), and no destructor races the threads that still
// use the ledger or the engine client.
[[noreturn]] void fatal(telemetry::Logger& log, const std::string& why) {
    log.error(ev::kDaemonError,
              why + "; exiting (running containers are adopted at the next start)");
    std::fflush(stdout);
    std::cerr << "mlwm daemon: " << why << "\n" << std::flush;  // for whoever started it
    std::_Exit(kExitFailure);
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

// One daemon per state folder: a second one would launch the same runs.
void lock_state_dir(const std::filesystem::path& state_dir,
                    std::optional<util::InstanceLock>& lock) {
    std::filesystem::create_directories(state_dir);
    try {
        lock.emplace(state_dir / "daemon.lock");
    } catch (const util::InstanceLockError& e) {
        if (!e.held) throw;
        throw std::runtime_error("another mlwm daemon" +
                                 (e.holder_pid.empty() ? "" : " (pid " + e.holder_pid + ")") +
                                 " uses the state folder " + state_dir.string() +
                                 "; one daemon per state folder: stop that one first");
    }
}

// Every S3 request and byte, counted in the metrics.
storage::S3Counters s3_counters(telemetry::Metrics& metrics) {
    return {.on_request =
                [&metrics](const std::string& operation, long status) {
                    metrics.s3_requests
                        .Add({{"operation", operation}, {"status", std::to_string(status)}})
                        .Increment();
                },
            .on_bytes =
                [&metrics](bool upload, std::uint64_t bytes) {
                    metrics.s3_bytes.Add({{"direction", upload ? "upload" : "download"}})
                        .Increment(static_cast<double>(bytes));
                }};
}

// The engine's health, checked off the event loop every 10 s (SIGTERM ends
// the process without waiting for this thread).
void watch_engine(docker::DockerClient& docker, std::atomic<bool>& ok) {
    std::thread([&docker, &ok] {
        for (;;) {
            try {
                docker.ping();
                ok = true;
            } catch (const std::exception&) {
                ok = false;
            }
            std::this_thread::sleep_for(std::chrono::seconds(10));
        }
    }).detach();
}

// A swarm runner's image by digest, as the manager knows it for the tag
// (workers pull a tag for every job, and a moved tag would run another mlwm
// on some nodes); the tag, with a warning, when it has no registry digest.
std::string pinned(docker::DockerClient& manager, const config::RunnerConfig& runner,
                   telemetry::Logger& log) {
    if (runner.image.find('@') != std::string::npos) return runner.image;
    std::optional<std::string> digest;
    std::string why = "the manager has no registry digest for it (built or loaded, not pulled)";
    try {
        const auto inspect = manager.inspect_image(runner.image);
        if (!inspect) why = "the manager does not have it";
        digest = docker::swarm::pinned_image(runner.image, inspect.value_or(nlohmann::json()));
    } catch (const std::exception& e) {
        why = std::string("the manager did not answer: ") + e.what();
    }
    if (digest) {
        log.info(ev::kRunnerImage, "jobs run " + *digest + " (runner.image " + runner.image +
                                       ", pinned to its digest)");
        return *digest;
    }
    log.warn(ev::kRunnerImage, "jobs run " + runner.image + " by tag: " + why +
                                   "; workers pull a tag for every job -- push the image to the "
                                   "cluster's registry and set runner.image to NAME@sha256:...");
    return runner.image;
}

// SIGHUP: the model configurations again; applied only if all are valid.
// Returns the outcome, for systemd's status line.
std::string reload(const cli::ParsedArgs& a, const config::HostConfig& running,
                   schedule::Scheduler& scheduler, telemetry::Logger& log) {
    Loaded fresh;
    try {
        fresh = load_all(a, std::nullopt);
    } catch (const std::exception& e) {
        fresh.issues.push_back({.message = e.what()});
    }
    if (!fresh.issues.empty()) {
        const std::string outcome =
            "kept the running configuration: " + fresh.issues.front().str() +
            (fresh.issues.size() > 1 ? " (and " + std::to_string(fresh.issues.size() - 1) + " more)"
                                     : "");
        log.error(ev::kConfigReloadFailed, outcome);
        return outcome;
    }
    std::string outcome = std::to_string(fresh.models.size()) + " model(s) loaded";
    log.info(ev::kConfigReloaded, outcome);
    scheduler.reload(std::move(fresh.models));
    if (const auto keys = config::changed_host_keys(running, fresh.host); !keys.empty()) {
        const std::string list = util::join(keys, ", ");
        log.log(
            telemetry::Level::warning, ev::kConfigRestartNeeded,
            (running.file.empty() ? std::string("the host configuration") : running.file.string()) +
                " changed (" + list +
                "): these take effect at the next start; the running daemon keeps the "
                "values it started with",
            {}, {{"keys", list}});
        outcome += "; " + list + " need a restart";
    }
    return outcome;
}

// systemd's status line and watchdog, from the event loop itself: a stuck
// loop stops the pings, and systemd restarts the daemon.
class StatusTicker {
public:
    StatusTicker(asio::io_context& io, schedule::Scheduler& scheduler, ledger::Ledger& ledger)
        : timer_(io), scheduler_(scheduler), ledger_(ledger) {
        watchdog_ = sd_watchdog_enabled(0, &watchdog_usec_) > 0;
        tick();
    }

private:
    void tick() {
        std::string line =
            "STATUS=" + std::to_string(scheduler_.active_runs()) + " run(s) active, ";
        try {
            auto counts = ledger_.count_by_state();
            line += std::to_string(counts[run::RunState::succeeded]) + " succeeded, " +
                    std::to_string(counts[run::RunState::failed]) + " failed";
        } catch (const std::exception& e) {
            line += std::string("the ledger cannot be read: ") + e.what();
        }
        notify(line + (watchdog_ ? "\nWATCHDOG=1" : ""));
        timer_.expires_after(watchdog_ ? std::chrono::microseconds(watchdog_usec_ / 3)
                                       : std::chrono::microseconds(10'000'000));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) tick();
        });
    }
    asio::steady_timer timer_;
    schedule::Scheduler& scheduler_;
    ledger::Ledger& ledger_;
    bool watchdog_ = false;
    std::uint64_t watchdog_usec_ = 0;
};

int daemon_main(const cli::ParsedArgs& a) {
    // Two malloc arenas instead of glibc's one per thread (up to 8 per core):
    // the daemon's threads mostly wait, and each arena keeps what its thread
    // freed resident. tests/bench/daemon_idle.sh: anonymous memory outside
    // the heap 1184 -> 708 KiB idle, the daemon's share 8.1 -> 7.7 MiB.
    // Before any thread starts; MALLOC_ARENA_MAX in the environment wins.
    if (!std::getenv("MALLOC_ARENA_MAX")) ::mallopt(M_ARENA_MAX, 2);
    Loaded l = load_all(a, std::nullopt);
    const std::string format = a.get("log-format").value_or(l.host.log_format);
    if (format != "json" && format != "text")
        throw std::invalid_argument("--log-format '" + format + "': expected json or text");
    telemetry::Logger log(
        format == "json" ? telemetry::Logger::Format::json : telemetry::Logger::Format::text,
        telemetry::stdout_is_journal());
    if (!l.issues.empty()) {
        for (const auto& i : l.issues) log.error(ev::kConfigReloadFailed, i.str());
        std::cerr << "mlwm daemon: the configuration is not valid (" << l.issues.size()
                  << " problem(s)); see 'mlwm validate'\n";
        return kExitUsage;
    }
    log.info(ev::kDaemonStarting, std::string("mlwm ") + version::kFullVersion + ", " +
                                      std::to_string(l.models.size()) +
                                      " model(s), configuration " +
                                      (l.host.file.empty() ? "(defaults)" : l.host.file.string()));
    std::optional<util::InstanceLock> instance;
    if (!a.has("dry-run")) lock_state_dir(l.host.state_dir, instance);
    telemetry::Metrics metrics(version::kVersion, version::kGitRevision);
    ledger::Ledger ledger(l.host.state_dir / "ledger.sqlite3");
    // runner swarm: the engine the daemon speaks to is a swarm manager's
    docker::DockerClient docker(l.host.runner.swarm() ? l.host.runner.manager
                                                      : l.host.docker_socket);
    docker.set_registry_auth(docker::registry_auth_for);  // private registries, as docker pull
    docker.set_request_observer([&metrics](const std::string& kind, long status) {
        metrics.docker_requests.Add({{"operation", kind}, {"status", std::to_string(status)}})
            .Increment();
    });
    const auto stores = run::store_factory(l.host, s3_counters(metrics));
    // (a copy: a reload compares the configuration as written)
    config::HostConfig host = l.host;
    if (host.runner.swarm() && !a.has("dry-run"))
        host.runner.image = pinned(docker, host.runner, log);

    asio::io_context io;
    schedule::Scheduler scheduler(io, {.host = host,
                                       .models = l.models,
                                       .stores = stores,
                                       .docker = &docker,
                                       .swarm = l.host.runner.swarm() ? &docker : nullptr,
                                       .ledger = &ledger,
                                       .log = &log,
                                       .metrics = &metrics,
                                       .mlwm_version = version::kFullVersion});
    if (a.has("dry-run")) {
        std::cout << scheduler.dry_run().dump(2) << "\n";
        return kExitOk;
    }

    std::atomic<bool> engine_ok{false};
    watch_engine(docker, engine_ok);

    // From here on, threads use the ledger and the engine client: the daemon
    // never returns (its objects would be destroyed under them); it exits.
    try {
        http::Server server(io, a.get("listen").value_or(l.host.http_listen),
                            endpoint_handler({metrics, ledger, engine_ok, scheduler}));
        log.log(telemetry::Level::info, ev::kHttpListening,
                "serving /metrics /livez /readyz /status on port " + std::to_string(server.port()),
                {}, {{"port", std::to_string(server.port())}});

        asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
        std::function<void()> wait_signal;
        wait_signal = [&] {
            signals.async_wait([&](const boost::system::error_code& ec, int sig) {
                if (ec) return;
                if (sig == SIGHUP) {
                    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) +
                           "\nSTATUS=reloading the configuration");
                    notify("READY=1\nSTATUS=reload: " + reload(a, l.host, scheduler, log));
                    return wait_signal();
                }
                // SIGTERM: no new runs; running containers go on (adopted at the next start)
                notify("STOPPING=1\nSTATUS=stopping");
                scheduler.stop_launching();
                server.stop();
                log.info(ev::kDaemonStopping, std::to_string(scheduler.active_runs()) +
                                                  " run(s) in progress are left to their "
                                                  "containers; the ledger is up to date");
                log.info(ev::kDaemonStopped, "stopped");
                std::fflush(stdout);
                std::_Exit(0);  // runs block in their threads: do not wait for them
            });
        };
        wait_signal();

        // READY=1 only after the ledger's runs were reconciled with the engine
        // (containers adopted); if the engine does not answer, the daemon runs but
        // launches nothing until it does, and says so
        const bool recovered = scheduler.start();
        notify(recovered ? "READY=1\nSTATUS=recovered; polling"
                         : "READY=1\nSTATUS=the container engine does not answer: recovery "
                           "deferred, nothing is launched");
        log.info(ev::kDaemonReady,
                 "ready: polling every " + std::to_string(l.host.poll_interval.count()) + " s");

        StatusTicker ticker(io, scheduler, ledger);
        // A handler that throws must not end the loop: the error is logged and the
        // loop goes on (the scheduler's own steps are guarded the same way).
        for (;;) {
            try {
                io.run();
                break;
            } catch (const std::exception& e) {
                log.error(ev::kDaemonError, std::string("an event-loop step failed: ") + e.what());
            }
        }
        // nothing stops the loop but SIGTERM, which exits in its handler
        fatal(log, "the event loop ended unexpectedly");
    } catch (const std::exception& e) {
        fatal(log, e.what());
    }
}

// GET a URL; nullopt if nothing answers.
std::optional<std::string> http_get(const std::string& url) {
    util::curl_global_once();
    CURL* c = curl_easy_init();
    std::string body;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
            static_cast<std::string*>(u)->append(d, s * n);
            return s * n;
        });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    long status = 0;
    const bool ok = curl_easy_perform(c) == CURLE_OK &&
                    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                    status == 200;
    curl_easy_cleanup(c);
    return ok ? std::optional(body) : std::nullopt;
}

int status_main(const cli::ParsedArgs& a) {
    Loaded l = load_all(a, std::nullopt);
    nlohmann::json runs;
    std::string source;
    if (auto body =
            http_get("http://" + a.get("listen").value_or(l.host.http_listen) + "/status")) {
        runs = nlohmann::json::parse(*body)["recent_runs"];
        source = "the daemon at " + l.host.http_listen;
    } else {
        ledger::Ledger ledger(l.host.state_dir / "ledger.sqlite3");
        runs = nlohmann::json::array();
        for (const auto& r : ledger.recent(50))
            runs.push_back({{"run_id", r.run_id},
                            {"state", run::state_name(r.state)},
                            {"attempt", r.attempt},
                            {"message", r.message}});
        source = "the ledger " + (l.host.state_dir / "ledger.sqlite3").string() +
                 " (the daemon does not answer)";
    }
    if (a.has("json")) {
        std::cout << runs.dump(2) << "\n";
        return kExitOk;
    }
    // the ledger's attempt counts retries
    std::printf("%-45s %-15s %-7s %s\n", "RUN", "STATE", "RETRIES", "MESSAGE");
    for (const auto& r : runs)
        std::printf("%-45s %-15s %-7d %s\n", r["run_id"].get<std::string>().c_str(),
                    r["state"].get<std::string>().c_str(), r["attempt"].get<int>(),
                    r["message"].get<std::string>().c_str());
    std::fflush(stdout);
    std::cerr << "from " << source << "\n";
    return kExitOk;
}

}  // namespace

std::vector<Command> daemon_commands() {
    cli::CommandSpec daemon_spec{
        .path = "daemon",
        .summary = "the scheduler service: find new analysis times, run the models, publish",
        .description =
            "Polls each input's prefix in S3 (ListObjectsV2, delimiter '/', start-after the "
            "newest\n"
            "analysis time seen), runs every model whose inputs are complete for a new analysis\n"
            "time (concurrency.runs at a time; failed runs are retried with backoff up to\n"
            "max_attempts), and records every transition in the run ledger (state_dir) before\n"
            "acting on it. Serves /metrics, /livez, /readyz and /status on http.listen. Logs one\n"
            "JSON object per line. systemd: Type=notify (READY, STATUS, WATCHDOG). SIGTERM stops\n"
            "launching and exits, leaving running containers; SIGHUP reloads the configurations\n"
            "(an invalid one is logged and the old one kept).",
        .options =
            {
                {"config", "PATH",
                 "host configuration (default: $MLWM_CONFIG, /etc/mlwm/mlwm.yaml, or defaults)"},
                {"dry-run", "", "poll once, print what would run now, and exit"},
                {"log-format", "FORMAT", "json (default: the configuration's) or text"},
                {"listen", "HOST:PORT", "HTTP address (default: the configuration's http.listen)"},
            },
        .positionals = {},
    };
    cli::CommandSpec status_spec{
        .path = "status",
        .summary = "the recent runs, from the daemon or, when it is down, from the ledger",
        .description =
            "Asks the running daemon (GET /status on http.listen); when it does not answer,\n"
            "reads the run ledger in state_dir.",
        .options = {{"config", "PATH", "host configuration"},
                    {"json", "", "print JSON"},
                    {"listen", "HOST:PORT", "the daemon's HTTP address"}},
        .positionals = {},
    };
    return {{daemon_spec, daemon_main}, {status_spec, status_main}};
}

}  // namespace mlwm::app

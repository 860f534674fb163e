// `mlwm rerun` and `mlwm cancel`: an operator's say over one forecast cycle.
// Both act on the run ledger in state_dir (write access to it is the
// authorisation: the daemon's user or root); the daemon picks the change up at
// its next poll. `cancel` also stops the run's container through the engine.
#include <cstdio>
#include <iostream>

#include "command.hpp"
#include "docker/client.hpp"
#include "docker/error.hpp"
#include "ledger/ledger.hpp"
#include "loading.hpp"
#include "run/plan.hpp"
#include "schedule/decide.hpp"
#include "schedule/run_driver.hpp"

namespace mlwm::app {
namespace {
using run::RunState;

struct Target {
    const config::ModelConfig* model = nullptr;
    paths::AnalysisTime time;
    std::vector<paths::Member> members;
};

// MODEL TIME [--member N]: a configured model, its members (or the one asked for).
Target target_of(const cli::ParsedArgs& a, const Loaded& l, const std::string& command) {
    Target t;
    const std::string& name = a.positionals.at(0);
    std::string names;
    for (const auto& m : l.models) {
        if (m.name == name) t.model = &m;
        names += (names.empty() ? "" : ", ") + m.name;
    }
    if (!t.model)
        throw cli::UsageError("mlwm " + command + ": no model '" + name + "' in " +
                              l.host.configurations_dir.string() +
                              " (configured: " + (names.empty() ? "none" : names) + ")");
    t.time = paths::parse_iso8601_time(a.positionals.at(1));
    if (auto m = a.get("member")) {
        const paths::Member member = paths::parse_member("member" + *m);
        if (std::find(t.model->members.begin(), t.model->members.end(), member) ==
            t.model->members.end())
            throw cli::UsageError("mlwm " + command + ": --member " + *m + ": model '" + name +
                                  "' runs members " + [&] {
                                      std::string s;
                                      for (auto x : t.model->members)
                                          s += (s.empty() ? "" : ", ") + std::to_string(x);
                                      return s;
                                  }());
        t.members = {member};
    } else {
        t.members = t.model->members;
    }
    return t;
}

Loaded load_valid(const cli::ParsedArgs& a, const std::string& command) {
    Loaded l = load_all(a, std::nullopt);
    if (!l.issues.empty()) {
        for (const auto& i : l.issues) std::cerr << i.str() << "\n";
        throw cli::UsageError("mlwm " + command + ": the configuration is not valid");
    }
    return l;
}

int rerun_main(const cli::ParsedArgs& a) {
    const Loaded l = load_valid(a, "rerun");
    const Target t = target_of(a, l, "rerun");
    ledger::Ledger ledger(l.host.state_dir / "ledger.sqlite3");
    schedule::RunDriver driver(ledger, util::system_clock());
    int refused = 0;
    for (auto member : t.members) {
        const schedule::RunKey key{t.model->name, t.time, member};
        const std::string id = key.id();
        const auto change = driver.rerun(key.new_run(), "rerun requested by an operator");
        const auto& before = *change.before;
        if (!change.changed) {
            std::printf("%s: in progress (%s); not changed ('mlwm cancel' first)\n", id.c_str(),
                        std::string(run::state_name(before.state)).c_str());
            ++refused;
            continue;
        }
        std::printf(
            "%s: scheduled again (was %s); runs at the daemon's next poll, even if "
            "published\n",
            id.c_str(), std::string(run::state_name(before.state)).c_str());
    }
    std::fflush(stdout);
    return refused ? kExitFailure : kExitOk;
}

int cancel_main(const cli::ParsedArgs& a) {
    const Loaded l = load_valid(a, "cancel");
    const Target t = target_of(a, l, "cancel");
    ledger::Ledger ledger(l.host.state_dir / "ledger.sqlite3");
    schedule::RunDriver driver(ledger, util::system_clock());
    std::unique_ptr<docker::DockerClient> docker;
    int failed = 0;
    for (auto member : t.members) {
        const std::string id = run::run_id(t.model->name, t.time, member);
        // the ledger first: the daemon then neither retries nor publishes it
        const auto change = driver.cancel(id, "cancelled by an operator");
        const auto& rec = change.before;
        if (!rec) {
            std::printf("%s: not in the ledger (never seen by the daemon); nothing to cancel\n",
                        id.c_str());
            continue;
        }
        if (!change.changed) {
            std::printf("%s: already %s; nothing to cancel\n", id.c_str(),
                        std::string(run::state_name(rec->state)).c_str());
            continue;
        }
        std::string stopped;
        if (run::is_active(rec->state)) {
            try {
                if (l.host.runner.swarm()) {
                    // its job: shut down (its `mlwm run` stops the model container), then removed
                    if (!docker)
                        docker = std::make_unique<docker::DockerClient>(l.host.runner.manager);
                    for (const auto& j : docker->list_jobs())
                        if (j.run_id == id)
                            stopped += " swarm job " + j.name +
                                       (docker->stop_service(j.name)
                                            ? " stopped and removed;"
                                            : " stopping (its node does not answer);");
                } else {
                    if (!docker)
                        docker = std::make_unique<docker::DockerClient>(l.host.docker_socket);
                    for (const auto& c : docker->list_containers({"org.mlwm.run-id=" + id}))
                        if (c.state == "running" || c.state == "created") {
                            docker->stop_container(c.id, 10);
                            stopped += " container " + c.id.substr(0, 12) + " stopped;";
                        }
                }
            } catch (const std::exception& e) {
                std::printf(
                    "%s: cancelled in the ledger, but its container could not be "
                    "stopped: %s\n",
                    id.c_str(), e.what());
                ++failed;
                continue;
            }
        }
        std::printf("%s: cancelled (was %s);%s\n", id.c_str(),
                    std::string(run::state_name(rec->state)).c_str(),
                    stopped.empty() ? " no container was running" : stopped.c_str());
    }
    std::fflush(stdout);
    return failed ? kExitFailure : kExitOk;
}

cli::CommandSpec spec(const std::string& path, const std::string& summary,
                      const std::string& description, const std::string& example) {
    return {.path = path,
            .summary = summary,
            .description = description,
            .options = {{"config", "PATH", "host configuration"},
                        {"member", "N", "only this member (default: every member of the model)"}},
            .positionals = {{"MODEL", "a configured model"},
                            {"TIME", "the analysis time, ISO 8601, e.g. 2023-10-01T12:00Z"}},
            .epilog = "example:\n  " + example};
}

}  // namespace

std::vector<Command> runs_commands() {
    return {
        {spec(
             "rerun", "run one forecast cycle again, even if it was published",
             "Puts the model's runs for TIME back to waiting_inputs in the run ledger, with their\n"
             "attempts reset; the daemon runs them at its next poll and overwrites the published\n"
             "outputs and run marker. A run in progress is left alone (cancel it first).",
             "mlwm rerun persistence 2023-10-01T12:00Z"),
         rerun_main},
        {spec("cancel", "stop one forecast cycle: no run, no retry, no publication",
              "Marks the model's runs for TIME cancelled in the run ledger (a final state: the\n"
              "daemon neither retries nor publishes them) and stops their running containers\n"
              "(SIGTERM, SIGKILL after 10 s); with runner: swarm, its job is shut down and "
              "removed.\n"
              "'mlwm rerun' brings a cancelled run back.",
              "mlwm cancel persistence 2023-10-01T12:00Z --member 0"),
         cancel_main},
    };
}

}  // namespace mlwm::app

// The daemon's scheduler: polls the input prefixes, decides which runs are
// ready, runs them (bounded concurrency), and writes every transition to the
// ledger before the action it starts. Its state lives on the io_context's
// thread; blocking work (S3 listings and HEADs, runs) goes to a thread pool
// and posts its results back.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "docker/engine.hpp"
#include "ledger/ledger.hpp"
#include "run/execute.hpp"
#include "schedule/deadlines.hpp"
#include "schedule/decide.hpp"
#include "schedule/discovery.hpp"
#include "schedule/run_driver.hpp"
#include "telemetry/log.hpp"
#include "telemetry/metrics.hpp"
#include "util/clock.hpp"

namespace mlwm::schedule {

struct SchedulerSetup {
    config::HostConfig host;
    std::vector<config::ModelConfig> models;
    run::StoreFactory stores;
    docker::Engine* docker;  // where runs execute
    // runner swarm: the manager; each run attempt is a replicated job
    // (run/swarm_execute.hpp), recovered by resubmitting under its name
    docker::DockerClient* swarm = nullptr;
    ledger::Ledger* ledger;
    telemetry::Logger* log;
    telemetry::Metrics* metrics;
    std::string mlwm_version;
    const util::Clock* clock = &util::system_clock();
};

class Scheduler {
public:
    Scheduler(boost::asio::io_context& io, SchedulerSetup setup);
    ~Scheduler();

    // Reconciles the ledger with the engine and the store (adopts the
    // containers of runs a stop left running, collects the ones that exited,
    // publishes outputs left unpublished, retries the rest), then polls every
    // poll_interval. Returns false if the engine could not be asked (the
    // reconciliation is retried at every poll; nothing is launched before).
    bool start();
    // SIGTERM: no new runs; running containers are left to finish.
    void stop_launching();
    // SIGHUP: new model configurations (already validated).
    void reload(std::vector<config::ModelConfig> models);

    // One poll, synchronously (for --dry-run): what would run now.
    nlohmann::ordered_json dry_run();

    nlohmann::ordered_json status();
    bool poll_recent() const;         // the last successful poll is recent (for /readyz)
    std::string poll_health() const;  // "ok (2 s ago)", "no successful poll for 40 s (...)"
    std::size_t active_runs() const;

    // A poll now (the timer's is cancelled; the next comes poll_interval
    // after it), and how many polls were applied so far: for tests, which
    // run the io_context until the count moves.
    void poll_now();
    std::size_t polls_applied() const { return polls_applied_.load(); }

private:
    bool reconcile();
    bool reconcile_swarm(const std::vector<ledger::RunRecord>& runs);
    static std::optional<paths::AnalysisTime> analysis_time_of(const ledger::RunRecord& r);
    // a run stopped by the previous daemon's end, retried if its model is configured
    void interrupted(const ledger::RunRecord& r, bool model_known);
    void model_metrics();  // every configured model's counters exist (at 0)
    // last success (unix seconds) and newest published analysis time of a model
    void success_gauges(const std::string& model, std::int64_t at,
                        const std::string& analysis_time);
    void guarded(const std::string& what, const std::function<void()>& step);
    void schedule_poll(std::chrono::steady_clock::duration after);
    std::chrono::seconds next_poll_delay() const;
    PollResult poll_blocking(const std::vector<config::ModelConfig>& models,
                             std::map<WatchPrefix, std::string> start_after);
    bool apply(PollResult result);  // true when it recorded many runs
    // The ledger's unfinished runs, by run id (decide's snapshot).
    std::map<std::string, ledger::RunRecord> unfinished_runs();
    void raise_late_alerts();
    void launch(const config::ModelConfig& model, const paths::AnalysisTime& t,
                paths::Member member, std::vector<std::string> gpus,
                std::optional<run::Resume> resume);
    void finished(const run::RunReport& report, int max_attempts, std::chrono::seconds retry_delay);
    // Removes a finished run's container once the ledger holds its outcome.
    void remove_container(const run::RunReport& report);
    // Removes the containers of this daemon's runs no attempt waits for
    // (schedule::is_stray); at the start and every kSweepInterval, on the pool.
    void sweep_strays();
    void sweep_stray_jobs(const std::set<std::string>& current_objects);
    const config::ModelConfig* model(const std::string& name) const;

    boost::asio::io_context& io_;
    SchedulerSetup s_;
    RunDriver driver_;
    boost::asio::thread_pool pool_;
    boost::asio::steady_timer timer_;
    bool launching_ = true;
    bool polling_ = false;
    bool first_poll_ = true;
    std::map<WatchPrefix, paths::AnalysisTime> newest_;  // per listing prefix
    std::map<WatchPrefix, std::set<paths::AnalysisTime>> seen_;
    bool reconciled_ = false;
    int failed_polls_ = 0;                     // in a row
    std::map<std::string, ActiveRun> active_;  // runs in progress, by run id
    std::set<std::string> foreign_;            // entries already reported
    std::set<std::string> unrunnable_;         // runs reported as impossible on this host
    std::map<std::string, std::unique_ptr<storage::ObjectStore>> poll_stores_;  // by bucket
    std::atomic<std::int64_t> last_ok_poll_{0};
    std::int64_t last_sweep_ = 0;  // unix seconds
    std::atomic<std::size_t> active_count_{0};
    std::atomic<std::size_t> polls_applied_{0};
};

}  // namespace mlwm::schedule

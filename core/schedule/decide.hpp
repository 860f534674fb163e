// The scheduler's decisions, pure: from what a poll found, a snapshot of the
// ledger, the runs in progress and the time, what to record, expire, publish
// again, start (and with which GPUs), keep waiting (and why), and which late
// alerts are due. The daemon's poll, its --dry-run and the hermetic tests
// all use these functions; the scheduler only carries their results out.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "ledger/ledger.hpp"
#include "schedule/admission.hpp"
#include "schedule/deadlines.hpp"
#include "schedule/discovery.hpp"
#include "util/time.hpp"

namespace mlwm::schedule {

// One run: a model's member for an analysis time.
struct RunKey {
    std::string model;
    paths::AnalysisTime time;
    paths::Member member = 0;
    std::string id() const;
    ledger::Ledger::NewRun new_run() const;
    friend auto operator<=>(const RunKey&, const RunKey&) = default;
};

// What a poll found (the I/O part: listings and completion checks).
struct PollResult {
    struct Listing {
        WatchPrefix prefix;
        std::vector<paths::AnalysisTime> times;
        std::vector<std::string> foreign;  // entries that are not an analysis time
        bool ok = true;
        std::string error;
    };
    std::vector<Listing> listings;
    std::vector<RunKey> ready;  // runs whose inputs are all complete now
};

// A run in progress in this daemon.
struct ActiveRun {
    std::string model;
    std::vector<std::string> gpus;
};

struct DecideInput {
    const std::vector<config::ModelConfig>& models;
    const config::HostConfig& host;
    const PollResult& poll;
    // the ledger's unfinished runs (ledger::Ledger::unfinished), by run id
    const std::map<std::string, ledger::RunRecord>& runs;
    const std::map<std::string, ActiveRun>& active;
    // analysis times already recorded, per listing prefix (within the lookback)
    const std::map<WatchPrefix, std::set<paths::AnalysisTime>>& seen;
    bool launching = true;  // false after SIGTERM: nothing starts
    util::SystemTime now;
};

struct Decision {
    // newly listed times, to remember once recorded
    std::vector<std::pair<WatchPrefix, paths::AnalysisTime>> listed;
    // new runs, recorded waiting_inputs: the listed ones first
    // (record_listed of them), then expected cycles past their arrival
    // deadline that nothing announced (so that they are reported late)
    std::vector<ledger::Ledger::NewRun> record;
    std::size_t record_listed = 0;
    // new runs older than the catch-up policy allows, recorded expired
    std::vector<ledger::Ledger::NewRun> record_expired;
    // waiting runs the catch-up policy does not run (any more)
    struct Expire {
        RunKey run;
        std::string policy;  // the catch-up policy as written
    };
    std::vector<Expire> expire;
    std::vector<RunKey> publish;  // publishing runs to publish again now
    struct Start {
        RunKey run;
        std::vector<std::string> gpus;
    };
    std::vector<Start> start;
    std::vector<Waiting> wait;  // ready runs that cannot start now, and why
    std::vector<const PollResult::Listing*> listing_errors;
};

Decision decide(const DecideInput& in);

// The runs with deadlines among `runs` (the ledger's unfinished ones).
std::vector<DeadlineRun> deadline_runs(const std::vector<config::ModelConfig>& models,
                                       const std::vector<ledger::RunRecord>& runs);
// The late alerts due at `now` (not raised before).
std::vector<Deadline> late_alerts(const std::vector<config::ModelConfig>& models,
                                  const std::vector<ledger::RunRecord>& runs, std::int64_t now);

}  // namespace mlwm::schedule

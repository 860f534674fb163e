// The run driver: the one writer of a run's transitions in the ledger, from
// its discovery (waiting_inputs) to a final state. The scheduler (discovery,
// the phases of execute_run, the end of an attempt, recovery after a restart)
// and the operator's CLI (`mlwm rerun`, `mlwm cancel`) all go through it, and
// it through the state machine of run/run_state.hpp. What the end of an
// attempt does is decided by a pure function (plan_finish), tested alone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.hpp"
#include "run/execute.hpp"
#include "util/clock.hpp"

namespace mlwm::schedule {

using run::RunState;

// The ledger state a run is in during a phase of execute_run.
RunState state_of(run::Phase p);

// What the end of an attempt does.
struct FinishPlan {
    enum class Kind {
        none,              // nothing to record (its inputs vanished: the next poll checks again)
        succeeded,         // published
        already_done,      // the marker was there: succeeded unless it is final already
        cancelled,         // an operator cancelled it meanwhile: stays cancelled
        retry_publishing,  // the model succeeded, publishing failed: publish again later
        end_attempt,       // failed or timed out; retried while attempts remain
    } kind = Kind::none;
    RunState to = RunState::failed;        // end_attempt: failed or timed_out
    std::optional<std::int64_t> retry_at;  // the next attempt, not before (unix seconds)
    int next_attempt = 0;                  // 1-based number of that attempt
    int max_attempts = 0;
};
// `jitter` is a uniform sample in [0, 1) for the backoff (full jitter).
FinishPlan plan_finish(const std::optional<ledger::RunRecord>& rec, const run::RunReport& report,
                       int max_attempts, std::chrono::seconds retry_delay, double jitter,
                       std::int64_t now);
// The `outcome` label of mlwm_runs_total for a finished attempt ("" for none).
std::string outcome_label(const FinishPlan& plan, run::Outcome outcome);

class RunDriver {
public:
    RunDriver(ledger::Ledger& ledger, const util::Clock& clock) : ledger_(ledger), clock_(clock) {}

    // Discovery: new runs (thousands after an outage) in `state`
    // (waiting_inputs, or expired with `message`); existing ones are left
    // alone. Per run, whether it was new.
    std::vector<bool> record(const std::vector<ledger::Ledger::NewRun>& runs, RunState state,
                             const std::string& message = "");
    // A waiting run the catch-up policy no longer runs. False if it was not waiting.
    bool expire(const std::string& run_id, const std::string& message);
    // Write-ahead, before a phase of execute_run starts: a resumed run is
    // already in it; `running` gets its deadline (timeout, 0: none). Throws
    // for a run that cannot enter the phase (cancelled meanwhile): the run stops.
    void enter(const std::string& run_id, run::Phase phase, const std::string& container,
               std::chrono::seconds timeout);
    // The end of an attempt, recorded as plan_finish says. Returns the plan
    // and the record after it.
    FinishPlan finish(const std::string& run_id, const run::RunReport& report, int max_attempts,
                      std::chrono::seconds retry_delay, double jitter);
    // Recovery after a restart: a run stopped in `was` without a container to
    // adopt nor outputs to publish fails, and is retried at once when its
    // model is still configured.
    void interrupted(const ledger::RunRecord& rec, bool retry);
    // The operator's commands. rerun: back to waiting_inputs, attempts reset,
    // forced (recorded first if the daemon never saw it); refused for a run
    // in progress. cancel: to cancelled unless unknown or final.
    struct Change {
        std::optional<ledger::RunRecord> before;  // nullopt: not in the ledger
        bool changed = false;
    };
    Change rerun(const ledger::Ledger::NewRun& run, const std::string& message);
    Change cancel(const std::string& run_id, const std::string& message);

    const util::Clock& clock() const { return clock_; }

private:
    ledger::Ledger& ledger_;
    const util::Clock& clock_;
};

}  // namespace mlwm::schedule

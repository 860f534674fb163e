// The run ledger (issue: the daemon): one SQLite database (WAL) in the state
// folder. A run's row changes before the action the change starts
// (write-ahead), and every transition is kept in an append-only history, so a
// restarted daemon knows what it was doing and never repeats a finished run.
// Thread-safe: one connection, every call (and its transaction) under one lock.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "run/run_state.hpp"
#include "util/clock.hpp"

namespace mlwm::ledger {

struct RunRecord {
    std::string run_id;  // <model>/<time>/member<N>
    std::string model;
    std::string analysis_time;  // YYYY-MM-DDThhmmZ
    int member = 0;
    run::RunState state = run::RunState::waiting_inputs;
    int attempt = 0;
    std::string container_id;
    std::int64_t not_before = 0;  // unix seconds: no new attempt before
    std::string message;
    std::int64_t created = 0, updated = 0;  // unix seconds
    std::int64_t deadline = 0;              // unix seconds: the container is killed then (0: none)
    bool force = false;                     // run even though the marker exists (`mlwm rerun`)
    int late = 0;                           // late alerts already raised: schedule::LateKind bits
    std::string gpus;                       // the GPUs it holds while in progress, comma-separated
};

struct Transition {
    std::string run_id;
    std::int64_t at = 0;
    std::string from, to, message;
};

class LedgerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Ledger {
public:
    // Opens (creating) <state_dir>/ledger.sqlite3 in WAL mode. Throws LedgerError.
    explicit Ledger(const std::filesystem::path& file,
                    const util::Clock& clock = util::system_clock());
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // Inserts the run in waiting_inputs unless it exists; returns the record.
    RunRecord ensure(const std::string& run_id, const std::string& model,
                     const std::string& analysis_time, int member);
    // Many runs at discovery, in one transaction (thousands after an outage):
    // new ones start in `state` (waiting_inputs, or expired with `message`);
    // existing ones are left as they are. Returns, per run, whether it was new.
    struct NewRun {
        std::string run_id, model, analysis_time;
        int member = 0;
    };
    std::vector<bool> ensure_all(const std::vector<NewRun>& runs, run::RunState state,
                                 const std::string& message);
    std::optional<RunRecord> get(const std::string& run_id);
    // Runs not succeeded, expired or cancelled (for the late alerts).
    std::vector<RunRecord> unfinished();
    // How many runs are in each state (states without runs are absent).
    std::map<run::RunState, std::size_t> count_by_state();
    // Per model with a succeeded run: when the last one ended (unix seconds)
    // and the newest analysis time published (YYYY-MM-DDThhmmZ).
    struct Succeeded {
        std::int64_t last_updated = 0;
        std::string newest_analysis_time;
    };
    std::map<std::string, Succeeded> succeeded_by_model();
    // Moves a run to `to` (checked against the state machine) in one
    // transaction with its history row. Throws LedgerError for a transition
    // the state machine does not allow or an unknown run.
    RunRecord transition(const std::string& run_id, run::RunState to, const std::string& message,
                         std::optional<std::string> container_id = std::nullopt,
                         std::optional<std::int64_t> not_before = std::nullopt,
                         std::optional<std::int64_t> deadline = std::nullopt);
    // The end of an attempt that did not succeed (failed, timed_out,
    // cancelled) and, when attempts remain, the retry (back to waiting_inputs,
    // not before `not_before`), in one transaction: a crash between the two
    // cannot leave a run failed that was to be retried.
    struct Retry {
        std::int64_t not_before = 0;
        std::string message;
    };
    RunRecord end_attempt(const std::string& run_id, run::RunState to, const std::string& message,
                          std::optional<Retry> retry);
    // Publishing failed after the model's container succeeded: the run stays
    // publishing (its outputs wait in the work folder) and publishing alone
    // is tried again, not before `not_before`; counts as an attempt.
    void retry_publishing(const std::string& run_id, const std::string& message,
                          std::int64_t not_before);
    // An operator's rerun (`mlwm rerun`): a run that is not in progress goes
    // back to waiting_inputs with its attempts reset and `force` set (it runs
    // even if published). Returns false for a run in progress; throws for an
    // unknown run.
    bool rerun(const std::string& run_id, const std::string& message);
    // Records that a late alert (a schedule::LateKind bit) was raised.
    void mark_late(const std::string& run_id, int kind);
    void set_gpus(const std::string& run_id, const std::string& gpus);
    std::vector<RunRecord> in_state(run::RunState s);
    std::vector<RunRecord> recent(int limit);
    std::vector<Transition> history(const std::string& run_id);
    // Writable? (for /readyz)
    bool writable();

private:
    void exec(const std::string& sql);
    // One checked transition and its history row (inside the caller's transaction).
    void step(const std::string& run_id, run::RunState to, const std::string& message,
              std::optional<std::string> container_id, std::optional<std::int64_t> not_before,
              std::optional<std::int64_t> deadline);
    // The history row of a change (inside the caller's transaction).
    void record_history(const std::string& run_id, std::int64_t at, std::string_view from,
                        std::string_view to, const std::string& message);
    // One connection for every thread: its transactions must not interleave
    // (recursive: transition() reads the run with get()).
    std::recursive_mutex mutex_;
    void* db_ = nullptr;  // sqlite3*
    const util::Clock& clock_;
    std::filesystem::path file_;
};

}  // namespace mlwm::ledger

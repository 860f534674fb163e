// The run state machine of the scheduler (issue: the daemon). One run =
// (model, analysis time, member). Every transition is written to the ledger
// before the action it starts. Pure.
//
//   waiting_inputs -> staging -> launching -> running -> publishing -> succeeded
//   any active state -> failed (retried after backoff while attempts remain:
//   failed -> waiting_inputs), running -> timed_out, waiting_inputs -> expired,
//   any non-final state -> cancelled; waiting_inputs or an active state ->
//   succeeded when the run marker is found (published before a stop)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "paths/analysis_time.hpp"

namespace mlwm::schedule {

enum class RunState {
    waiting_inputs,
    staging,
    launching,
    running,
    publishing,
    succeeded,
    failed,
    timed_out,
    expired,
    cancelled
};

std::string_view state_name(RunState s);
std::optional<RunState> parse_state(std::string_view name);
bool is_final(RunState s);
bool is_active(RunState s);  // staging, launching, running, publishing: a run in progress  //
                             // succeeded, expired, cancelled (failed/timed_out may be retried)
bool transition_allowed(RunState from, RunState to);

// Catch-up: which analysis times to run after a start or an outage.
struct CatchUp {
    enum class Kind { all, latest, max_age } kind = Kind::all;
    std::chrono::seconds max_age{0};
};
// "all", "latest" or an ISO 8601 duration such as P2D; throws std::invalid_argument.
CatchUp parse_catch_up(std::string_view text);

struct CatchUpDecision {
    std::vector<paths::AnalysisTime> run;      // in time order
    std::vector<paths::AnalysisTime> expired;  // too old under the policy
};
CatchUpDecision apply_catch_up(std::vector<paths::AnalysisTime> times, const CatchUp& policy,
                               std::chrono::system_clock::time_point now);

}  // namespace mlwm::schedule

// The run state machine (below the ledger and the scheduler). One run =
// (model, analysis time, member). Every transition is written to the ledger
// before the action it starts. Pure.
//
//   waiting_inputs -> staging -> launching -> running -> publishing -> succeeded
//   any active state -> failed (retried after backoff while attempts remain:
//   failed -> waiting_inputs), running -> timed_out, waiting_inputs -> expired,
//   any non-final state -> cancelled; waiting_inputs or an active state ->
//   succeeded when the run marker is found (published before a stop)
#pragma once

#include <optional>
#include <string_view>

namespace mlwm::run {

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
// succeeded, expired, cancelled (failed and timed_out may be retried)
bool is_final(RunState s);
// staging, launching, running, publishing: a run in progress
bool is_active(RunState s);
bool transition_allowed(RunState from, RunState to);
// An operator's rerun: back to waiting_inputs with its attempts reset, from
// any state but one in progress (cancel that first).
bool rerun_allowed(RunState from);

}  // namespace mlwm::run

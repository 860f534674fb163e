// What a restarted daemon does with a run the ledger has in progress, given
// the containers the engine has for it (pure). The rule behind it: a run's
// outcome is never forgotten and a run with a container never gets a second
// one. The ledger records `running` with the container's id before the start,
// and `publishing` only once that container exited 0 (before it is removed),
// so:
//   running    + its container (any state) -> adopt it (wait or collect)
//   launching  + a created container       -> adopt it (start it: it never ran)
//   publishing + outputs in the work folder -> publish them (no container)
//   otherwise                               -> retry (the marker check comes
//                                              first, so a published run is
//                                              never run again)
// Containers of the run that are not adopted are leftovers of earlier
// attempts (their outcome recorded before): removed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "run/run_state.hpp"

namespace mlwm::schedule {

using run::RunState;

struct FoundContainer {
    std::string id;
    std::string state;  // the engine's: created, running, exited, ...
};

struct Recovery {
    enum class Action { adopt, publish, retry } action = Action::retry;
    std::string container;            // adopt: the container to wait for
    std::vector<std::string> remove;  // leftovers to remove first
};

// `recorded` is the container id the ledger holds for the run ("" if none);
// `outputs_ready`: every output folder of the run holds files.
Recovery recover(RunState state, const std::string& recorded,
                 const std::vector<FoundContainer>& found, bool outputs_ready);

std::string_view recovery_action_name(Recovery::Action a);

// Whether a container of a run is a stray no attempt waits for (pure): one
// the daemon could not remove when the run ended (killed before it did, the
// engine failed, a create still in flight when a daemon was killed).
// `state`/`recorded` are the run's ledger row read after the containers were
// listed (nullopt: a run this ledger does not know, e.g. another daemon's).
// Kept: running containers (a second container is refused, never killed by a
// sweep); every container of a run in `launching` (its create may be in
// flight); the recorded container of a run in `running` or `publishing`.
bool is_stray(const FoundContainer& c, std::optional<RunState> state, const std::string& recorded);

// The same for a swarm job, attempt `job_attempt` (1-based) of a run whose
// ledger row says `state` at `recorded_attempt` attempts made (pure): kept
// while the run waits for that attempt (launching: its submission may be in
// flight; running), and when this ledger does not know the run.
bool is_stray_job(int job_attempt, std::optional<RunState> state, int recorded_attempt);

}  // namespace mlwm::schedule

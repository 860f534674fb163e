#include "run/run_state.hpp"

#include <array>

namespace mlwm::run {

namespace {
constexpr std::array<std::pair<RunState, std::string_view>, 10> kNames{
    {{RunState::waiting_inputs, "waiting_inputs"},
     {RunState::staging, "staging"},
     {RunState::launching, "launching"},
     {RunState::running, "running"},
     {RunState::publishing, "publishing"},
     {RunState::succeeded, "succeeded"},
     {RunState::failed, "failed"},
     {RunState::timed_out, "timed_out"},
     {RunState::expired, "expired"},
     {RunState::cancelled, "cancelled"}}};
}  // namespace

std::string_view state_name(RunState s) {
    for (const auto& [state, name] : kNames)
        if (state == s) return name;
    return "?";
}

std::optional<RunState> parse_state(std::string_view name) {
    for (const auto& [state, n] : kNames)
        if (n == name) return state;
    return std::nullopt;
}

bool is_final(RunState s) {
    return s == RunState::succeeded || s == RunState::expired || s == RunState::cancelled;
}

bool is_active(RunState s) {
    return s == RunState::staging || s == RunState::launching || s == RunState::running ||
           s == RunState::publishing;
}

bool transition_allowed(RunState from, RunState to) {
    using S = RunState;
    if (is_final(from)) return false;
    if (to == S::cancelled) return true;
    // the run marker was found: published before a stop, or by another host
    if (to == S::succeeded && (from == S::waiting_inputs || is_active(from))) return true;
    switch (from) {
        case S::waiting_inputs:
            return to == S::staging || to == S::expired || to == S::failed || to == S::succeeded;
        case S::staging: return to == S::launching || to == S::failed;
        case S::launching: return to == S::running || to == S::failed;
        case S::running: return to == S::publishing || to == S::failed || to == S::timed_out;
        case S::publishing: return to == S::succeeded || to == S::failed;
        case S::failed:
        case S::timed_out: return to == S::waiting_inputs;  // a retry
        default: return false;
    }
}

bool rerun_allowed(RunState from) {
    return !is_active(from);
}

}  // namespace mlwm::run

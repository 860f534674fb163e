// Late alerts (issue: the daemon). Per model, an arrival deadline (inputs not
// complete by analysis time + arrival) and a completion deadline (not
// published by analysis time + completion). An alert is due as soon as its
// deadline passes, whatever the run is doing, and is raised once per run and
// kind. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "run/run_state.hpp"

namespace mlwm::schedule {

using run::RunState;

enum class LateKind { arrival = 1, completion = 2 };
std::string_view late_kind_name(LateKind k);

struct DeadlineRun {
    std::string run_id, model;
    std::int64_t analysis_time = 0;  // unix seconds
    RunState state = RunState::waiting_inputs;
    bool inputs_arrived = false;                     // it got past waiting_inputs once
    int raised = 0;                                  // LateKind bits already raised
    std::chrono::seconds arrival{0}, completion{0};  // the model's deadlines (0: none)
};

struct Deadline {
    std::string run_id, model;
    LateKind kind = LateKind::arrival;
    std::int64_t at = 0;  // unix seconds
};

// Alerts due at `now` (not raised before).
std::vector<Deadline> due_alerts(const std::vector<DeadlineRun>& runs, std::int64_t now);
// Expected cycles (analysis times at multiples of `cycle` since 1970-01-01
// 00 UTC, i.e. 00/06/12/18 UTC for PT6H) within the `lookback` before `now`
// whose arrival deadline has passed: a cycle whose inputs never appear at all
// is late too. Oldest first.
std::vector<std::int64_t> overdue_cycles(std::chrono::seconds cycle, std::chrono::seconds arrival,
                                         std::chrono::seconds lookback, std::int64_t now);

// Deadlines still ahead, soonest first (for /status).
std::vector<Deadline> upcoming_deadlines(const std::vector<DeadlineRun>& runs, std::int64_t now);

}  // namespace mlwm::schedule

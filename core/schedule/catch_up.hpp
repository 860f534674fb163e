// Catch-up (pure): which of a model's analysis times run, which expire, under
// its policy (config::CatchUp, parsed when the configuration is loaded).
#pragma once

#include <chrono>
#include <vector>

#include "config/catch_up.hpp"
#include "paths/analysis_time.hpp"

namespace mlwm::schedule {

struct CatchUpDecision {
    std::vector<paths::AnalysisTime> run;      // in time order
    std::vector<paths::AnalysisTime> expired;  // too old under the policy
};
CatchUpDecision apply_catch_up(std::vector<paths::AnalysisTime> times,
                               const config::CatchUp& policy,
                               std::chrono::system_clock::time_point now);

}  // namespace mlwm::schedule

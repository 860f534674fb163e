#include "schedule/catch_up.hpp"

#include <algorithm>

namespace mlwm::schedule {

CatchUpDecision apply_catch_up(std::vector<paths::AnalysisTime> times, const config::CatchUp& p,
                               std::chrono::system_clock::time_point now) {
    using Kind = config::CatchUp::Kind;
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    CatchUpDecision d;
    for (std::size_t i = 0; i < times.size(); ++i) {
        bool run = true;
        if (p.kind == Kind::latest) run = i + 1 == times.size();
        if (p.kind == Kind::max_age) run = now - times[i].time_point() <= p.max_age;
        (run ? d.run : d.expired).push_back(times[i]);
    }
    return d;
}

}  // namespace mlwm::schedule

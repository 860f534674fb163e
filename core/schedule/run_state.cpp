#include "schedule/run_state.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "config/yaml_reader.hpp"

namespace mlwm::schedule {

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

CatchUp parse_catch_up(std::string_view text) {
    if (text == "all") return {CatchUp::Kind::all, {}};
    if (text == "latest") return {CatchUp::Kind::latest, {}};
    try {
        return {CatchUp::Kind::max_age, config::parse_iso_duration(text)};
    } catch (const std::invalid_argument&) {
        throw std::invalid_argument("catch-up policy '" + std::string(text) +
                                    "': expected all, latest or a maximum age such as P2D");
    }
}

CatchUpDecision apply_catch_up(std::vector<paths::AnalysisTime> times, const CatchUp& p,
                               std::chrono::system_clock::time_point now) {
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    CatchUpDecision d;
    for (std::size_t i = 0; i < times.size(); ++i) {
        bool run = true;
        if (p.kind == CatchUp::Kind::latest) run = i + 1 == times.size();
        if (p.kind == CatchUp::Kind::max_age) run = now - times[i].time_point() <= p.max_age;
        (run ? d.run : d.expired).push_back(times[i]);
    }
    return d;
}

}  // namespace mlwm::schedule

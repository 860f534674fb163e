#include "schedule/recovery.hpp"

namespace mlwm::schedule {

Recovery recover(RunState state, const std::string& recorded,
                 const std::vector<FoundContainer>& found, bool outputs_ready) {
    Recovery r;
    auto adoptable = [&](const FoundContainer& c) {
        switch (state) {
            case RunState::running: return !recorded.empty() && c.id == recorded;
            // created by this attempt, the start not yet recorded (the ledger
            // says running before the start): it never ran
            case RunState::launching: return c.state == "created";
            default: return false;
        }
    };
    for (const auto& c : found) {
        if (r.container.empty() && adoptable(c))
            r.container = c.id;
        else
            r.remove.push_back(c.id);
    }
    if (!r.container.empty())
        r.action = Recovery::Action::adopt;
    else if (state == RunState::publishing && outputs_ready)
        r.action = Recovery::Action::publish;
    return r;
}

std::string_view recovery_action_name(Recovery::Action a) {
    switch (a) {
        case Recovery::Action::adopt: return "adopt";
        case Recovery::Action::publish: return "publish";
        case Recovery::Action::retry: return "retry";
    }
    return "?";
}

bool is_stray(const FoundContainer& c, std::optional<RunState> state, const std::string& recorded) {
    if (!state || c.state == "running" || c.state == "restarting") return false;
    switch (*state) {
        case RunState::launching: return false;
        case RunState::running:
        case RunState::publishing: return c.id != recorded;
        default: return true;
    }
}

bool is_stray_job(int job_attempt, std::optional<RunState> state, int recorded_attempt) {
    if (!state) return false;
    const bool waited = *state == RunState::launching || *state == RunState::running;
    return !(waited && job_attempt == recorded_attempt + 1);
}

}  // namespace mlwm::schedule

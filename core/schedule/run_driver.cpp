#include "schedule/run_driver.hpp"

#include "storage/retry.hpp"

namespace mlwm::schedule {

RunState state_of(run::Phase p) {
    switch (p) {
        case run::Phase::checking: return RunState::waiting_inputs;
        case run::Phase::staging: return RunState::staging;
        case run::Phase::launching: return RunState::launching;
        case run::Phase::running: return RunState::running;
        case run::Phase::publishing: return RunState::publishing;
    }
    return RunState::failed;
}

FinishPlan plan_finish(const std::optional<ledger::RunRecord>& rec, const run::RunReport& rep,
                       int max_attempts, std::chrono::seconds retry_delay, double jitter,
                       std::int64_t now) {
    using K = FinishPlan::Kind;
    FinishPlan p;
    p.max_attempts = max_attempts;
    if (rec && rec->state == RunState::cancelled) {
        p.kind = K::cancelled;
        return p;
    }
    switch (rep.outcome) {
        case run::Outcome::succeeded: p.kind = K::succeeded; return p;
        case run::Outcome::already_done: p.kind = K::already_done; return p;
        case run::Outcome::inputs_missing: return p;  // raced with the producer
        case run::Outcome::failed:
        case run::Outcome::timed_out: break;
    }
    const RunState at = rec ? rec->state : RunState::waiting_inputs;
    const int attempt = rec ? rec->attempt : 0;
    p.next_attempt = attempt + 2;
    if (attempt + 1 < max_attempts) {
        const storage::RetryPolicy policy{
            max_attempts, retry_delay,
            std::max<std::chrono::milliseconds>(retry_delay, std::chrono::minutes(15))};
        const auto wait = rep.retry_at_once ? std::chrono::milliseconds(0)
                                            : storage::backoff(policy, attempt, jitter);
        p.retry_at = now + std::chrono::duration_cast<std::chrono::seconds>(wait).count();
    }
    // the model succeeded, publishing failed: publishing alone is tried again
    if (at == RunState::publishing && rep.failed_in == run::Phase::publishing && p.retry_at) {
        p.kind = K::retry_publishing;
        return p;
    }
    p.kind = K::end_attempt;
    p.to = rep.outcome == run::Outcome::timed_out && at == RunState::running ? RunState::timed_out
                                                                             : RunState::failed;
    return p;
}

std::string outcome_label(const FinishPlan& plan, run::Outcome outcome) {
    using K = FinishPlan::Kind;
    switch (plan.kind) {
        case K::none: return "";
        case K::succeeded: return "succeeded";
        case K::already_done: return "already_done";
        case K::cancelled: return "cancelled";
        case K::retry_publishing:
        case K::end_attempt: return outcome == run::Outcome::timed_out ? "timed_out" : "failed";
    }
    return "";
}

std::vector<bool> RunDriver::record(const std::vector<ledger::Ledger::NewRun>& runs, RunState state,
                                    const std::string& message) {
    return ledger_.ensure_all(runs, state, message);
}

bool RunDriver::expire(const std::string& run_id, const std::string& message) {
    const auto rec = ledger_.get(run_id);
    if (!rec || rec->state != RunState::waiting_inputs) return false;
    ledger_.transition(run_id, RunState::expired, message);
    return true;
}

void RunDriver::enter(const std::string& run_id, run::Phase phase, const std::string& container,
                      std::chrono::seconds timeout) {
    const RunState to = state_of(phase);
    const auto cur = ledger_.get(run_id);
    if (cur && cur->state == to) return;  // resumed in it
    std::optional<std::int64_t> deadline;
    if (to == RunState::running && timeout.count() > 0)
        deadline = clock_.unix_now() + timeout.count();
    ledger_.transition(run_id, to, std::string(run::phase_name(phase)),
                       container.empty() ? std::nullopt : std::optional(container), std::nullopt,
                       deadline);
}

FinishPlan RunDriver::finish(const std::string& run_id, const run::RunReport& rep, int max_attempts,
                             std::chrono::seconds retry_delay, double jitter) {
    using K = FinishPlan::Kind;
    const auto rec = ledger_.get(run_id);
    const FinishPlan p =
        plan_finish(rec, rep, max_attempts, retry_delay, jitter, clock_.unix_now());
    switch (p.kind) {
        case K::none:
        case K::cancelled: break;
        case K::succeeded: ledger_.transition(run_id, RunState::succeeded, rep.message); break;
        case K::already_done:
            if (rec && run::transition_allowed(rec->state, RunState::succeeded))
                ledger_.transition(run_id, RunState::succeeded, rep.message);
            break;
        case K::retry_publishing: ledger_.retry_publishing(run_id, rep.message, *p.retry_at); break;
        case K::end_attempt: {
            std::optional<ledger::Ledger::Retry> retry;
            if (p.retry_at)
                retry =
                    ledger::Ledger::Retry{*p.retry_at, "retry " + std::to_string(p.next_attempt) +
                                                           " of " + std::to_string(max_attempts)};
            // the failure and the retry in one transaction
            if (rec && run::transition_allowed(rec->state, p.to))
                ledger_.end_attempt(run_id, p.to, rep.message, retry);
            break;
        }
    }
    return p;
}

void RunDriver::interrupted(const ledger::RunRecord& rec, bool retry) {
    ledger_.end_attempt(
        rec.run_id, RunState::failed,
        "interrupted by a daemon stop in " + std::string(run::state_name(rec.state)) +
            (retry ? "" : "; its model is no longer configured"),
        retry ? std::optional(ledger::Ledger::Retry{clock_.unix_now(), "retry after the restart"})
              : std::nullopt);
}

RunDriver::Change RunDriver::rerun(const ledger::Ledger::NewRun& run, const std::string& message) {
    Change c;
    c.before = ledger_.ensure(run.run_id, run.model, run.analysis_time, run.member);
    c.changed = ledger_.rerun(run.run_id, message);
    return c;
}

RunDriver::Change RunDriver::cancel(const std::string& run_id, const std::string& message) {
    Change c;
    c.before = ledger_.get(run_id);
    if (!c.before || !run::transition_allowed(c.before->state, RunState::cancelled)) return c;
    ledger_.transition(run_id, RunState::cancelled, message);
    c.changed = true;
    return c;
}

}  // namespace mlwm::schedule

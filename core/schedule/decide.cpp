#include "schedule/decide.hpp"

#include <algorithm>

#include "run/plan.hpp"
#include "schedule/catch_up.hpp"

namespace mlwm::schedule {

std::string RunKey::id() const {
    return run::run_id(model, time, member);
}

ledger::Ledger::NewRun RunKey::new_run() const {
    return {id(), model, paths::format_analysis_time(time), static_cast<int>(member)};
}

namespace {

const config::ModelConfig* find_model(const std::vector<config::ModelConfig>& models,
                                      const std::string& name) {
    for (const auto& m : models)
        if (m.name == name) return &m;
    return nullptr;
}

// Collects new runs once each, by run id.
class NewRuns {
public:
    explicit NewRuns(std::vector<ledger::Ledger::NewRun>& out) : out_(out) {}
    void add(const RunKey& k) {
        if (ids_.insert(k.id()).second) out_.push_back(k.new_run());
    }

private:
    std::vector<ledger::Ledger::NewRun>& out_;
    std::set<std::string> ids_;
};

}  // namespace

Decision decide(const DecideInput& in) {
    Decision d;
    NewRuns record(d.record), record_expired(d.record_expired);
    // 1. newly listed times: recorded, waiting or (catch-up) expired
    for (const auto& l : in.poll.listings) {
        if (!l.ok) {
            d.listing_errors.push_back(&l);
            continue;
        }
        const auto known = in.seen.find(l.prefix);
        for (const auto& m : in.models) {
            if (discovery_prefix(m) != std::optional(l.prefix)) continue;
            const CatchUpDecision cu = apply_catch_up(l.times, m.catch_up, in.now);
            const std::set<paths::AnalysisTime> too_old(cu.expired.begin(), cu.expired.end());
            for (const auto& t : l.times) {
                if (known != in.seen.end() && known->second.contains(t)) continue;
                for (auto member : m.members)
                    (too_old.contains(t) ? record_expired : record).add({m.name, t, member});
            }
        }
        for (const auto& t : l.times)
            if (known == in.seen.end() || !known->second.contains(t))
                d.listed.emplace_back(l.prefix, t);
    }
    d.record_listed = d.record.size();
    // 2. expected cycles past their arrival deadline that nothing announced
    const std::int64_t now = util::unix_seconds(in.now);
    for (const auto& m : in.models)
        for (const std::int64_t t :
             overdue_cycles(m.cycle, m.arrival_deadline, in.host.lookback, now)) {
            const paths::AnalysisTime at(std::chrono::time_point_cast<std::chrono::minutes>(
                std::chrono::system_clock::from_time_t(t)));
            if (!apply_catch_up({at}, m.catch_up, in.now).expired.empty()) continue;
            for (auto member : m.members) record.add({m.name, at, member});
        }
    // 3. ready runs: the catch-up policy, then the limits and the GPUs
    std::map<std::string, std::vector<paths::AnalysisTime>> ready_times;
    for (const auto& k : in.poll.ready) ready_times[k.model].push_back(k.time);
    std::set<std::pair<std::string, paths::AnalysisTime>> allowed;
    for (auto& [name, times] : ready_times) {
        const config::ModelConfig* m = find_model(in.models, name);
        if (!m) continue;
        const CatchUpDecision cu = apply_catch_up(times, m->catch_up, in.now);
        for (const auto& t : cu.run) allowed.insert({name, t});
        for (const auto& t : cu.expired)
            for (auto member : m->members) {
                const RunKey k{name, t, member};
                const auto rec = in.runs.find(k.id());
                if (rec != in.runs.end() && rec->second.state != RunState::waiting_inputs) continue;
                if (rec == in.runs.end()) record.add(k);
                d.expire.push_back({k, m->catch_up.text});
            }
    }
    if (!in.launching) return d;
    for (const auto& [id, rec] : in.runs) {
        if (rec.state != RunState::publishing || in.active.contains(id) || rec.not_before > now ||
            !find_model(in.models, rec.model))
            continue;
        try {
            d.publish.push_back({rec.model, paths::parse_analysis_time(rec.analysis_time),
                                 static_cast<paths::Member>(rec.member)});
        } catch (const std::invalid_argument&) {  // not an analysis time: not ours to publish
        }
    }
    std::map<std::string, RunKey> by_id;
    std::vector<Candidate> candidates;
    for (const auto& k : in.poll.ready) {
        const config::ModelConfig* m = find_model(in.models, k.model);
        if (!m || !allowed.contains({k.model, k.time})) continue;
        const std::string id = k.id();
        const auto rec = in.runs.find(id);
        if (rec == in.runs.end()) record.add(k);  // recorded even when it cannot start now
        if (in.active.contains(id) ||
            (rec != in.runs.end() &&
             (rec->second.state != RunState::waiting_inputs || rec->second.not_before > now)))
            continue;
        if (!by_id.emplace(id, k).second) continue;
        // on a swarm the cluster counts GPUs (generic resources), not this host
        candidates.push_back({id, k.model, m->max_concurrent_runs,
                              in.host.runner.swarm() ? docker::GpuRequest{} : m->resources.gpus});
    }
    Capacity cap{.global_limit = in.host.max_concurrent_runs,
                 .active = static_cast<int>(in.active.size()),
                 .host_gpus = in.host.gpus};
    for (const auto& [id, a] : in.active) {
        ++cap.model_active[a.model];
        cap.busy_gpus.insert(cap.busy_gpus.end(), a.gpus.begin(), a.gpus.end());
    }
    AdmissionResult admitted = admit(candidates, cap);
    for (auto& a : admitted.start) d.start.push_back({by_id.at(a.run_id), std::move(a.gpus)});
    d.wait = std::move(admitted.wait);
    return d;
}

std::vector<DeadlineRun> deadline_runs(const std::vector<config::ModelConfig>& models,
                                       const std::vector<ledger::RunRecord>& runs) {
    std::vector<DeadlineRun> out;
    for (const auto& rec : runs) {
        const config::ModelConfig* m = find_model(models, rec.model);
        if (!m || (m->arrival_deadline.count() == 0 && m->completion_deadline.count() == 0))
            continue;
        try {
            out.push_back(
                {rec.run_id, rec.model,
                 util::unix_seconds(paths::parse_analysis_time(rec.analysis_time).time_point()),
                 rec.state, rec.state != RunState::waiting_inputs || rec.attempt > 0, rec.late,
                 m->arrival_deadline, m->completion_deadline});
        } catch (const std::exception&) {
        }
    }
    return out;
}

std::vector<Deadline> late_alerts(const std::vector<config::ModelConfig>& models,
                                  const std::vector<ledger::RunRecord>& runs, std::int64_t now) {
    return due_alerts(deadline_runs(models, runs), now);
}

}  // namespace mlwm::schedule

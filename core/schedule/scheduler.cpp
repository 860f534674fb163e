#include "schedule/scheduler.hpp"

#include <random>

#include <boost/asio/post.hpp>

#include "run/plan.hpp"
#include "schedule/run_state.hpp"
#include "storage/retry.hpp"
#include "telemetry/log_events.hpp"

namespace mlwm::schedule {
namespace asio = boost::asio;
namespace ev = telemetry::events;
using Clock = std::chrono::system_clock;

namespace {
std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch())
        .count();
}
telemetry::LogContext ctx_of(const std::string& run_id, const std::string& model,
                             const paths::AnalysisTime& t) {
    return {run_id, model, paths::format_iso8601(t)};
}
}  // namespace

// What a poll found, computed in the pool, applied on the io thread.
struct Scheduler::PollResult {
    struct Listing {
        WatchPrefix prefix;
        std::vector<paths::AnalysisTime> times;
        std::vector<std::string> foreign;
        bool ok = true;
        std::string error;
    };
    std::vector<Listing> listings;
    // runs whose inputs are all complete now: model, time, member
    std::vector<std::tuple<std::string, paths::AnalysisTime, paths::Member>> ready;
};

Scheduler::Scheduler(asio::io_context& io, SchedulerSetup setup)
    : io_(io),
      s_(std::move(setup)),
      pool_(static_cast<std::size_t>(s_.host.max_concurrent_runs) + 1),
      timer_(io) {}

Scheduler::~Scheduler() {
    timer_.cancel();
    pool_.stop();
    pool_.join();
}

const config::ModelConfig* Scheduler::model(const std::string& name) const {
    for (const auto& m : s_.models)
        if (m.name == name) return &m;
    return nullptr;
}

void Scheduler::start() {
    // runs a stop interrupted: retried (the marker check keeps a published
    // run from running again; a container still running blocks a second one)
    std::size_t recovered = 0;
    for (auto st :
         {RunState::staging, RunState::launching, RunState::running, RunState::publishing}) {
        for (const auto& r : s_.ledger->in_state(st)) {
            s_.ledger->transition(r.run_id, RunState::failed,
                                  "interrupted by a daemon stop in " + std::string(state_name(st)));
            s_.ledger->transition(r.run_id, RunState::waiting_inputs, "retry after the restart",
                                  std::nullopt, unix_now());
            s_.log->warn(ev::kRunInterrupted,
                         "interrupted in " + std::string(state_name(st)) + "; it will be retried",
                         {r.run_id, r.model, r.analysis_time});
            ++recovered;
        }
    }
    s_.log->info(ev::kLedgerRecovered,
                 std::to_string(recovered) + " interrupted run(s) scheduled again");
    schedule_poll(std::chrono::seconds(0));
}

void Scheduler::stop_launching() {
    launching_ = false;
    timer_.cancel();
}

void Scheduler::reload(std::vector<config::ModelConfig> models) {
    s_.models = std::move(models);
}

bool Scheduler::poll_recent() const {
    return unix_now() - last_ok_poll_.load() <= 3 * s_.host.poll_interval.count() + 5;
}

std::size_t Scheduler::active_runs() const {
    return active_count_.load();
}

void Scheduler::schedule_poll(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !launching_) return;
        if (polling_) return schedule_poll(s_.host.poll_interval);
        polling_ = true;
        std::map<WatchPrefix, std::string> after_map;
        for (const auto& [w, t] : newest_) after_map[w] = start_after(w, t);
        auto models = s_.models;
        asio::post(pool_, [this, models, after_map]() mutable {
            PollResult r = poll_blocking(models, std::move(after_map));
            asio::post(io_, [this, r = std::move(r)]() mutable {
                polling_ = false;
                apply(std::move(r));
                if (launching_) schedule_poll(s_.host.poll_interval);
            });
        });
    });
}

Scheduler::PollResult Scheduler::poll_blocking(const std::vector<config::ModelConfig>& models,
                                               std::map<WatchPrefix, std::string> after) {
    PollResult r;
    // one store (and its connections) per bucket for the whole poll
    std::map<std::string, std::unique_ptr<storage::ObjectStore>> stores;
    auto store_for = [&](const std::string& bucket) -> storage::ObjectStore& {
        auto& slot = stores[bucket];
        if (!slot) slot = s_.stores(bucket);
        return *slot;
    };
    std::set<WatchPrefix> prefixes;
    for (const auto& m : models)
        for (const auto& in : m.inputs)
            if (auto w = watch_prefix(in)) prefixes.insert(*w);
    for (const auto& w : prefixes) {
        PollResult::Listing l;
        l.prefix = w;
        try {
            const auto listed = store_for(w.bucket).list(
                {.prefix = w.prefix, .delimiter = "/", .start_after = after[w]});
            const PrefixScan scan = scan_common_prefixes(w, listed.common_prefixes);
            l.times = scan.times;
            l.foreign = scan.foreign;
        } catch (const std::exception& e) {
            l.ok = false;
            l.error = e.what();
        }
        r.listings.push_back(std::move(l));
    }
    // readiness: every run waiting in the ledger (and every newly listed time)
    // whose inputs all have their completion marker
    std::set<std::tuple<std::string, paths::AnalysisTime, paths::Member>> candidates;
    for (const auto& rec : s_.ledger->in_state(RunState::waiting_inputs)) {
        if (rec.not_before > unix_now()) continue;
        try {
            candidates.insert({rec.model, paths::parse_analysis_time(rec.analysis_time),
                               static_cast<paths::Member>(rec.member)});
        } catch (...) {
        }
    }
    for (const auto& m : models) {
        if (m.inputs.empty()) continue;
        const auto w = watch_prefix(m.inputs.front());
        if (!w) continue;
        for (const auto& l : r.listings)
            if (l.prefix == *w)
                for (const auto& t : l.times)
                    for (auto member : m.members) candidates.insert({m.name, t, member});
    }
    for (const auto& [name, t, member] : candidates) {
        const config::ModelConfig* mc = nullptr;
        for (const auto& m : models)
            if (m.name == name) mc = &m;
        if (!mc) continue;
        bool complete = true;
        try {
            for (const auto& in : mc->inputs) {
                const config::S3Place p = config::locate(in, t, member);
                if (!store_for(p.bucket).head(p.key + "/" + in.completion_marker)) {
                    complete = false;
                    break;
                }
            }
        } catch (const std::exception&) {
            complete = false;
        }
        if (complete) r.ready.emplace_back(name, t, member);
    }
    return r;
}

void Scheduler::apply(PollResult r) {
    bool all_ok = true;
    for (const auto& l : r.listings) {
        if (!l.ok) {
            all_ok = false;
            s_.metrics->poll_errors.Add({}).Increment();
            s_.log->warn(ev::kPollFailed, "listing s3://" + l.prefix.bucket + "/" +
                                              l.prefix.prefix + " failed: " + l.error);
            continue;
        }
        for (const auto& f : l.foreign) {
            if (!foreign_.insert(l.prefix.bucket + "/" + f).second)
                continue;  // warned and counted once
            s_.log->warn(ev::kForeignEntry,
                         "ignored s3://" + l.prefix.bucket + "/" + f + ": not an analysis time");
            s_.metrics->foreign_entries.Add({{"bucket", l.prefix.bucket}}).Increment();
        }
        for (const auto& t : l.times) {
            if (!seen_[l.prefix].insert(t).second) continue;
            s_.log->info(ev::kNewAnalysisTime,
                         "new analysis time under s3://" + l.prefix.bucket + "/" + l.prefix.prefix,
                         {"", "", paths::format_iso8601(t)});
            if (!newest_.contains(l.prefix) || newest_[l.prefix] < t) newest_[l.prefix] = t;
            // waiting_inputs in the ledger from now on: the listing will not
            // show this time again, later polls check its inputs from the ledger
            for (const auto& m : s_.models) {
                if (m.inputs.empty() || watch_prefix(m.inputs.front()) != std::optional(l.prefix))
                    continue;
                for (auto member : m.members)
                    s_.ledger->ensure(run::run_id(m.name, t, member), m.name,
                                      paths::format_analysis_time(t), static_cast<int>(member));
            }
        }
    }
    s_.metrics->polls.Add({{"outcome", all_ok ? "ok" : "error"}}).Increment();
    if (all_ok) {
        last_ok_poll_ = unix_now();
        s_.metrics->last_poll.Add({}).Set(static_cast<double>(last_ok_poll_.load()));
    }
    // the catch-up policy decides which of the found times run
    std::map<std::string, std::vector<paths::AnalysisTime>> per_model;
    for (const auto& [name, t, member] : r.ready) per_model[name].push_back(t);
    std::set<std::pair<std::string, paths::AnalysisTime>> allowed;
    for (auto& [name, times] : per_model) {
        const config::ModelConfig* m = model(name);
        if (!m) continue;
        CatchUpDecision d = apply_catch_up(times, parse_catch_up(m->catch_up), Clock::now());
        for (const auto& t : d.run) allowed.insert({name, t});
        for (const auto& t : d.expired)
            for (auto member : m->members) {
                const std::string id = run::run_id(name, t, member);
                const auto rec = s_.ledger->ensure(id, name, paths::format_analysis_time(t),
                                                   static_cast<int>(member));
                if (rec.state == RunState::waiting_inputs) {
                    s_.ledger->transition(
                        id, RunState::expired,
                        "older than the catch-up policy " + m->catch_up + " allows");
                    s_.log->info(ev::kRunExpired, "not run: older than catch-up " + m->catch_up,
                                 ctx_of(id, name, t));
                }
            }
    }
    for (const auto& [name, t, member] : r.ready) {
        if (!allowed.contains({name, t})) continue;
        const config::ModelConfig* m = model(name);
        if (!m) continue;
        const std::string id = run::run_id(name, t, member);
        // recorded even when it cannot start now: later polls find it in the ledger
        const auto rec =
            s_.ledger->ensure(id, name, paths::format_analysis_time(t), static_cast<int>(member));
        if (!launching_ || active_.contains(id)) continue;
        if (active_.size() >= static_cast<std::size_t>(s_.host.max_concurrent_runs)) continue;
        if (rec.state != RunState::waiting_inputs || rec.not_before > unix_now()) continue;
        launch(*m, t, member);
    }
}

void Scheduler::launch(const config::ModelConfig& m, const paths::AnalysisTime& t,
                       paths::Member member) {
    const run::RunPlan plan = run::plan_run(m, t, member, s_.host.work_dir);
    active_.insert(plan.run_id);
    ++active_count_;
    const int max_attempts = m.max_attempts;
    const auto detection = std::chrono::duration<double>(Clock::now() - t.time_point()).count();
    s_.metrics->detection_latency
        .Add({{"model", m.name}},
             prometheus::Histogram::BucketBoundaries{60, 300, 900, 1800, 3600, 7200, 14400})
        .Observe(detection);
    asio::post(pool_, [this, plan, max_attempts]() {
        const auto ctx = ctx_of(plan.run_id, plan.model, plan.analysis_time);
        std::string phase_now;
        auto phase_started = std::chrono::steady_clock::now();
        run::ExecuteOptions opts{
            .force = false,
            .transfer_concurrency = static_cast<std::size_t>(s_.host.transfer_concurrency),
            .keep_failed_runs = s_.host.keep_failed_runs,
            .mlwm_version = s_.mlwm_version};
        opts.before_phase = [&](const std::string& phase, const std::string& container) {
            const auto to = parse_state(phase).value_or(RunState::failed);
            if (!phase_now.empty()) {
                s_.metrics->phase_duration
                    .Add({{"model", plan.model}, {"phase", phase_now}},
                         prometheus::Histogram::BucketBoundaries{1, 5, 15, 60, 300, 900, 3600})
                    .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                           phase_started)
                                 .count());
                s_.metrics->in_progress.Add({{"model", plan.model}, {"phase", phase_now}})
                    .Decrement();
            }
            s_.ledger->transition(plan.run_id, to, phase,
                                  container.empty() ? std::nullopt : std::optional(container));
            s_.log->info(
                ev::kRunState,
                phase + (container.empty() ? "" : " (container " + container.substr(0, 12) + ")"),
                ctx);
            s_.metrics->in_progress.Add({{"model", plan.model}, {"phase", phase}}).Increment();
            phase_now = phase;
            phase_started = std::chrono::steady_clock::now();
        };
        run::RunReport report = run::execute_run(plan, s_.stores, *s_.docker, opts);
        if (!phase_now.empty())
            s_.metrics->in_progress.Add({{"model", plan.model}, {"phase", phase_now}}).Decrement();
        asio::post(io_, [this, id = plan.run_id, report, max_attempts]() {
            finished(id, report, max_attempts);
        });
    });
}

void Scheduler::finished(const std::string& run_id, const run::RunReport& rep, int max_attempts) {
    active_.erase(run_id);
    --active_count_;
    const auto rec = s_.ledger->get(run_id);
    std::string when;
    if (rec) try {
            when = paths::format_iso8601(paths::parse_analysis_time(rec->analysis_time));
        } catch (const std::exception&) {
            when = rec->analysis_time;
        }
    const telemetry::LogContext ctx{run_id, rep.model, when};
    auto outcome = [&](const char* o) {
        s_.metrics->runs.Add({{"model", rep.model}, {"outcome", o}}).Increment();
    };
    switch (rep.outcome) {
        case run::Outcome::succeeded:
            s_.ledger->transition(run_id, RunState::succeeded, rep.message);
            s_.log->info(ev::kRunSucceeded, rep.message, ctx);
            outcome("succeeded");
            s_.metrics->last_success.Add({{"model", rep.model}})
                .Set(static_cast<double>(unix_now()));
            if (rec)
                s_.metrics->newest_completed.Add({{"model", rep.model}})
                    .Set(static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                                 paths::parse_analysis_time(rec->analysis_time)
                                                     .time_point()
                                                     .time_since_epoch())
                                                 .count()));
            return;
        case run::Outcome::already_done:
            if (rec && transition_allowed(rec->state, RunState::succeeded))
                s_.ledger->transition(run_id, RunState::succeeded, rep.message);
            s_.log->info(ev::kRunAlreadyDone, rep.message, ctx);
            outcome("already_done");
            return;
        case run::Outcome::inputs_missing:  // raced with the producer: wait for the next poll
            return;
        case run::Outcome::failed:
        case run::Outcome::timed_out: {
            const bool timed_out = rep.outcome == run::Outcome::timed_out;
            const RunState now = rec ? rec->state : RunState::waiting_inputs;
            const RunState to =
                timed_out && now == RunState::running ? RunState::timed_out : RunState::failed;
            if (transition_allowed(now, to)) s_.ledger->transition(run_id, to, rep.message);
            s_.log->error(ev::kRunFailed, rep.message, ctx);
            outcome(timed_out ? "timed_out" : "failed");
            const int attempt = rec ? rec->attempt : 0;
            if (attempt + 1 < max_attempts) {
                static thread_local std::mt19937_64 rng{std::random_device{}()};
                const storage::RetryPolicy policy{max_attempts, std::chrono::seconds(60),
                                                  std::chrono::minutes(15)};
                const auto wait = storage::backoff(
                    policy, attempt, std::uniform_real_distribution<double>(0, 1)(rng));
                const std::int64_t not_before =
                    unix_now() + std::chrono::duration_cast<std::chrono::seconds>(wait).count();
                s_.ledger->transition(
                    run_id, RunState::waiting_inputs,
                    "retry " + std::to_string(attempt + 2) + " of " + std::to_string(max_attempts),
                    std::nullopt, not_before);
                s_.log->info(ev::kRunRetry,
                             "attempt " + std::to_string(attempt + 2) + " of " +
                                 std::to_string(max_attempts) + " in " +
                                 std::to_string(not_before - unix_now()) + " s",
                             ctx);
            }
            return;
        }
    }
}

nlohmann::ordered_json Scheduler::dry_run() {
    const PollResult r = poll_blocking(s_.models, {});
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    std::map<std::string, std::vector<paths::AnalysisTime>> per_model;
    for (const auto& [name, t, member] : r.ready) per_model[name].push_back(t);
    for (const auto& [name, t, member] : r.ready) {
        const config::ModelConfig* m = model(name);
        const CatchUpDecision d =
            apply_catch_up(per_model[name], parse_catch_up(m->catch_up), Clock::now());
        const bool runs = std::find(d.run.begin(), d.run.end(), t) != d.run.end();
        const std::string id = run::run_id(name, t, member);
        const auto rec = s_.ledger->get(id);
        std::string action = runs ? "run" : "expire (catch-up " + m->catch_up + ")";
        if (rec && rec->state != RunState::waiting_inputs)
            action = "nothing: " + std::string(state_name(rec->state));
        out.push_back({{"run_id", id}, {"action", action}});
    }
    for (const auto& l : r.listings)
        if (!l.ok)
            out.push_back({{"error", "listing s3://" + l.prefix.bucket + "/" + l.prefix.prefix +
                                         " failed: " + l.error}});
    return out;
}

nlohmann::ordered_json Scheduler::status() {
    nlohmann::ordered_json j;
    nlohmann::ordered_json by_state = nlohmann::ordered_json::object();
    for (auto st : {RunState::waiting_inputs, RunState::staging, RunState::launching,
                    RunState::running, RunState::publishing, RunState::succeeded, RunState::failed,
                    RunState::timed_out, RunState::expired, RunState::cancelled})
        by_state[std::string(state_name(st))] = s_.ledger->in_state(st).size();
    j["runs_by_state"] = by_state;
    nlohmann::ordered_json recent = nlohmann::ordered_json::array();
    for (const auto& r : s_.ledger->recent(50))
        recent.push_back({{"run_id", r.run_id},
                          {"model", r.model},
                          {"analysis_time", r.analysis_time},
                          {"member", r.member},
                          {"state", state_name(r.state)},
                          {"attempt", r.attempt},
                          {"updated", r.updated},
                          {"message", r.message}});
    j["recent_runs"] = recent;
    j["active_runs"] = active_count_.load();
    j["last_successful_poll"] = last_ok_poll_.load();
    j["upcoming_deadlines"] = nlohmann::ordered_json::array();
    return j;
}

}  // namespace mlwm::schedule

#include "schedule/scheduler.hpp"

#include <random>

#include <boost/asio/post.hpp>
#include <malloc.h>

#include "run/plan.hpp"
#include "run/readiness.hpp"
#include "run/run_state.hpp"
#include "run/swarm_execute.hpp"
#include "schedule/admission.hpp"
#include "schedule/catch_up.hpp"
#include "schedule/deadlines.hpp"
#include "schedule/recovery.hpp"
#include "telemetry/log_events.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace mlwm::schedule {
namespace asio = boost::asio;
namespace ev = telemetry::events;

namespace {
constexpr std::int64_t kSweepInterval = 60;  // seconds between stray-container sweeps

telemetry::LogContext ctx_of(const std::string& run_id, const std::string& model,
                             const paths::AnalysisTime& t) {
    return {run_id, model, paths::format_iso8601(t)};
}
// The ledger's analysis time (YYYY-MM-DDThhmmZ) in logs (ISO 8601).
telemetry::LogContext ctx_of(const ledger::RunRecord& r) {
    try {
        return {r.run_id, r.model,
                paths::format_iso8601(paths::parse_analysis_time(r.analysis_time))};
    } catch (const std::exception&) {
        return {r.run_id, r.model, r.analysis_time};
    }
}
std::vector<std::string> split(const std::string& s) {  // the ledger's GPU list
    return s.empty() ? std::vector<std::string>{} : util::split(s, ',');
}
bool has_files(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_directory(dir, ec) && !std::filesystem::is_empty(dir, ec);
}
}  // namespace

Scheduler::Scheduler(asio::io_context& io, SchedulerSetup setup)
    : io_(io),
      s_(std::move(setup)),
      driver_(*s_.ledger, *s_.clock),
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

// The event loop must go on whatever one step throws (a ledger error, a bad
// answer): the error is logged, and the next poll or the next start
// reconciles what was not recorded.
void Scheduler::guarded(const std::string& what, const std::function<void()>& step) {
    try {
        step();
    } catch (const std::exception& e) {
        s_.log->error(ev::kDaemonError, what + " failed: " + e.what());
    }
}

bool Scheduler::start() {
    model_metrics();
    // the per-model gauges survive a restart: from the ledger's succeeded runs
    for (const auto& [name, done] : s_.ledger->succeeded_by_model())
        success_gauges(name, done.last_updated, done.newest_analysis_time);
    const bool ok = reconcile();
    schedule_poll(std::chrono::seconds(0));
    return ok;
}

// The ledger against the engine and the store, after a start: every run the
// ledger has in progress either has its container (adopted: waited for with
// its deadline, or collected if it exited), or has its outputs waiting to be
// published (published), or starts again (schedule::recover decides). A
// container is removed only after the ledger recorded its outcome, so a run
// whose container ran is never given a second one; a published run is never
// run again (the marker check comes first in every path).
bool Scheduler::reconcile() {
    if (reconciled_) return true;
    std::vector<ledger::RunRecord> runs;
    for (auto st :
         {RunState::staging, RunState::launching, RunState::running, RunState::publishing})
        for (auto& r : s_.ledger->in_state(st)) runs.push_back(std::move(r));
    std::map<std::string, std::vector<docker::ContainerSummary>> containers;
    try {
        if (s_.swarm)
            s_.swarm->list_nodes();  // the manager answers (its jobs are resubmitted by name)
        else
            for (const auto& r : runs)
                containers[r.run_id] = s_.docker->list_containers({"org.mlwm.run-id=" + r.run_id});
    } catch (const std::exception& e) {
        s_.log->error(ev::kLedgerRecoveryDeferred,
                      "cannot ask the engine which containers run (" + std::string(e.what()) +
                          "); " + std::to_string(runs.size()) +
                          " run(s) in progress wait, nothing is launched until it answers");
        return false;
    }
    reconciled_ = true;
    if (s_.swarm) return reconcile_swarm(runs);
    std::size_t adopted = 0, republished = 0, retried = 0;
    for (const auto& r : runs) {
        const auto ctx = ctx_of(r);
        const config::ModelConfig* m = model(r.model);
        const std::optional<paths::AnalysisTime> t = analysis_time_of(r);
        const run::RunPlan plan =
            m && t ? run::plan_run(*m, *t, static_cast<paths::Member>(r.member), s_.host.work_dir)
                   : run::RunPlan{};
        const bool outputs_ready =
            !plan.outputs.empty() &&
            std::all_of(plan.outputs.begin(), plan.outputs.end(),
                        [](const run::PlannedDataset& o) { return has_files(o.local); });
        std::vector<FoundContainer> found;
        for (const auto& c : containers[r.run_id]) found.push_back({c.id, c.state});
        Recovery rec = recover(r.state, r.container_id, found, outputs_ready);
        if (!m || !t) rec.action = Recovery::Action::retry;  // (becomes failed below)
        for (const auto& id : rec.remove) {
            try {
                s_.docker->remove_container(id, true);
            } catch (const std::exception& e) {
                s_.log->warn(ev::kDaemonError,
                             "removing container " + id.substr(0, 12) + " failed: " + e.what(),
                             ctx);
            }
        }
        const std::string was(state_name(r.state));
        if (rec.action == Recovery::Action::adopt) {
            run::Resume resume{.container_id = rec.container};
            if (r.deadline > 0)
                resume.deadline = std::chrono::system_clock::from_time_t(r.deadline);
            s_.log->info(ev::kRunAdopted,
                         "adopting container " + rec.container.substr(0, 12) +
                             " left by the previous daemon in " + was,
                         ctx);
            launch(*m, *t, static_cast<paths::Member>(r.member), split(r.gpus), resume);
            ++adopted;
        } else if (rec.action == Recovery::Action::publish) {
            s_.log->info(
                ev::kRunAdopted,
                "publishing the outputs the previous daemon left in " + plan.work_dir.string(),
                ctx);
            launch(*m, *t, static_cast<paths::Member>(r.member), {},
                   run::Resume{.publish_only = true});
            ++republished;
        } else {
            interrupted(r, m != nullptr);
            ++retried;
        }
    }
    s_.log->info(ev::kLedgerRecovered, std::to_string(adopted) + " container(s) adopted, " +
                                           std::to_string(republished) +
                                           " run(s) publishing their outputs, " +
                                           std::to_string(retried) + " run(s) scheduled again");
    return true;
}

std::optional<paths::AnalysisTime> Scheduler::analysis_time_of(const ledger::RunRecord& r) {
    try {
        return paths::parse_analysis_time(r.analysis_time);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void Scheduler::interrupted(const ledger::RunRecord& r, bool model_known) {
    driver_.interrupted(r, model_known);
    s_.log->warn(ev::kRunInterrupted,
                 "interrupted in " + std::string(state_name(r.state)) +
                     (model_known ? "; it will be retried" : "; model not configured"),
                 ctx_of(r));
}

// On a swarm a run's attempt is a job named from the run and attempt: a run
// recorded in launching or running is resumed by submitting it again (a no-op
// when the job exists) and waiting for it; one in staging had submitted
// nothing, and is retried.
bool Scheduler::reconcile_swarm(const std::vector<ledger::RunRecord>& runs) {
    std::size_t adopted = 0, retried = 0;
    for (const auto& r : runs) {
        const auto ctx = ctx_of(r);
        const config::ModelConfig* m = model(r.model);
        const std::optional<paths::AnalysisTime> t = analysis_time_of(r);
        const std::string was(state_name(r.state));
        if (m && t && (r.state == RunState::launching || r.state == RunState::running)) {
            s_.log->info(ev::kRunAdopted,
                         "adopting the swarm job of attempt " + std::to_string(r.attempt + 1) +
                             " left by the previous daemon in " + was,
                         ctx);
            launch(*m, *t, static_cast<paths::Member>(r.member), {},
                   run::Resume{.container_id = r.container_id});
            ++adopted;
        } else {
            interrupted(r, m != nullptr);
            ++retried;
        }
    }
    s_.log->info(ev::kLedgerRecovered, std::to_string(adopted) + " swarm job(s) adopted, " +
                                           std::to_string(retried) + " run(s) scheduled again");
    return true;
}

void Scheduler::stop_launching() {
    launching_ = false;
    timer_.cancel();
}

void Scheduler::reload(std::vector<config::ModelConfig> models) {
    s_.models = std::move(models);
    model_metrics();
}

void Scheduler::model_metrics() {
    for (const auto& m : s_.models) s_.metrics->add_model(m.name);
}

void Scheduler::success_gauges(const std::string& model, std::int64_t at,
                               const std::string& analysis_time) {
    s_.metrics->last_success.Add({{"model", model}}).Set(static_cast<double>(at));
    if (analysis_time.empty()) return;
    try {
        // only ever rises: an older cycle finishing late does not move it back
        auto& newest = s_.metrics->newest_completed.Add({{"model", model}});
        const auto t = static_cast<double>(
            util::unix_seconds(paths::parse_analysis_time(analysis_time).time_point()));
        if (t > newest.Value()) newest.Set(t);
    } catch (const std::exception&) {  // not an analysis time: the gauge keeps its value
    }
}

bool Scheduler::poll_recent() const {
    return s_.clock->unix_now() - last_ok_poll_.load() <= 3 * s_.host.poll_interval.count() + 5;
}

// After failed polls the interval doubles, up to 8 intervals or 5 minutes
// (whichever is shorter, never below one interval): S3 in trouble is not
// hammered, and a recovery is still noticed soon.
std::chrono::seconds Scheduler::next_poll_delay() const {
    const auto base = s_.host.poll_interval;
    if (failed_polls_ == 0) return base;
    const auto cap = std::max(base, std::min(base * 8, std::chrono::seconds(300)));
    const int doublings = std::min(failed_polls_ - 1, 10);
    return std::min(cap, base * (1 << doublings));
}

std::string Scheduler::poll_health() const {
    const std::int64_t last = last_ok_poll_.load();
    if (last == 0) return "no successful poll yet";
    const std::string ago = std::to_string(s_.clock->unix_now() - last) + " s";
    if (poll_recent()) return "ok (" + ago + " ago)";
    return "no successful poll for " + ago + " (expected within " +
           std::to_string(3 * s_.host.poll_interval.count() + 5) + " s)";
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
        // times after (newest - lookback): one page while the window holds
        // fewer than 1000 times, and a cycle that lands late is still found
        const auto lookback = std::chrono::duration_cast<std::chrono::minutes>(s_.host.lookback);
        for (const auto& [w, t] : newest_) try {
                after_map[w] = start_after(w, paths::AnalysisTime(t.time_point() - lookback));
            } catch (const std::exception&) {  // before year 0: list everything
            }
        auto models = s_.models;
        asio::post(pool_, [this, models, after_map]() mutable {
            PollResult r = poll_blocking(models, std::move(after_map));
            asio::post(io_, [this, r = std::move(r)]() mutable {
                polling_ = false;
                // thousands of times listed (a start, an outage): once the
                // listing is freed, give the memory back to the system
                guarded("applying a poll", [&] {
                    if (apply(std::move(r))) ::malloc_trim(0);
                });
                ++polls_applied_;
                if (launching_) schedule_poll(next_poll_delay());
            });
        });
    });
}

PollResult Scheduler::poll_blocking(const std::vector<config::ModelConfig>& models,
                                    std::map<WatchPrefix, std::string> after) {
    PollResult r;
    // one store (and its connections, kept from poll to poll) per bucket;
    // polls never overlap, so only one thread uses them at a time
    auto store_for = [&](const std::string& bucket) -> storage::ObjectStore& {
        auto& slot = poll_stores_[bucket];
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
    // readiness: every run waiting in the ledger (and every listed time not in
    // it yet) whose inputs all have their completion marker
    std::set<RunKey> candidates;
    for (const auto& rec : s_.ledger->in_state(RunState::waiting_inputs)) {
        if (rec.not_before > s_.clock->unix_now()) continue;
        try {
            candidates.insert({rec.model, paths::parse_analysis_time(rec.analysis_time),
                               static_cast<paths::Member>(rec.member)});
        } catch (...) {
        }
    }
    // newly listed times: the catch-up policy first, so that thousands of old
    // times after an outage cost no request
    for (const auto& m : models) {
        const auto w = discovery_prefix(m);
        if (!w) continue;
        for (const auto& l : r.listings) {
            if (l.prefix != *w) continue;
            const CatchUpDecision d = apply_catch_up(l.times, m.catch_up, s_.clock->now());
            // a time already in the ledger is a candidate above if it waits,
            // and needs no request in any other state (running, published,
            // failed...): a poll costs O(new analysis times), not O(lookback)
            for (const auto& t : d.run)
                for (auto member : m.members)
                    if (!s_.ledger->get(run::run_id(m.name, t, member)))
                        candidates.insert({m.name, t, member});
        }
    }
    for (const auto& k : candidates) {
        const auto& [name, t, member] = k;
        const config::ModelConfig* mc = nullptr;
        for (const auto& m : models)
            if (m.name == name) mc = &m;
        if (!mc) continue;
        bool complete = true;
        try {
            for (const auto& in : mc->inputs) {
                const config::S3Place p = config::locate(in, t, member);
                if (!run::input_complete(store_for(p.bucket), p, in.completion_marker,
                                         in.quiet_period, s_.clock->now())) {
                    complete = false;
                    break;
                }
            }
        } catch (const std::exception&) {
            complete = false;
        }
        if (complete) r.ready.push_back(k);
    }
    return r;
}

bool Scheduler::apply(PollResult r) {
    const std::map<std::string, ledger::RunRecord> runs = unfinished_runs();
    const Decision d = decide({.models = s_.models,
                               .host = s_.host,
                               .poll = r,
                               .runs = runs,
                               .active = active_,
                               .seen = seen_,
                               .launching = launching_,
                               .now = s_.clock->now()});
    const bool all_ok = d.listing_errors.empty();
    for (const auto* l : d.listing_errors) {
        s_.metrics->poll_errors.Add({}).Increment();
        s_.log->warn(ev::kPollFailed, "listing s3://" + l->prefix.bucket + "/" + l->prefix.prefix +
                                          " failed: " + l->error);
    }
    for (const auto& l : r.listings)
        for (const auto& f : l.foreign) {
            if (!foreign_.insert(l.prefix.bucket + "/" + f).second)
                continue;  // warned and counted once
            s_.log->warn(ev::kForeignEntry,
                         "ignored s3://" + l.prefix.bucket + "/" + f + ": not an analysis time");
            s_.metrics->foreign_entries.Add({{"bucket", l.prefix.bucket}}).Increment();
        }
    const std::vector<bool> fresh_new = driver_.record(d.record, RunState::waiting_inputs);
    const std::vector<bool> old_new = driver_.record(
        d.record_expired, RunState::expired, "older than the model's catch-up policy allows");
    if (const auto n = std::count(old_new.begin(), old_new.end(), true); n > 0)
        s_.log->info(ev::kRunExpired, std::to_string(n) +
                                          " run(s) of past analysis times not run: older than "
                                          "the catch-up policy allows (newest " +
                                          d.record_expired.back().run_id + ")");
    // Only once they are in the ledger are the new times known: if writing
    // failed (this step throws), the next poll lists them again.
    for (const auto& [w, t] : d.listed) {
        seen_[w].insert(t);
        if (!newest_.contains(w) || newest_[w] < t) newest_[w] = t;
    }
    // times before the lookback window cannot be listed again: forget them
    const auto lookback = std::chrono::duration_cast<std::chrono::minutes>(s_.host.lookback);
    for (auto& [w, times] : seen_) {
        const auto newest = newest_.find(w);
        if (newest == newest_.end()) continue;
        const auto from = newest->second.time_point() - lookback;
        times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](const auto& t) {
                        return t.time_point() > from;
                    }));
    }
    // one event per new time to be run (not per model and member; not again
    // after a restart, for times the ledger had)
    std::set<std::string> announced;
    for (std::size_t i = 0; i < d.record_listed; ++i)
        if (fresh_new[i] && announced.insert(d.record[i].analysis_time).second)
            s_.log->info(
                ev::kNewAnalysisTime, "new analysis time",
                {"", "",
                 paths::format_iso8601(paths::parse_analysis_time(d.record[i].analysis_time))});
    s_.metrics->polls.Add({{"outcome", all_ok ? "ok" : "error"}}).Increment();
    if (all_ok && failed_polls_ > 0) {
        s_.log->info(ev::kPollRecovered, "polling works again after " +
                                             std::to_string(failed_polls_) + " failed poll(s)");
        failed_polls_ = 0;
    }
    if (!all_ok) ++failed_polls_;
    if (all_ok) {
        last_ok_poll_ = s_.clock->unix_now();
        s_.metrics->last_poll.Add({}).Set(static_cast<double>(last_ok_poll_.load()));
    }
    for (const auto& e : d.expire)
        if (driver_.expire(e.run.id(), "older than the catch-up policy " + e.policy + " allows"))
            s_.log->info(ev::kRunExpired, "not run: older than catch-up " + e.policy,
                         ctx_of(e.run.id(), e.run.model, e.run.time));
    if (reconcile()) {
        if (const auto now = s_.clock->unix_now(); now - last_sweep_ >= kSweepInterval) {
            last_sweep_ = now;
            if (s_.swarm) {
                // (the names read here: the models change on this thread)
                std::set<std::string> objects;
                guarded("naming the swarm jobs' configs", [&] {
                    for (const auto& m : s_.models)
                        for (const auto& o : run::job_objects(s_.host, m))
                            objects.insert(o.file.name);
                });
                asio::post(pool_, [this, objects = std::move(objects)] {
                    guarded("removing stray swarm jobs", [&] { sweep_stray_jobs(objects); });
                });
            } else {
                asio::post(pool_, [this] {
                    guarded("removing stray containers", [&] { sweep_strays(); });
                });
            }
        }
        // runs whose publishing failed after their model succeeded: publish again
        for (const auto& k : d.publish)
            if (const config::ModelConfig* m = model(k.model))
                launch(*m, k.time, k.member, {}, run::Resume{.publish_only = true});
        for (const auto& w : d.wait)
            if (w.reason.starts_with("cannot run here") && unrunnable_.insert(w.run_id).second) {
                const auto rec = s_.ledger->get(w.run_id);
                s_.log->error(ev::kRunUnrunnable, w.reason,
                              rec ? ctx_of(*rec) : telemetry::LogContext{w.run_id, "", ""});
            }
        for (const auto& st : d.start)
            if (const config::ModelConfig* m = model(st.run.model))
                launch(*m, st.run.time, st.run.member, st.gpus, std::nullopt);
    }
    raise_late_alerts();
    return d.record.size() + d.record_expired.size() > 100;
}

std::map<std::string, ledger::RunRecord> Scheduler::unfinished_runs() {
    std::map<std::string, ledger::RunRecord> runs;
    for (auto& rec : s_.ledger->unfinished()) runs.emplace(rec.run_id, std::move(rec));
    return runs;
}

void Scheduler::raise_late_alerts() {
    for (const auto& d : late_alerts(s_.models, s_.ledger->unfinished(), s_.clock->unix_now())) {
        const auto rec = s_.ledger->get(d.run_id);
        if (!rec) continue;
        const std::string kind(late_kind_name(d.kind));
        s_.ledger->mark_late(d.run_id, static_cast<int>(d.kind));
        s_.metrics->late_runs.Add({{"model", d.model}, {"kind", kind}}).Increment();
        const std::string what =
            d.kind == LateKind::arrival
                ? "its inputs are not complete"
                : "it is not published (" + std::string(state_name(rec->state)) + ")";
        s_.log->warn(d.kind == LateKind::arrival ? ev::kLateArrival : ev::kLateCompletion,
                     "late: " + what + " at the " + kind + " deadline " +
                         util::format_utc(std::chrono::system_clock::from_time_t(d.at)),
                     ctx_of(*rec));
    }
}

void Scheduler::poll_now() {
    schedule_poll(std::chrono::seconds(0));
}

void Scheduler::launch(const config::ModelConfig& m, const paths::AnalysisTime& t,
                       paths::Member member, std::vector<std::string> gpus,
                       std::optional<run::Resume> resume) {
    run::RunPlan plan = run::plan_run(m, t, member, s_.host.work_dir);
    if (!gpus.empty()) plan.container.resources.gpus = {.device_ids = gpus};
    plan.container.resources.gpu_delivery = s_.host.gpu_delivery;
    s_.ledger->set_gpus(plan.run_id, util::join(gpus, ","));
    const auto rec = s_.ledger->get(plan.run_id);
    const bool force = rec && rec->force;
    active_[plan.run_id] = {m.name, gpus};
    ++active_count_;
    const int max_attempts = m.max_attempts;
    const auto retry_delay = m.retry_delay;
    if (!resume) {
        const auto detection =
            std::chrono::duration<double>(s_.clock->now() - t.time_point()).count();
        s_.metrics->detection_latency
            .Add({{"model", m.name}},
                 prometheus::Histogram::BucketBoundaries{60, 300, 900, 1800, 3600, 7200, 14400})
            .Observe(detection);
    }
    const int attempt = rec ? rec->attempt + 1 : 1;  // 1-based: names the swarm job
    asio::post(pool_, [this, plan, m, attempt, max_attempts, retry_delay, force, resume]() {
        const auto ctx = ctx_of(plan.run_id, plan.model, plan.analysis_time);
        std::string phase_now;
        auto phase_started = std::chrono::steady_clock::now();
        run::ExecuteOptions opts{
            .force = force,
            .transfer_concurrency = static_cast<std::size_t>(s_.host.transfer_concurrency),
            .keep_failed_runs = s_.host.keep_failed_runs,
            .mlwm_version = s_.mlwm_version,
            .resume = resume,
            .leave_failed_container = true,
            .s3_env = plan.pass_s3_credentials ? run::s3_container_env(s_.host)
                                               : std::map<std::string, std::string>{},
            .clock = s_.clock};
        opts.before_phase = [&](run::Phase p, const std::string& container) {
            const std::string phase(run::phase_name(p));
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
            // write-ahead; a resumed run is already in its phase; a cancelled
            // run throws here and stops
            driver_.enter(plan.run_id, p, container, plan.timeout);
            s_.log->info(
                ev::kRunState,
                phase + (container.empty() ? "" : " (container " + container.substr(0, 12) + ")"),
                ctx);
            s_.metrics->in_progress.Add({{"model", plan.model}, {"phase", phase}}).Increment();
            phase_now = phase;
            phase_started = std::chrono::steady_clock::now();
        };
        run::RunReport report =
            s_.swarm ? run::execute_on_swarm(plan, m, attempt, *s_.swarm, s_.host, opts)
                     : run::execute_run(plan, s_.stores, *s_.docker, opts);
        if (!phase_now.empty())
            s_.metrics->in_progress.Add({{"model", plan.model}, {"phase", phase_now}}).Decrement();
        asio::post(io_, [this, report, max_attempts, retry_delay]() {
            guarded("recording the end of " + report.run_id,
                    [&] { finished(report, max_attempts, retry_delay); });
            // recorded (or not: then the next start adopts it): the container can go
            if (!report.container_id.empty())
                asio::post(pool_, [this, report] { remove_container(report); });
        });
    });
}

void Scheduler::remove_container(const run::RunReport& report) {
    const auto rec = s_.ledger->get(report.run_id);
    // the ledger still waits for this container's outcome: kept for the next start
    if (!rec || (rec->container_id == report.container_id &&
                 (rec->state == RunState::launching || rec->state == RunState::running)))
        return;
    try {
        if (s_.swarm)
            s_.swarm->release_service(report.container_id);  // (else removed by the sweep)
        else
            s_.docker->remove_container(report.container_id, true);
    } catch (const std::exception& e) {
        s_.log->warn(ev::kDaemonError,
                     "removing container " + report.container_id.substr(0, 12) +
                         " failed: " + e.what() + " (removed at the run's next attempt)",
                     {report.run_id, report.model, ""});
    }
}

void Scheduler::sweep_strays() {
    const auto found = s_.docker->list_containers({"org.mlwm.managed=true"});
    for (const auto& c : found) {
        const auto run = c.labels.find("org.mlwm.run-id");
        if (run == c.labels.end()) continue;
        const auto rec = s_.ledger->get(run->second);  // read after the listing
        if (!is_stray({c.id, c.state}, rec ? std::optional(rec->state) : std::nullopt,
                      rec ? rec->container_id : ""))
            continue;
        const telemetry::LogContext ctx = rec ? ctx_of(*rec) : telemetry::LogContext{};
        try {
            s_.docker->remove_container(c.id, true);
            s_.log->info(ev::kContainerStrayRemoved,
                         "removed container " + c.id.substr(0, 12) + " (" + c.state +
                             "): no attempt of the run waits for it (" +
                             std::string(state_name(rec->state)) + ")",
                         ctx);
        } catch (const std::exception& e) {
            s_.log->warn(ev::kDaemonError,
                         "removing stray container " + c.id.substr(0, 12) + " failed: " + e.what(),
                         ctx);
        }
    }
}

// Jobs no attempt waits for: one given up while its node was away (kept,
// stopped, until the node is back or gone), or one whose removal failed; then
// the jobs' configs and secrets that are not `current` (a changed mlwm.yaml
// or model) once no job uses them (the engine refuses to remove those).
void Scheduler::sweep_stray_jobs(const std::set<std::string>& current) {
    for (const auto& j : s_.swarm->list_jobs()) {
        const auto rec = s_.ledger->get(j.run_id);  // read after the listing
        if (!is_stray_job(j.attempt, rec ? std::optional(rec->state) : std::nullopt,
                          rec ? rec->attempt : 0))
            continue;
        const telemetry::LogContext ctx = ctx_of(*rec);
        try {
            if (s_.swarm->release_service(j.name))
                s_.log->info(ev::kContainerStrayRemoved,
                             "removed swarm job " + j.name +
                                 ": no attempt of the run waits for it (" +
                                 std::string(state_name(rec->state)) + ")",
                             ctx);
        } catch (const std::exception& e) {
            s_.log->warn(ev::kDaemonError, "removing swarm job " + j.name + " failed: " + e.what(),
                         ctx);
        }
    }
    if (current.empty()) return;  // the current names could not be made: keep everything
    for (const std::string kind : {"configs", "secrets"})
        for (const auto& [id, name] :
             s_.swarm->list_swarm_objects(kind, run::job_objects_label(s_.host)))
            if (!current.contains(name) && s_.swarm->remove_swarm_object(kind, id))
                s_.log->info(ev::kContainerStrayRemoved,
                             "removed swarm " + kind.substr(0, kind.size() - 1) + " " + name +
                                 ": no job uses it, and the configuration it held has changed");
}

void Scheduler::finished(const run::RunReport& rep, int max_attempts,
                         std::chrono::seconds retry_delay) {
    using K = FinishPlan::Kind;
    const std::string& run_id = rep.run_id;
    active_.erase(run_id);
    --active_count_;
    s_.ledger->set_gpus(run_id, "");
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const FinishPlan p = driver_.finish(run_id, rep, max_attempts, retry_delay,
                                        std::uniform_real_distribution<double>(0, 1)(rng));
    const auto rec = s_.ledger->get(run_id);
    const telemetry::LogContext ctx =
        rec ? ctx_of(*rec) : telemetry::LogContext{run_id, rep.model, ""};
    if (const std::string o = outcome_label(p, rep.outcome); !o.empty())
        s_.metrics->runs.Add({{"model", rep.model}, {"outcome", o}}).Increment();
    const auto in_s = [&] {
        return std::to_string(p.retry_at ? *p.retry_at - s_.clock->unix_now() : 0) + " s";
    };
    switch (p.kind) {
        case K::none: return;
        case K::cancelled:
            s_.log->info(ev::kRunCancelled,
                         "stopped: cancelled by an operator (" + rep.message + ")", ctx);
            return;
        case K::succeeded:
            s_.log->info(ev::kRunSucceeded, rep.message, ctx);
            success_gauges(rep.model, s_.clock->unix_now(), rec ? rec->analysis_time : "");
            return;
        case K::already_done: s_.log->info(ev::kRunAlreadyDone, rep.message, ctx); return;
        case K::retry_publishing:
            s_.log->error(ev::kRunFailed, rep.message, ctx);
            s_.log->info(ev::kRunRetry,
                         "publishing again (attempt " + std::to_string(p.next_attempt) + " of " +
                             std::to_string(max_attempts) + ") in " + in_s() +
                             "; the model is not run again",
                         ctx);
            return;
        case K::end_attempt:
            s_.log->error(ev::kRunFailed, rep.message, ctx);
            if (p.retry_at)
                s_.log->info(ev::kRunRetry,
                             "attempt " + std::to_string(p.next_attempt) + " of " +
                                 std::to_string(max_attempts) + " in " + in_s(),
                             ctx);
            return;
    }
}

// What the next poll would do, from the same decision, carried out by nobody.
nlohmann::ordered_json Scheduler::dry_run() {
    const PollResult r = poll_blocking(s_.models, {});
    const std::map<std::string, ledger::RunRecord> runs = unfinished_runs();
    const Decision d = decide({.models = s_.models,
                               .host = s_.host,
                               .poll = r,
                               .runs = runs,
                               .active = active_,
                               .seen = {},
                               .launching = true,
                               .now = s_.clock->now()});
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    std::set<std::string> said;
    auto say = [&](const std::string& id, const std::string& action) {
        if (said.insert(id).second) out.push_back({{"run_id", id}, {"action", action}});
    };
    for (const auto& st : d.start) say(st.run.id(), "run");
    for (const auto& k : d.publish) say(k.id(), "publish (its model ran; publishing failed)");
    for (const auto& e : d.expire) say(e.run.id(), "expire (catch-up " + e.policy + ")");
    for (const auto& n : d.record_expired) say(n.run_id, "expire (older than the catch-up policy)");
    for (const auto& w : d.wait) say(w.run_id, "wait: " + w.reason);
    // listed runs the ledger has past waiting (no request was made for them)
    for (const auto& [w, t] : d.listed)
        for (const auto& m : s_.models)
            if (discovery_prefix(m) == std::optional(w))
                for (auto member : m.members) {
                    const std::string id = run::run_id(m.name, t, member);
                    if (const auto rec = s_.ledger->get(id);
                        rec && rec->state != RunState::waiting_inputs)
                        say(id, "nothing: " + std::string(state_name(rec->state)));
                }
    for (const auto* l : d.listing_errors)
        out.push_back({{"error", "listing s3://" + l->prefix.bucket + "/" + l->prefix.prefix +
                                     " failed: " + l->error}});
    return out;
}

nlohmann::ordered_json Scheduler::status() {
    nlohmann::ordered_json j;
    nlohmann::ordered_json by_state = nlohmann::ordered_json::object();
    const auto counts = s_.ledger->count_by_state();
    for (auto st : {RunState::waiting_inputs, RunState::staging, RunState::launching,
                    RunState::running, RunState::publishing, RunState::succeeded, RunState::failed,
                    RunState::timed_out, RunState::expired, RunState::cancelled}) {
        const auto it = counts.find(st);
        by_state[std::string(state_name(st))] = it == counts.end() ? 0 : it->second;
    }
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
    nlohmann::ordered_json upcoming = nlohmann::ordered_json::array();
    for (const auto& d : upcoming_deadlines(deadline_runs(s_.models, s_.ledger->unfinished()),
                                            s_.clock->unix_now())) {
        if (upcoming.size() >= 50) break;
        upcoming.push_back(
            {{"run_id", d.run_id},
             {"model", d.model},
             {"kind", late_kind_name(d.kind)},
             {"at", util::format_utc(std::chrono::system_clock::from_time_t(d.at))}});
    }
    j["upcoming_deadlines"] = upcoming;
    return j;
}

}  // namespace mlwm::schedule

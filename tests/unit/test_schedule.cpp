// The scheduler's pure parts: the run state machine, catch-up, discovery,
// and the run ledger on SQLite.
#include <doctest/doctest.h>
#include <unistd.h>

#include "config/model_config.hpp"
#include "ledger/ledger.hpp"
#include "run/run_state.hpp"
#include "schedule/catch_up.hpp"
#include "schedule/decide.hpp"
#include "schedule/discovery.hpp"
#include "schedule/recovery.hpp"
#include "schedule/run_driver.hpp"

using namespace mlwm;
using namespace mlwm::schedule;
using S = RunState;
using run::parse_state;

TEST_CASE("run states: names and the allowed transitions") {
    for (auto s : {S::waiting_inputs, S::staging, S::launching, S::running, S::publishing,
                   S::succeeded, S::failed, S::timed_out, S::expired, S::cancelled})
        CHECK(parse_state(state_name(s)) == s);
    CHECK_FALSE(parse_state("done").has_value());
    // the happy path
    CHECK(transition_allowed(S::waiting_inputs, S::staging));
    CHECK(transition_allowed(S::staging, S::launching));
    CHECK(transition_allowed(S::launching, S::running));
    CHECK(transition_allowed(S::running, S::publishing));
    CHECK(transition_allowed(S::publishing, S::succeeded));
    // failures, retries, expiry, cancel
    CHECK(transition_allowed(S::running, S::timed_out));
    CHECK(transition_allowed(S::failed, S::waiting_inputs));
    CHECK(transition_allowed(S::timed_out, S::waiting_inputs));
    CHECK(transition_allowed(S::waiting_inputs, S::expired));
    CHECK(transition_allowed(S::waiting_inputs, S::succeeded));  // found published
    CHECK(transition_allowed(S::running, S::cancelled));
    // never out of a final state, never skipping ahead, never publishing twice
    CHECK_FALSE(transition_allowed(S::succeeded, S::waiting_inputs));
    CHECK_FALSE(transition_allowed(S::succeeded, S::publishing));
    CHECK_FALSE(transition_allowed(S::waiting_inputs, S::running));
    CHECK_FALSE(transition_allowed(S::staging, S::publishing));
    CHECK_FALSE(transition_allowed(S::expired, S::staging));
    CHECK_FALSE(transition_allowed(S::cancelled, S::cancelled));
}

TEST_CASE("catch-up policies") {
    using namespace std::chrono;
    const auto t = [](int d, int h) { return paths::AnalysisTime::from_fields(2023, 10, d, h, 0); };
    const auto now = t(3, 12).time_point() + minutes(30);
    const std::vector<paths::AnalysisTime> times{t(1, 0), t(3, 12), t(2, 12), t(1, 0), t(3, 6)};
    auto d = apply_catch_up(times, config::parse_catch_up("all"), now);
    CHECK(d.run.size() == 4);  // duplicates folded
    CHECK(d.expired.empty());
    CHECK(std::is_sorted(d.run.begin(), d.run.end()));
    d = apply_catch_up(times, config::parse_catch_up("latest"), now);
    CHECK(d.run == std::vector<paths::AnalysisTime>{t(3, 12)});
    CHECK(d.expired.size() == 3);
    d = apply_catch_up(times, config::parse_catch_up("P1D"), now);
    CHECK(d.run == std::vector<paths::AnalysisTime>{t(3, 6), t(3, 12)});
    CHECK(d.expired == std::vector<paths::AnalysisTime>{t(1, 0), t(2, 12)});
    CHECK_THROWS_WITH_AS(config::parse_catch_up("sometimes"),
                         doctest::Contains("all, latest or a maximum age"), std::invalid_argument);
}

TEST_CASE("discovery: the listing prefix, the analysis-time folders, start-after") {
    const auto cfg = config::parse_model_config("m", "f", R"(docker_image: x/y:1
inputs:
  a:
    uri_args:
      bbox: {lon_min: -10.0, lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: pressure_levels
      model_name: harmonie
      model_config: dini
      bucket_name: forecast-data
    internal_path: /in/a
  b:
    uri: s3://harmonie-zarr/dini/control/{analysis_time:%Y-%m-%dT%H%M%SZ}/single_levels.zarr
    internal_path: /in/b
outputs:
  o:
    uri: s3://out-bucket/x/{analysis_time}/o.zarr
    internal_path: /out
)");
    const auto wa = watch_prefix(cfg.inputs[0]);
    REQUIRE(wa.has_value());
    CHECK(discovery_prefix(cfg) == wa);  // a model's times come from its first input
    CHECK(wa->bucket == "forecast-data");
    CHECK(wa->prefix == "harmonie/dini/w-10p0_s50p0_e10p0_n60p0/dx2p5km_dy2p5km/");
    const auto scan = scan_common_prefixes(
        *wa, {wa->prefix + "2023-10-01T1200Z/", wa->prefix + "2023-10-01T0600Z/",
              wa->prefix + "latest/", wa->prefix + "2023-13-01T0000Z/"});
    CHECK(scan.times ==
          std::vector<paths::AnalysisTime>{paths::AnalysisTime::from_fields(2023, 10, 1, 6, 0),
                                           paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0)});
    CHECK(scan.foreign.size() == 2);
    const std::string after =
        start_after(*wa, paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0));
    CHECK(after == wa->prefix + "2023-10-01T1200Z0");
    CHECK(wa->prefix + "2023-10-01T1200Z/member0/pressure_levels.zarr/.zmetadata" <
          after);                                     // the folder is past
    CHECK(after < wa->prefix + "2023-10-01T1800Z/");  // later ones are not

    const auto wb = watch_prefix(cfg.inputs[1]);
    REQUIRE(wb.has_value());
    CHECK(wb->bucket == "harmonie-zarr");
    CHECK(wb->prefix == "dini/control/");
    CHECK(parse_segment("2023-10-01T060000Z", wb->segment) ==
          paths::AnalysisTime::from_fields(2023, 10, 1, 6, 0));
    CHECK_FALSE(
        parse_segment("2023-10-01T060030Z", wb->segment).has_value());  // seconds must be zero
    CHECK_FALSE(parse_segment("2023-10-01", wb->segment).has_value());
    CHECK(start_after(*wb, paths::AnalysisTime::from_fields(2023, 10, 1, 6, 0)) ==
          "dini/control/2023-10-01T060000Z0");
}

TEST_CASE("ledger: write-ahead transitions, history, restart") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mlwm-ledger-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const std::string id = "persistence/2023-10-01T1200Z/member0";
    {
        ledger::Ledger l(dir / "ledger.sqlite3");
        CHECK(l.writable());
        auto r = l.ensure(id, "persistence", "2023-10-01T1200Z", 0);
        CHECK(r.state == S::waiting_inputs);
        CHECK(l.ensure(id, "persistence", "2023-10-01T1200Z", 0).created == r.created);  // once
        l.transition(id, S::staging, "inputs complete");
        l.transition(id, S::launching, "staged 3 MiB");
        r = l.transition(id, S::running, "started", std::string("c0ffee"));
        CHECK(r.container_id == "c0ffee");
        CHECK_THROWS_WITH_AS(l.transition(id, S::expired, "skip"),
                             doctest::Contains("cannot go from running to expired"),
                             ledger::LedgerError);
        CHECK(l.get(id)->state == S::running);  // the refused transition changed nothing
        CHECK(l.in_state(S::running).size() == 1);
    }
    {
        // a restarted daemon finds the run where it was, with its container
        ledger::Ledger l(dir / "ledger.sqlite3");
        auto r = l.get(id);
        REQUIRE(r.has_value());
        CHECK(r->state == S::running);
        CHECK(r->container_id == "c0ffee");
        l.transition(id, S::failed, "exit 1", std::nullopt, 1700000000);
        const auto retried = l.transition(id, S::waiting_inputs, "retry");
        CHECK(retried.attempt == 1);
        CHECK(retried.container_id.empty());
        const auto h = l.history(id);
        REQUIRE(h.size() == 5);
        CHECK(h.front().from == "waiting_inputs");
        CHECK(h.back().to == "waiting_inputs");
        CHECK(l.recent(10).size() == 1);
        CHECK_THROWS_AS(l.transition("nope", S::staging, ""), ledger::LedgerError);
    }
    fs::remove_all(dir);
}

TEST_CASE("stray containers: removed only when no attempt of their run waits for them") {
    const FoundContainer exited{"c1", "exited"}, created{"c1", "created"}, running{"c1", "running"};
    // a run this ledger does not know (another daemon's): never
    CHECK_FALSE(is_stray(exited, std::nullopt, ""));
    // finished runs and runs waiting for a retry: whatever is left goes
    for (auto st : {S::succeeded, S::failed, S::timed_out, S::cancelled, S::expired,
                    S::waiting_inputs, S::staging}) {
        CHECK(is_stray(exited, st, "c1"));
        CHECK(is_stray(created, st, ""));
        // a running container is never removed by a sweep
        CHECK_FALSE(is_stray(running, st, "c1"));
    }
    // launching: its create may still be in flight (the id not recorded yet)
    CHECK_FALSE(is_stray(created, S::launching, ""));
    CHECK_FALSE(is_stray(exited, S::launching, "c0"));
    // running / publishing: the recorded container is the run's; others are not
    for (auto st : {S::running, S::publishing}) {
        CHECK_FALSE(is_stray(exited, st, "c1"));
        CHECK_FALSE(is_stray(created, st, "c1"));
        CHECK(is_stray(exited, st, "c0"));
        CHECK(is_stray(created, st, ""));
    }
}

TEST_CASE("recovery after a restart: adopt, publish or retry; never a second container") {
    using A = Recovery::Action;
    const std::vector<FoundContainer> none;
    // running: the recorded container is adopted whatever its state (exited:
    // collected, its exit code read from the engine)
    for (const char* st : {"running", "exited", "created"}) {
        const auto r = recover(S::running, "c1", {{"c1", st}}, false);
        CHECK(r.action == A::adopt);
        CHECK(r.container == "c1");
        CHECK(r.remove.empty());
    }
    // ...and a leftover of an earlier attempt beside it is removed
    auto r = recover(S::running, "c2", {{"c1", "exited"}, {"c2", "running"}}, false);
    CHECK(r.action == A::adopt);
    CHECK(r.container == "c2");
    CHECK(r.remove == std::vector<std::string>{"c1"});
    // running without its container (removed by someone else): run again
    r = recover(S::running, "c1", none, true);
    CHECK(r.action == A::retry);
    r = recover(S::running, "c1", {{"c0", "exited"}}, false);
    CHECK(r.action == A::retry);
    CHECK(r.remove == std::vector<std::string>{"c0"});
    // launching: a created container never ran: adopted (started); an exited
    // one is a leftover of an earlier attempt
    r = recover(S::launching, "", {{"c0", "exited"}, {"c1", "created"}}, false);
    CHECK(r.action == A::adopt);
    CHECK(r.container == "c1");
    CHECK(r.remove == std::vector<std::string>{"c0"});
    r = recover(S::launching, "", {{"c0", "exited"}}, false);
    CHECK(r.action == A::retry);
    // publishing: the container exited 0 before this was recorded; its
    // outputs are published, the container (kept until now) removed
    r = recover(S::publishing, "c1", {{"c1", "exited"}}, true);
    CHECK(r.action == A::publish);
    CHECK(r.remove == std::vector<std::string>{"c1"});
    // publishing with the outputs gone (published and cleaned up): a retry,
    // whose marker check ends it without running the model
    r = recover(S::publishing, "c1", none, false);
    CHECK(r.action == A::retry);
    // staging: no container yet; leftovers removed
    r = recover(S::staging, "", {{"c0", "exited"}}, true);
    CHECK(r.action == A::retry);
    CHECK(r.remove == std::vector<std::string>{"c0"});
    CHECK(recovery_action_name(A::publish) == "publish");
}

TEST_CASE("stray swarm jobs: removed only when no attempt of their run waits for them") {
    // a run this ledger does not know (another daemon's on the same swarm): never
    CHECK_FALSE(is_stray_job(1, std::nullopt, 0));
    // the attempt the run waits for (its submission may be in flight in launching)
    CHECK_FALSE(is_stray_job(2, S::launching, 1));
    CHECK_FALSE(is_stray_job(2, S::running, 1));
    // an earlier attempt (given up when its node was lost), or a finished run's
    CHECK(is_stray_job(1, S::running, 1));
    CHECK(is_stray_job(1, S::launching, 1));
    for (auto st :
         {S::succeeded, S::failed, S::timed_out, S::cancelled, S::waiting_inputs, S::staging})
        CHECK(is_stray_job(1, st, 0));
}

TEST_CASE("plan_finish: what the end of an attempt records") {
    using K = schedule::FinishPlan::Kind;
    ledger::RunRecord rec;
    rec.state = run::RunState::running;
    run::RunReport rep;
    rep.outcome = run::Outcome::failed;
    rep.failed_in = run::Phase::running;
    auto plan = [&](int max_attempts, double jitter = 0.5) {
        return schedule::plan_finish(rec, rep, max_attempts, std::chrono::seconds(60), jitter,
                                     1000);
    };
    // a failure with attempts left: failed, retried within [now, now + delay]
    auto p = plan(3);
    CHECK(p.kind == K::end_attempt);
    CHECK(p.to == run::RunState::failed);
    REQUIRE(p.retry_at.has_value());
    CHECK(*p.retry_at == 1030);
    CHECK(p.next_attempt == 2);
    CHECK(schedule::outcome_label(p, rep.outcome) == "failed");
    // the last attempt: no retry
    rec.attempt = 2;
    CHECK_FALSE(plan(3).retry_at.has_value());
    // the backoff doubles per attempt, up to its cap (15 min here)
    rec.attempt = 1;
    CHECK(*plan(5, 0.999).retry_at == 1000 + 119);
    rec.attempt = 10;
    CHECK(*plan(20, 0.999).retry_at == 1000 + 899);
    // its cluster node was lost: the next attempt at once, within the attempts allowed
    rec.attempt = 0;
    rep.retry_at_once = true;
    CHECK(*plan(3, 0.999).retry_at == 1000);
    rec.attempt = 2;
    CHECK_FALSE(plan(3).retry_at.has_value());
    rep.retry_at_once = false;
    // a timeout while running
    rec.attempt = 0;
    rep.outcome = run::Outcome::timed_out;
    CHECK(plan(3).to == run::RunState::timed_out);
    CHECK(schedule::outcome_label(plan(3), rep.outcome) == "timed_out");
    // publishing failed after the model succeeded: publishing alone, again
    rec.state = run::RunState::publishing;
    rep.outcome = run::Outcome::failed;
    rep.failed_in = run::Phase::publishing;
    CHECK(plan(3).kind == K::retry_publishing);
    rec.attempt = 2;  // ... unless it was the last attempt
    CHECK(plan(3).kind == K::end_attempt);
    // cancelled meanwhile: whatever the container did, it stays cancelled
    rec.state = run::RunState::cancelled;
    rep.outcome = run::Outcome::succeeded;
    CHECK(plan(3).kind == K::cancelled);
    CHECK(schedule::outcome_label(plan(3), rep.outcome) == "cancelled");
    // inputs gone between the check and the start: nothing recorded
    rec.state = run::RunState::waiting_inputs;
    rep.outcome = run::Outcome::inputs_missing;
    CHECK(plan(3).kind == K::none);
    CHECK(schedule::outcome_label(plan(3), rep.outcome).empty());
    CHECK(schedule::state_of(run::Phase::publishing) == run::RunState::publishing);
}

TEST_CASE("decide: new times recorded, too old ones expired, ready runs started within limits") {
    const auto m = config::parse_model_config("m", "m/config.yaml", R"(docker_image: x/y:1
catch_up: PT12H
inputs:
  state:
    uri: s3://inputs/{analysis_time}/state.zarr
    internal_path: /in
outputs:
  out:
    uri: s3://outputs/{analysis_time}/out.zarr
    internal_path: /out
)");
    const std::vector<config::ModelConfig> models{m};
    config::HostConfig host;
    host.max_concurrent_runs = 1;
    const auto t = [](int day, int hour) {
        return paths::AnalysisTime::from_fields(2023, 10, day, hour, 0);
    };
    schedule::PollResult poll;
    poll.listings.push_back(
        {*schedule::discovery_prefix(m), {t(1, 0), t(2, 0), t(2, 6)}, {}, true, ""});
    poll.ready = {{"m", t(2, 0), 0}, {"m", t(2, 6), 0}};
    std::map<std::string, ledger::RunRecord> runs;
    std::map<std::string, schedule::ActiveRun> active;
    std::map<schedule::WatchPrefix, std::set<paths::AnalysisTime>> seen;
    const auto now = t(2, 7).time_point();
    auto d = schedule::decide({models, host, poll, runs, active, seen, true, now});
    CHECK(d.listed.size() == 3);
    REQUIRE(d.record_expired.size() == 1);  // day 1 is older than 12 h
    CHECK(d.record_expired[0].run_id == "m/2023-10-01T0000Z/member0");
    CHECK(d.record_listed == 2);
    REQUIRE(d.start.size() == 1);  // one at a time
    CHECK(d.start[0].run.id() == "m/2023-10-02T0000Z/member0");
    REQUIRE(d.wait.size() == 1);
    CHECK(d.wait[0].run_id == "m/2023-10-02T0600Z/member0");
    // known times are not recorded again; a run in progress is not started again
    seen[*schedule::discovery_prefix(m)] = {t(1, 0), t(2, 0), t(2, 6)};
    active["m/2023-10-02T0000Z/member0"] = {"m", {}};
    ledger::RunRecord running;
    running.run_id = "m/2023-10-02T0000Z/member0";
    running.state = run::RunState::running;
    runs[running.run_id] = running;
    ledger::RunRecord waiting;
    waiting.run_id = "m/2023-10-02T0600Z/member0";
    runs[waiting.run_id] = waiting;
    d = schedule::decide({models, host, poll, runs, active, seen, true, now});
    CHECK(d.listed.empty());
    CHECK(d.record.empty());
    CHECK(d.start.empty());  // the limit is taken by the run in progress
    // after SIGTERM nothing starts
    active.clear();
    d = schedule::decide({models, host, poll, runs, active, seen, false, now});
    CHECK(d.start.empty());
    // a failed listing is reported, and records nothing
    poll.listings[0].ok = false;
    poll.listings[0].error = "503 SlowDown";
    seen.clear();
    d = schedule::decide({models, host, poll, runs, active, seen, true, now});
    REQUIRE(d.listing_errors.size() == 1);
    CHECK(d.listing_errors[0]->error == "503 SlowDown");
    CHECK(d.listed.empty());
}

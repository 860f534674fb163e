// The daemon's pure decisions: admission (limits, GPU slots), late alerts,
// input readiness by quiet period, failpoint lists, UTC time text, Docker
// request kinds; the ledger's operator actions and batch inserts; the
// metrics' counters at 0.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "docker/client.hpp"
#include "ledger/ledger.hpp"
#include "run/readiness.hpp"
#include "schedule/admission.hpp"
#include "schedule/deadlines.hpp"
#include "telemetry/metrics.hpp"
#include "util/failpoint.hpp"
#include "util/http_header.hpp"
#include "util/instance_lock.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

using namespace mlwm;
using namespace mlwm::schedule;
using S = RunState;

namespace {
docker::GpuRequest gpus(int n) {
    return {.count = n};
}
std::vector<std::string> ids(const AdmissionResult& r) {
    std::vector<std::string> out;
    for (const auto& a : r.start) out.push_back(a.run_id);
    return out;
}
}  // namespace

TEST_CASE("admission: the global limit, then each model's limit, in the order given") {
    const std::vector<Candidate> c{
        {"a/1", "a", 0, {}}, {"a/2", "a", 0, {}}, {"b/1", "b", 0, {}}, {"c/1", "c", 0, {}}};
    CHECK(ids(admit(c, {.global_limit = 2})) == std::vector<std::string>{"a/1", "a/2"});
    CHECK(ids(admit(c, {.global_limit = 3, .active = 2})) == std::vector<std::string>{"a/1"});
    const auto none = admit(c, {.global_limit = 2, .active = 2});
    CHECK(none.start.empty());
    REQUIRE(none.wait.size() == 4);
    CHECK(none.wait[0].reason == "the host's limit of 2 concurrent runs is reached");

    // model a may run one at a time: a/2 waits, b and c go past it
    std::vector<Candidate> limited = c;
    limited[0].model_limit = limited[1].model_limit = 1;
    auto r = admit(limited, {.global_limit = 10});
    CHECK(ids(r) == std::vector<std::string>{"a/1", "b/1", "c/1"});
    REQUIRE(r.wait.size() == 1);
    CHECK(r.wait[0].run_id == "a/2");
    CHECK(r.wait[0].reason == "the model's limit of 1 concurrent runs is reached");
    // one of model a already runs
    r = admit(limited, {.global_limit = 10, .active = 1, .model_active = {{"a", 1}}});
    CHECK(ids(r) == std::vector<std::string>{"b/1", "c/1"});
}

TEST_CASE("admission: GPU slots are exclusive; a run needing N waits for N free") {
    const std::vector<std::string> host{"0", "1", "2"};
    std::vector<Candidate> c{{"big/1", "big", 0, gpus(2)},
                             {"big/2", "big", 0, gpus(2)},
                             {"cpu/1", "cpu", 0, {}},
                             {"one/1", "one", 0, gpus(1)}};
    auto r = admit(c, {.global_limit = 10, .host_gpus = host});
    REQUIRE(r.start.size() == 3);
    CHECK(r.start[0].gpus == std::vector<std::string>{"0", "1"});
    CHECK(r.start[1].run_id == "cpu/1");
    CHECK(r.start[1].gpus.empty());
    CHECK(r.start[2].gpus == std::vector<std::string>{"2"});
    REQUIRE(r.wait.size() == 1);
    CHECK(r.wait[0].run_id == "big/2");
    CHECK(r.wait[0].reason == "waiting for free GPUs");

    // GPUs held by runs in progress are not given again
    r = admit(c, {.global_limit = 10, .active = 1, .host_gpus = host, .busy_gpus = {"1"}});
    CHECK(r.start[0].gpus == std::vector<std::string>{"0", "2"});
    CHECK(ids(r) == std::vector<std::string>{"big/1", "cpu/1"});

    // "all" needs every GPU free; named devices need those
    c = {{"all/1", "all", 0, {.all = true}}, {"named/1", "named", 0, {.device_ids = {"2"}}}};
    r = admit(c, {.global_limit = 10, .host_gpus = host, .busy_gpus = {"2"}});
    CHECK(r.start.empty());
    r = admit(c, {.global_limit = 10, .host_gpus = host});
    CHECK(ids(r) == std::vector<std::string>{"all/1"});
    CHECK(r.start[0].gpus == host);

    // impossible here: said so, never started
    r = admit({{"big/1", "big", 0, gpus(2)}}, {.global_limit = 10});
    REQUIRE(r.wait.size() == 1);
    CHECK(r.wait[0].reason ==
          "cannot run here: it needs GPUs and the host lists none (gpus in the host "
          "configuration)");
    CHECK(gpu_request_unsatisfiable(gpus(4), host) == "it needs 4 GPUs and the host lists 3");
    CHECK(gpu_request_unsatisfiable({.device_ids = {"GPU-7"}}, host) ==
          "it needs GPU 'GPU-7', which the host does not list");
    CHECK(gpu_request_unsatisfiable({}, {}).empty());
}

TEST_CASE("late alerts: due when the deadline passes, once, whatever the run does") {
    const std::int64_t t0 = 1'700'000'000;
    DeadlineRun waiting{
        "m/1", "m", t0, S::waiting_inputs, false, 0, std::chrono::hours(3), std::chrono::hours(5)};
    // before any deadline: none due, both upcoming, soonest first
    CHECK(due_alerts({waiting}, t0 + 3600).empty());
    auto up = upcoming_deadlines({waiting}, t0 + 3600);
    REQUIRE(up.size() == 2);
    CHECK(up[0].kind == LateKind::arrival);
    CHECK(up[0].at == t0 + 3 * 3600);
    CHECK(up[1].kind == LateKind::completion);
    // the arrival deadline passes with the inputs still missing
    auto due = due_alerts({waiting}, t0 + 3 * 3600);
    REQUIRE(due.size() == 1);
    CHECK(due[0].kind == LateKind::arrival);
    // raised once
    waiting.raised = static_cast<int>(LateKind::arrival);
    CHECK(due_alerts({waiting}, t0 + 4 * 3600).empty());
    // a run still running at the completion deadline is late then, not when it ends
    DeadlineRun running = waiting;
    running.state = S::running;
    running.inputs_arrived = true;
    running.raised = 0;
    due = due_alerts({running}, t0 + 5 * 3600);
    REQUIRE(due.size() == 1);
    CHECK(due[0].kind == LateKind::completion);
    CHECK(late_kind_name(due[0].kind) == "completion");
    // inputs that arrived: no arrival alert; published, expired or cancelled: nothing
    CHECK(due_alerts({running}, t0 + 4 * 3600).empty());
    for (auto st : {S::succeeded, S::expired, S::cancelled}) {
        running.state = st;
        CHECK(due_alerts({running}, t0 + 9 * 3600).empty());
    }
    // no deadlines configured: nothing
    CHECK(due_alerts({{"m/2", "m", t0, S::waiting_inputs, false, 0, {}, {}}}, t0 + 99999).empty());
}

TEST_CASE("readiness by quiet period: objects exist, none newer than the period") {
    const auto now = *util::parse_utc("2023-11-01T06:10:00Z");
    using O = storage::ObjectInfo;
    const std::chrono::seconds quiet(120);
    CHECK_FALSE(run::quiet_since({}, quiet, now));  // nothing yet
    CHECK(run::quiet_since({O{"a", 1, "", "2023-11-01T06:07:59.000Z"}}, quiet, now));
    CHECK_FALSE(run::quiet_since(
        {O{"a", 1, "", "2023-11-01T06:00:00.000Z"}, O{"b", 1, "", "2023-11-01T06:08:30.500Z"}},
        quiet, now));
    CHECK_FALSE(run::quiet_since({O{"a", 1, "", "yesterday"}}, quiet, now));  // unreadable: new
    CHECK(run::completion_condition({"b", "k"}, ".zmetadata", {}) == "s3://b/k/.zmetadata");
    CHECK(run::completion_condition({"b", "k"}, ".zmetadata", quiet) ==
          "s3://b/k/ quiet for 120 s");
}

TEST_CASE("UTC time text: format and parse round trip") {
    const auto t = *util::parse_utc("2023-11-01T06:07:08.250Z");
    CHECK(util::format_utc(t) == "2023-11-01T06:07:08Z");
    CHECK(util::format_utc(t, true) == "2023-11-01T06:07:08.250Z");
    CHECK(util::format_utc_compact(t) == "20231101T060708Z");
    CHECK(util::unix_seconds(*util::parse_utc("1970-01-02T00:00:00Z")) == 86400);
    CHECK(util::parse_utc("2023-11-01T06:07:08Z").has_value());
    for (const char* bad :
         {"", "2023-11-01", "2023-11-01T06:07:08", "2023-13-01T06:07:08Z", "2023-02-30T00:00:00Z",
          "2023-11-01T06:07:08.Z", "2023-11-01T06:07:08+01:00", "2023-11-01 06:07:08Z"})
        CHECK_MESSAGE(!util::parse_utc(bad).has_value(), bad);
}

TEST_CASE("failpoint lists") {
    CHECK(util::failpoint_listed("staging", "staging"));
    CHECK(util::failpoint_listed("running,publishing", "publishing"));
    CHECK_FALSE(util::failpoint_listed("running,publishing", "staging"));
    CHECK_FALSE(util::failpoint_listed("stagingx", "staging"));
    CHECK_FALSE(util::failpoint_listed("", "staging"));
    util::failpoint("staging");  // MLWM_FAILPOINTS is not set here: returns
}

TEST_CASE("Docker request kinds: bounded metric labels") {
    using docker::request_kind;
    CHECK(request_kind("GET", "/_ping") == "ping");
    CHECK(request_kind("GET", "/version") == "version");
    CHECK(request_kind("POST", "/v1.41/containers/create?name=x") == "container_create");
    CHECK(request_kind("POST", "/v1.41/containers/0123abc/start") == "container_start");
    CHECK(request_kind("POST", "/v1.41/containers/0123abc/wait?condition=next-exit") ==
          "container_wait");
    CHECK(request_kind("GET", "/v1.41/containers/0123abc/json") == "container_inspect");
    CHECK(request_kind("GET", "/v1.41/containers/json?all=1&filters=x") == "container_list");
    CHECK(request_kind("DELETE", "/v1.41/containers/0123abc?force=1") == "container_remove");
    CHECK(request_kind("GET", "/v1.41/images/mlwm-test/busybox:1/json") == "image_inspect");
    CHECK(request_kind("POST", "/v1.41/images/create?fromImage=x&tag=1") == "image_pull");
    CHECK(request_kind("POST", "/v1.41/build?t=x") == "image_build");
    CHECK(request_kind("GET", "/v1.41/secrets/x/y/z") == "other");
    // the swarm runner's
    CHECK(request_kind("GET", "/v1.41/tasks?filters=x") == "task_list");
    CHECK(request_kind("GET", "/v1.41/nodes") == "node_list");
    CHECK(request_kind("GET", "/v1.41/services?filters=x") == "service_list");
    CHECK(request_kind("POST", "/v1.41/services/create") == "service_create");
    CHECK(request_kind("GET", "/v1.41/services/mlwm-x-a1") == "service_inspect");
    CHECK(request_kind("DELETE", "/v1.41/services/mlwm-x-a1") == "service_remove");
    CHECK(request_kind("POST", "/v1.41/services/abc/update?version=3") == "service_update");
    CHECK(request_kind("GET", "/v1.41/services/abc/logs?stdout=1") == "service_logs");
}

TEST_CASE("ledger: batch inserts, operator rerun, unfinished runs, late marks, migration") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mlwm-ledger2-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const fs::path file = dir / "ledger.sqlite3";
    {
        // a ledger written by the first release (no deadline/force/late/gpus columns)
        fs::create_directories(dir);
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db,
                             "CREATE TABLE runs (run_id TEXT PRIMARY KEY, model TEXT NOT NULL, "
                             "analysis_time TEXT NOT NULL, member INTEGER NOT NULL, state TEXT "
                             "NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, container_id TEXT NOT "
                             "NULL DEFAULT '', not_before INTEGER NOT NULL DEFAULT 0, message "
                             "TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, updated INTEGER "
                             "NOT NULL); INSERT INTO runs VALUES ('old/2023-01-01T0000Z/member0', "
                             "'old', '2023-01-01T0000Z', 0, 'succeeded', 0, '', 0, 'done', 1, 2)",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    ledger::Ledger l(file);
    const auto old = l.get("old/2023-01-01T0000Z/member0");
    REQUIRE(old.has_value());  // kept, with the new columns at their defaults
    CHECK(old->state == S::succeeded);
    CHECK(old->deadline == 0);
    CHECK_FALSE(old->force);

    // thousands at once after an outage: one transaction, existing runs untouched
    std::vector<ledger::Ledger::NewRun> many;
    for (int i = 0; i < 3000; ++i)
        many.push_back({"m/" + std::to_string(100000 + i), "m", "2023-01-01T0000Z", 0});
    const auto first = l.ensure_all(many, S::expired, "older than P2D");
    CHECK(std::count(first.begin(), first.end(), true) == 3000);
    const auto again = l.ensure_all(many, S::expired, "again");
    CHECK(std::count(again.begin(), again.end(), true) == 0);
    CHECK(l.ensure_all({{"old/2023-01-01T0000Z/member0", "old", "2023-01-01T0000Z", 0}},
                       S::waiting_inputs, "") == std::vector<bool>{false});
    CHECK(l.in_state(S::expired).size() == 3000);
    CHECK(l.get("old/2023-01-01T0000Z/member0")->state == S::succeeded);
    CHECK(l.history("m/100000").size() == 1);
    CHECK(l.get("m/100000")->message == "older than P2D");

    // an operator's rerun: back to waiting, attempts reset, forced until it ends
    const std::string id = "p/2023-10-01T1200Z/member0";
    l.ensure(id, "p", "2023-10-01T1200Z", 0);
    l.transition(id, S::staging, "");
    CHECK_FALSE(l.rerun(id, "again"));  // in progress: refused
    CHECK(l.get(id)->state == S::staging);
    l.transition(id, S::failed, "boom");
    l.transition(id, S::waiting_inputs, "retry 2");
    l.transition(id, S::staging, "");
    l.transition(id, S::launching, "");
    l.transition(id, S::running, "", std::string("c0ffee"), std::nullopt, 1234);
    CHECK(l.get(id)->deadline == 1234);
    l.transition(id, S::publishing, "");
    l.transition(id, S::succeeded, "published");
    CHECK(l.get(id)->attempt == 1);
    CHECK(l.rerun(id, "again"));
    auto r = *l.get(id);
    CHECK(r.state == S::waiting_inputs);
    CHECK(r.attempt == 0);
    CHECK(r.force);
    CHECK(r.deadline == 0);
    CHECK(r.container_id.empty());
    l.transition(id, S::staging, "");
    CHECK(l.get(id)->force);                            // still forced while it runs
    l.transition(id, S::succeeded, "found published");  // the marker: allowed from active states
    CHECK_FALSE(l.get(id)->force);
    CHECK_THROWS_AS(l.rerun("no/such/run", "x"), ledger::LedgerError);

    // unfinished runs and late marks
    const std::string w = "p/2023-10-02T0000Z/member0";
    l.ensure(w, "p", "2023-10-02T0000Z", 0);
    auto unfinished = l.unfinished();
    REQUIRE(unfinished.size() == 1);
    CHECK(unfinished[0].run_id == w);
    l.mark_late(w, static_cast<int>(LateKind::arrival));
    l.mark_late(w, static_cast<int>(LateKind::completion));
    CHECK(l.get(w)->late ==
          (static_cast<int>(LateKind::arrival) | static_cast<int>(LateKind::completion)));
    l.set_gpus(w, "0,1");
    CHECK(l.get(w)->gpus == "0,1");

    // another process holding the write lock: not writable (for /readyz), then writable
    CHECK(l.writable());
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    CHECK_FALSE(l.writable());
    CHECK(l.get(w).has_value());  // reads go on (WAL)
    REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(other);
    CHECK(l.writable());

    // what the per-model gauges are restored from after a restart
    const auto done = l.succeeded_by_model();
    REQUIRE(done.size() == 2);  // "old" and "p"; "m" has expired runs only
    CHECK(done.at("old").last_updated == 2);
    CHECK(done.at("old").newest_analysis_time == "2023-01-01T0000Z");
    CHECK(done.at("p").newest_analysis_time == "2023-10-01T1200Z");  // not the waiting 2023-10-02
    CHECK(done.at("p").last_updated >= r.updated);
    fs::remove_all(dir);
}

TEST_CASE("metrics: a configured model's counters exist at 0 before their first increment") {
    telemetry::Metrics m("0.0.0", "test");
    const auto has = [&](const std::string& line) {
        return m.serialize().find("\n" + line + "\n") != std::string::npos;
    };
    CHECK_FALSE(has(R"(mlwm_runs_total{model="a",outcome="failed"} 0)"));
    m.add_model("a");
    m.add_model("a");  // idempotent (a reload)
    for (const char* outcome : telemetry::Metrics::kRunOutcomes)
        CHECK(has(std::string(R"(mlwm_runs_total{model="a",outcome=")") + outcome + "\"} 0"));
    CHECK(has(R"(mlwm_late_runs_total{kind="arrival",model="a"} 0)"));
    CHECK(has(R"(mlwm_late_runs_total{kind="completion",model="a"} 0)"));
    CHECK(has(R"(mlwm_polls_total{outcome="error"} 0)"));
    m.runs.Add({{"model", "a"}, {"outcome", "failed"}}).Increment();
    CHECK(has(R"(mlwm_runs_total{model="a",outcome="failed"} 1)"));
    // the late kinds are the scheduler's
    CHECK(std::string(telemetry::Metrics::kLateKinds[0]) == late_kind_name(LateKind::arrival));
    CHECK(std::string(telemetry::Metrics::kLateKinds[1]) == late_kind_name(LateKind::completion));
}

TEST_CASE("HTTP response head lines, as libcurl hands them over") {
    using util::HeaderLine;
    auto h = util::parse_header_line("HTTP/1.1 200 OK\r\n");
    CHECK(h.kind == HeaderLine::Kind::status);
    CHECK(h.status == 200);
    CHECK(util::parse_header_line("HTTP/2 404 \r\n").status == 404);
    CHECK(util::parse_header_line("HTTP/1.1 100 Continue\r\n").status == 100);
    h = util::parse_header_line("ETag:  \"0123abc\" \r\n");
    CHECK(h.kind == HeaderLine::Kind::field);
    CHECK(h.name == "etag");
    CHECK(h.value == "\"0123abc\"");
    h = util::parse_header_line("X-Amz-Request-Id:tx00:1\n");
    CHECK(h.name == "x-amz-request-id");
    CHECK(h.value == "tx00:1");  // only the first colon splits
    CHECK(util::parse_header_line("\r\n").kind == HeaderLine::Kind::end);
    CHECK(util::parse_header_line("\n").kind == HeaderLine::Kind::end);
    CHECK(util::parse_header_line("garbage\r\n").kind == HeaderLine::Kind::other);
}

TEST_CASE("ledger: transitions from many threads at once do not interleave") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("mlwm-ledger3-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    {
        ledger::Ledger l(dir / "ledger.sqlite3");
        std::vector<std::thread> threads;
        std::atomic<int> errors{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 25; ++i) {
                    const std::string id = "m/" + std::to_string(t) + "/" + std::to_string(i);
                    try {
                        l.ensure(id, "m", "2023-10-01T1200Z", 0);
                        l.transition(id, S::staging, "");
                        l.transition(id, S::launching, "");
                        l.ensure_all({{id + "x", "m", "2023-10-01T1200Z", 0}}, S::expired, "old");
                        l.transition(id, S::failed, "boom");
                    } catch (const std::exception&) {
                        ++errors;
                    }
                }
            });
        for (auto& th : threads) th.join();
        CHECK(errors == 0);
        CHECK(l.in_state(S::failed).size() == 100);
        CHECK(l.count_by_state()[S::expired] == 100);
    }
    fs::remove_all(dir);
}

TEST_CASE("expected cycles whose inputs never appeared are late at their arrival deadline") {
    using std::chrono::hours;
    const std::int64_t h = 3600;
    const std::int64_t day = 19'000 * 24 * h;  // some midnight UTC
    // 13:30 UTC, cycles every 6 h, arrival 3 h, lookback 1 day: 18Z (yesterday), 00Z, 06Z
    // are late; 12Z is not yet (its deadline is 15Z)
    auto late = overdue_cycles(hours(6), hours(3), hours(24), day + 13 * h + 1800);
    CHECK(late == std::vector<std::int64_t>{day - 6 * h, day, day + 6 * h});
    // exactly at 15Z the 12Z cycle is late
    late = overdue_cycles(hours(6), hours(3), hours(24), day + 15 * h);
    CHECK(late.back() == day + 12 * h);
    CHECK(late.size() == 4);  // 18Z yesterday, 00Z, 06Z, 12Z (15Z yesterday is outside the day)
    // no cycle or no arrival deadline: nothing expected
    CHECK(overdue_cycles({}, hours(3), hours(24), day).empty());
    CHECK(overdue_cycles(hours(6), {}, hours(24), day).empty());
}

TEST_CASE("instance lock: one holder per file; the next one is told the holder's pid") {
    namespace fs = std::filesystem;
    const fs::path file = fs::temp_directory_path() / ("mlwm-lock-" + std::to_string(::getpid()));
    fs::remove(file);
    {
        util::InstanceLock first(file);
        try {
            util::InstanceLock second(file);
            FAIL("a second holder was let in");
        } catch (const util::InstanceLockError& e) {
            CHECK(e.held);
            CHECK(e.holder_pid == std::to_string(::getpid()));
            CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
        }
    }
    util::InstanceLock again(file);  // released with its holder
    try {
        util::InstanceLock unusable("/proc/no-such-folder/daemon.lock");
        FAIL("a lock in a folder that does not exist");
    } catch (const util::InstanceLockError& e) {
        CHECK_FALSE(e.held);
        CHECK(std::string(e.what()).find("/proc/no-such-folder/daemon.lock") != std::string::npos);
    }
    fs::remove(file);
}

TEST_CASE("util: split keeps empty fields; join puts the separator between fields") {
    using mlwm::util::join;
    using mlwm::util::split;
    CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
    CHECK(split("", ',') == std::vector<std::string>{""});
    CHECK(join({"GPU-a", "GPU-b"}, ",") == "GPU-a,GPU-b");
    CHECK(join({"x"}, ", ") == "x");
    CHECK(join({}, ",").empty());
    CHECK(join(split("a,,b", ','), ",") == "a,,b");
}

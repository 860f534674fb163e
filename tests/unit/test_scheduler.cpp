// The scheduler, hermetic: a fake engine, file:// stores, a temporary ledger
// and a manual clock. Each poll is asked for (poll_now) and the io_context is
// run until it is applied and the runs it started have finished: no sleeps,
// and time moves only when a test moves it.
#include <condition_variable>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include "config/model_config.hpp"
#include "fake_engine.hpp"
#include "run/plan.hpp"
#include "schedule/run_driver.hpp"
#include "schedule/scheduler.hpp"
#include "storage/file_store.hpp"

using namespace mlwm;
namespace fs = std::filesystem;
using run::RunState;
using namespace std::chrono_literals;

namespace {

constexpr const char* kModel = R"(docker_image: example/model:1
inputs:
  state:
    uri: s3://inputs/{analysis_time}/state.zarr
    internal_path: /in/state.zarr
outputs:
  forecast:
    uri: s3://outputs/{analysis_time}/forecast.zarr
    internal_path: /out/forecast.zarr
)";

paths::AnalysisTime at(int hour, int day = 1) {
    return paths::AnalysisTime::from_fields(2023, 10, day, hour, 0);
}

// Containers that hold until the test opens the gate (or a deadline passes).
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void release() {
        {
            const std::lock_guard lock(mu);
            open = true;
        }
        cv.notify_all();
    }
    void pass() {
        std::unique_lock lock(mu);
        cv.wait_for(lock, 20s, [&] { return open; });
    }
};

// The model: copies its input to its output; fails while `failures` > 0.
int copy_model(const docker::ContainerSpec& spec) {
    fs::path from, to;
    for (const auto& m : spec.mounts) (m.read_only ? from : to) = m.source;
    fs::copy(from, to, fs::copy_options::recursive);
    return 0;
}

struct Rig {
    inline static int counter = 0;
    fs::path root = fs::temp_directory_path() /
                    ("mlwm-sched-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    util::ManualClock clock{at(13).time_point()};
    testing::FakeEngine engine;
    std::ostringstream log_text;
    telemetry::Logger log{telemetry::Logger::Format::json,
                          std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text)};
    telemetry::Metrics metrics{"test", "test"};
    config::HostConfig host;
    std::vector<config::ModelConfig> models;
    std::unique_ptr<ledger::Ledger> ledger;
    boost::asio::io_context io;
    std::unique_ptr<schedule::Scheduler> sched;

    explicit Rig(const std::string& extra = "", int max_runs = 2) {
        fs::remove_all(root);
        host.storage_type = "file";
        host.file_root = root / "store";
        host.work_dir = root / "work";
        host.state_dir = root / "state";
        host.max_concurrent_runs = max_runs;
        host.poll_interval = 3600s;  // polls come when asked
        fs::create_directories(host.state_dir);
        fs::create_directories(host.file_root / "outputs");
        ledger = std::make_unique<ledger::Ledger>(host.state_dir / "ledger.sqlite3", clock);
        models.push_back(config::parse_model_config("m", "m/config.yaml", kModel + extra));
        engine.model = copy_model;
    }
    ~Rig() {
        sched.reset();
        fs::remove_all(root);
    }
    void start(bool wait_for_runs = true) {
        sched = std::make_unique<schedule::Scheduler>(
            io, schedule::SchedulerSetup{.host = host,
                                         .models = models,
                                         .stores = run::store_factory(host),
                                         .docker = &engine,
                                         .ledger = ledger.get(),
                                         .log = &log,
                                         .metrics = &metrics,
                                         .mlwm_version = "test",
                                         .clock = &clock});
        sched->start();  // its first poll comes at once
        run_until([&] { return sched->polls_applied() >= 1; });
        if (wait_for_runs) settle();
    }
    int running_now() {
        return engine.locked([](auto& e) { return e.running_now; });
    }
    template <class Pred>
    void run_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_one_for(5ms);
        }
        REQUIRE(done());
    }
    // every started run finished and recorded
    void settle() {
        run_until([&] { return sched->active_runs() == 0; });
    }
    void poll() {
        const std::size_t n = sched->polls_applied();
        sched->poll_now();
        run_until([&] { return sched->polls_applied() > n; });
    }
    // the input of a time is complete (its .zmetadata written last)
    void arrive(const paths::AnalysisTime& t) {
        const fs::path in =
            host.file_root / "inputs" / paths::format_analysis_time(t) / "state.zarr";
        fs::create_directories(in);
        std::ofstream(in / "data") << "analysis " << paths::format_analysis_time(t);
        std::ofstream(in / ".zmetadata") << "{}";
    }
    std::string id(const paths::AnalysisTime& t, paths::Member member = 0) const {
        return run::run_id("m", t, member);
    }
    ledger::RunRecord rec(const paths::AnalysisTime& t) {
        const auto r = ledger->get(id(t));
        REQUIRE(r.has_value());
        return *r;
    }
    RunState state(const paths::AnalysisTime& t) { return rec(t).state; }
    bool published(const paths::AnalysisTime& t) const {
        return fs::exists(host.file_root / "outputs" / paths::format_analysis_time(t) /
                          run::kMarkerName);
    }
    int starts() {
        return engine.locked([](auto& e) { return e.starts; });
    }
    int starts_of(const paths::AnalysisTime& t) {
        const std::string run = id(t);
        return engine.locked([&](auto& e) {
            return static_cast<int>(std::count(e.started_runs.begin(), e.started_runs.end(), run));
        });
    }
    bool logged(const std::string& event) const {
        return log_text.str().find("\"event\":\"" + event + "\"") != std::string::npos;
    }
};

}  // namespace

TEST_SUITE("scheduler") {
    TEST_CASE("inputs that arrive are run once each and published; a second poll starts nothing") {
        Rig r;
        r.arrive(at(6));
        r.arrive(at(12));
        r.start();
        CHECK(r.state(at(6)) == RunState::succeeded);
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.published(at(6)));
        CHECK(r.published(at(12)));
        CHECK(r.starts() == 2);
        CHECK(r.engine.containers.empty());  // removed once published
        r.poll();
        r.settle();
        CHECK(r.starts() == 2);
        // a time listed before its inputs are complete waits, then runs
        const fs::path early = r.host.file_root / "inputs" / "2023-10-01T1800Z" / "state.zarr";
        fs::create_directories(early);
        std::ofstream(early / "data") << "partial";
        r.poll();
        r.settle();
        CHECK(r.state(at(18)) == RunState::waiting_inputs);
        r.arrive(at(18));
        r.poll();
        r.settle();
        CHECK(r.state(at(18)) == RunState::succeeded);
        CHECK(r.starts() == 3);
    }

    TEST_CASE("a failed run is retried after its backoff, and not before") {
        Rig r("max_attempts: 3\nretry_delay: PT60S\n");
        int calls = 0;
        r.engine.model = [&](const docker::ContainerSpec& spec) {
            return ++calls == 1 ? 1 : copy_model(spec);
        };
        r.arrive(at(12));
        r.start();
        auto rec = r.rec(at(12));
        CHECK(rec.state == RunState::waiting_inputs);  // failed, and the retry recorded with it
        CHECK(rec.attempt == 1);
        const std::int64_t now = r.clock.unix_now();
        CHECK(rec.not_before >= now);
        CHECK(rec.not_before <= now + 60);  // full jitter in [0, retry_delay]
        CHECK(r.logged("run.failed"));
        CHECK(r.logged("run.retry_scheduled"));
        if (rec.not_before > now) {  // the backoff holds: no start before it
            r.poll();
            r.settle();
            CHECK(r.starts() == 1);
        }
        r.clock.advance(61s);
        r.poll();
        r.settle();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.starts() == 2);
        const auto hist = r.ledger->history(r.id(at(12)));
        CHECK(std::count_if(hist.begin(), hist.end(),
                            [](const auto& h) { return h.to == "failed"; }) == 1);
    }

    TEST_CASE("attempts run out: the run stays failed however long one waits") {
        Rig r("max_attempts: 2\nretry_delay: PT10S\n");
        r.engine.model = [](const docker::ContainerSpec&) { return 2; };
        r.arrive(at(12));
        r.start();
        for (int i = 0; i < 3; ++i) {
            r.clock.advance(1h);
            r.poll();
            r.settle();
        }
        const auto rec = r.rec(at(12));
        CHECK(rec.state == RunState::failed);
        CHECK(rec.attempt == 1);  // the second attempt was the last
        CHECK(r.starts() == 2);
        CHECK_FALSE(r.published(at(12)));
    }

    TEST_CASE("catch-up: 'latest' runs the newest listed time only, the older ones expire") {
        Rig r("catch_up: latest\n");
        r.arrive(at(0));
        r.arrive(at(6));
        r.arrive(at(12));
        r.start();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.state(at(6)) == RunState::expired);
        CHECK(r.state(at(0)) == RunState::expired);
        CHECK(r.starts() == 1);
    }

    TEST_CASE("catch-up: a window (PT3H) expires what is older, by the injected clock") {
        Rig r("catch_up: PT3H\n");
        r.clock.set(at(14).time_point());
        r.arrive(at(6));
        r.arrive(at(12));
        r.start();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.state(at(6)) == RunState::expired);
        // time passes: a time that arrives late, and is old by now, is not run
        r.clock.set(at(23).time_point());
        r.arrive(at(18));
        r.poll();
        r.settle();
        CHECK(r.state(at(18)) == RunState::expired);
        CHECK(r.starts() == 1);
    }

    TEST_CASE("deadlines: an expected cycle that never arrives, and a run not published in time") {
        Rig r("cycle: PT6H\ndeadlines:\n  arrival: PT1H\n  completion: PT3H\nmax_attempts: 1\n");
        r.engine.model = [](const docker::ContainerSpec&) { return 1; };
        r.clock.set(at(12).time_point() + 30min);
        r.arrive(at(12));
        r.start();  // 12Z fails for good (one attempt)
        CHECK(r.state(at(12)) == RunState::failed);
        CHECK(r.rec(at(12)).late == 0);  // its deadlines are still ahead
        // 18Z never arrives; 19:30 is past its arrival deadline
        r.clock.set(at(19).time_point() + 30min);
        r.poll();
        CHECK(r.state(at(18)) == RunState::waiting_inputs);
        CHECK((r.rec(at(18)).late & static_cast<int>(schedule::LateKind::arrival)) != 0);
        CHECK(r.logged("late.arrival"));
        // 12Z: past its completion deadline (15Z) and not published
        CHECK((r.rec(at(12)).late & static_cast<int>(schedule::LateKind::completion)) != 0);
        CHECK(r.logged("late.completion"));
        // raised once: a later poll does not raise them again
        const auto count = [&](const std::string& ev) {
            const std::string s = r.log_text.str(), needle = "\"event\":\"" + ev + "\"";
            int n = 0;
            for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
            return n;
        };
        const int arrivals = count("late.arrival");
        r.poll();
        CHECK(count("late.arrival") == arrivals);
    }

    TEST_CASE(
        "concurrency: at most max_concurrent_runs containers at once; the rest wait their turn") {
        Rig r("", 1);
        Gate gate;
        r.engine.model = [&](const docker::ContainerSpec& spec) {
            gate.pass();
            return copy_model(spec);
        };
        r.arrive(at(6));
        r.arrive(at(12));
        r.start(false);
        r.run_until([&] { return r.running_now() == 1; });
        CHECK(r.sched->active_runs() == 1);
        CHECK(r.state(at(6)) == RunState::running);  // the older first
        CHECK(r.state(at(12)) == RunState::waiting_inputs);
        r.poll();  // still full
        CHECK(r.state(at(12)) == RunState::waiting_inputs);
        gate.release();
        r.settle();
        r.poll();
        r.settle();
        CHECK(r.state(at(6)) == RunState::succeeded);
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.engine.most_running == 1);
    }

    TEST_CASE("GPU slots: a run gets free GPUs of its own, or waits for them") {
        Rig r("resources:\n  gpus: 1\n", 4);
        r.host.gpus = {"0", "1"};
        Gate gate;
        std::mutex mu;
        std::vector<std::string> devices;
        r.engine.model = [&](const docker::ContainerSpec& spec) {
            {
                const std::lock_guard lock(mu);
                for (const auto& d : spec.resources.gpus.device_ids) devices.push_back(d);
            }
            gate.pass();
            return copy_model(spec);
        };
        r.arrive(at(0));
        r.arrive(at(6));
        r.arrive(at(12));
        r.start(false);
        r.run_until([&] { return r.running_now() == 2; });
        CHECK(r.state(at(12)) == RunState::waiting_inputs);  // no GPU free
        {
            const std::lock_guard lock(mu);
            std::vector<std::string> held = devices;
            std::sort(held.begin(), held.end());
            CHECK(held == std::vector<std::string>{"0", "1"});
        }
        gate.release();
        r.settle();
        r.poll();
        r.settle();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.engine.most_running == 2);
        CHECK(devices.size() == 3);
        // asking for more GPUs than the host has is reported, never started
        Rig big("resources:\n  gpus: 3\n", 4);
        big.host.gpus = {"0", "1"};
        big.arrive(at(12));
        big.start();
        CHECK(big.state(at(12)) == RunState::waiting_inputs);
        CHECK(big.starts() == 0);
        CHECK(big.logged("run.unrunnable"));
    }

    TEST_CASE(
        "cancel stops a run for good; rerun brings it back, forced, and a published one too") {
        Rig r;
        Gate gate;
        r.engine.model = [&](const docker::ContainerSpec& spec) {
            gate.pass();
            return copy_model(spec);
        };
        r.arrive(at(12));
        r.start(false);
        r.run_until([&] { return r.running_now() == 1; });
        // the operator's CLI: its own connection to the ledger, through a run driver
        ledger::Ledger cli_ledger(r.host.state_dir / "ledger.sqlite3", r.clock);
        schedule::RunDriver cli(cli_ledger, r.clock);
        const auto refused = cli.rerun({r.id(at(12)), "m", "2023-10-01T1200Z", 0}, "rerun");
        CHECK_FALSE(refused.changed);  // in progress: cancel first
        CHECK(cli.cancel(r.id(at(12)), "cancelled by an operator").changed);
        gate.release();
        r.settle();
        CHECK(r.state(at(12)) == RunState::cancelled);
        CHECK_FALSE(r.published(at(12)));
        CHECK(r.logged("run.cancelled"));
        r.poll();
        r.settle();
        CHECK(r.starts() == 1);  // cancelled is final
        CHECK_FALSE(cli.cancel(r.id(at(12)), "again").changed);
        // rerun: waiting again, forced
        CHECK(cli.rerun({r.id(at(12)), "m", "2023-10-01T1200Z", 0}, "rerun").changed);
        CHECK(r.rec(at(12)).force);
        r.poll();
        r.settle();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.published(at(12)));
        CHECK(r.starts() == 2);
        // a published run, rerun: it runs again although its marker exists
        CHECK(cli.rerun({r.id(at(12)), "m", "2023-10-01T1200Z", 0}, "rerun").changed);
        r.poll();
        r.settle();
        CHECK(r.state(at(12)) == RunState::succeeded);
        CHECK(r.starts() == 3);
    }

    TEST_CASE("recovery after a restart, from every state a stop can leave a run in") {
        Rig r("catch_up: all\n");
        const std::vector<paths::AnalysisTime> times{at(0),  at(6),    at(12),
                                                     at(18), at(0, 2), at(6, 2)};
        for (const auto& t : times) r.arrive(t);
        // a ledger as a killed daemon left it
        auto to = [&](const paths::AnalysisTime& t, std::vector<RunState> path,
                      const std::string& container = "") {
            r.ledger->ensure(r.id(t), "m", paths::format_analysis_time(t), 0);
            for (auto st : path)
                r.ledger->transition(r.id(t), st, "before the stop",
                                     st == RunState::running && !container.empty()
                                         ? std::optional(container)
                                         : std::nullopt);
        };
        auto plan = [&](const paths::AnalysisTime& t) {
            return run::plan_run(r.models[0], t, 0, r.host.work_dir);
        };
        auto container = [&](const paths::AnalysisTime& t, const std::string& state, int code = 0) {
            const std::string id = r.engine.create_container(plan(t).container);
            r.engine.containers[id].state = state;
            r.engine.containers[id].exit_code = code;
            return id;
        };
        auto inputs_staged = [&](const paths::AnalysisTime& t) {
            const auto p = plan(t);
            fs::create_directories(p.outputs[0].local);
            fs::create_directories(p.inputs[0].local);
            fs::copy(r.host.file_root / "inputs" / paths::format_analysis_time(t) / "state.zarr",
                     p.inputs[0].local, fs::copy_options::recursive);
        };
        auto outputs_written = [&](const paths::AnalysisTime& t) {
            const auto p = plan(t);
            fs::create_directories(p.outputs[0].local);
            std::ofstream(p.outputs[0].local / "data") << "written before the stop";
        };
        // staging: nothing to adopt; retried
        to(at(0), {RunState::staging});
        // launching: the container was created, never started: adopted, started once
        to(at(6), {RunState::staging, RunState::launching});
        container(at(6), "created");
        inputs_staged(at(6));
        // running: its container still runs: adopted, waited for
        const std::string c12 = container(at(12), "running");
        inputs_staged(at(12));
        to(at(12), {RunState::staging, RunState::launching, RunState::running}, c12);
        // running: its container exited 0 meanwhile: collected and published
        const std::string c18 = container(at(18), "exited", 0);
        outputs_written(at(18));
        to(at(18), {RunState::staging, RunState::launching, RunState::running}, c18);
        // running, but no container (never created): retried
        to(at(0, 2), {RunState::staging, RunState::launching, RunState::running}, "gone");
        // publishing with its outputs in the work folder: published, no container
        outputs_written(at(6, 2));
        to(at(6, 2),
           {RunState::staging, RunState::launching, RunState::running, RunState::publishing});
        r.start();
        r.poll();  // the retried runs start at the next poll
        r.settle();
        for (const auto& t : times) {
            CAPTURE(paths::format_analysis_time(t));
            CHECK(r.state(t) == RunState::succeeded);
            CHECK(r.published(t));
        }
        CHECK(r.starts_of(at(0)) == 1);
        CHECK(r.starts_of(at(6)) == 1);
        CHECK(r.starts_of(at(12)) == 0);  // it had started before the stop
        CHECK(r.starts_of(at(18)) == 0);
        CHECK(r.starts_of(at(0, 2)) == 1);
        CHECK(r.starts_of(at(6, 2)) == 0);
        CHECK(r.engine.containers.empty());
        CHECK(r.logged("run.adopted"));
        CHECK(r.logged("run.interrupted"));
    }
}

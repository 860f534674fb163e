// One run executed against a fake engine and file:// stores (hermetic): what
// happens to the container, the work folder and the outputs in each outcome.
#include <fstream>

#include <doctest/doctest.h>
#include <unistd.h>

#include "config/model_config.hpp"
#include "fake_engine.hpp"
#include "run/execute.hpp"
#include "storage/file_store.hpp"

using namespace mlwm;
namespace fs = std::filesystem;

namespace {
const char* kModel = R"(docker_image: example/model:1
inputs:
  state:
    uri: s3://inputs/{analysis_time}/state.zarr
    internal_path: /in/state.zarr
outputs:
  forecast:
    uri: s3://outputs/{analysis_time}/forecast.zarr
    internal_path: /out/forecast.zarr
)";

struct Rig {
    fs::path root = fs::temp_directory_path() / ("mlwm-run-" + std::to_string(::getpid()));
    config::ModelConfig model = config::parse_model_config("m", "m/config.yaml", kModel);
    paths::AnalysisTime t = paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    testing::FakeEngine engine;
    run::StoreFactory stores = [this](const std::string& bucket) {
        return std::make_unique<storage::FileStore>(root / "store" / bucket);
    };
    run::RunPlan plan;
    Rig() {
        fs::remove_all(root);
        const fs::path in = root / "store/inputs/2023-10-01T1200Z/state.zarr";
        fs::create_directories(in);
        std::ofstream(in / "data") << "analysis";
        std::ofstream(in / ".zmetadata") << "{}";
        plan = run::plan_run(model, t, 0, root / "work");
        // the model copies its input to its output
        engine.model = [](const docker::ContainerSpec& spec) {
            fs::path from, to;
            for (const auto& m : spec.mounts) (m.read_only ? from : to) = m.source;
            fs::copy(from, to, fs::copy_options::recursive);
            return 0;
        };
    }
    ~Rig() { fs::remove_all(root); }
    fs::path output() const { return root / "store/outputs/2023-10-01T1200Z/forecast.zarr"; }
};
}  // namespace

TEST_CASE("a run: staged, run once, published, marker last, the container removed after it") {
    Rig r;
    std::vector<run::Phase> phases;
    run::ExecuteOptions opts{.leave_failed_container = true};
    opts.before_phase = [&](run::Phase p, const std::string&) { phases.push_back(p); };
    const run::RunReport rep = run::execute_run(r.plan, r.stores, r.engine, opts);
    CHECK(rep.outcome == run::Outcome::succeeded);
    CHECK(phases == std::vector<run::Phase>{run::Phase::staging, run::Phase::launching,
                                            run::Phase::running, run::Phase::publishing});
    CHECK(r.engine.starts == 1);
    CHECK(r.engine.containers.empty());  // removed once the marker was written
    CHECK(rep.container_id.empty());
    std::ifstream data(r.output() / "data");
    std::string text;
    std::getline(data, text);
    CHECK(text == "analysis");
    CHECK(fs::exists(r.output().parent_path() / run::kMarkerName));
    CHECK_FALSE(fs::exists(r.plan.work_dir));  // the work folder is cleaned up
    // again: the marker says it is done; nothing runs
    const auto again = run::execute_run(r.plan, r.stores, r.engine, opts);
    CHECK(again.outcome == run::Outcome::already_done);
    CHECK(r.engine.starts == 1);
}

TEST_CASE("a failed container is left for the caller to record; its staged inputs go") {
    Rig r;
    r.engine.model = [](const docker::ContainerSpec&) { return 3; };
    const auto rep = run::execute_run(r.plan, r.stores, r.engine, {.leave_failed_container = true});
    CHECK(rep.outcome == run::Outcome::failed);
    CHECK(rep.failed_in == run::Phase::running);
    CHECK(rep.message.starts_with("the container ended with exit 3"));
    REQUIRE(r.engine.containers.size() == 1);
    CHECK(r.engine.containers.begin()->first == rep.container_id);
    CHECK(r.engine.containers.begin()->second.exit_code == 3);
    CHECK_FALSE(fs::exists(r.plan.inputs[0].local));   // re-downloadable
    CHECK(fs::exists(r.plan.log_dir / "stdout.log"));  // kept
    // without leave_failed_container (mlwm run), the run removes it itself
    Rig cli;
    cli.engine.model = [](const docker::ContainerSpec&) { return 3; };
    const auto rep2 = run::execute_run(cli.plan, cli.stores, cli.engine, {});
    CHECK(rep2.container_id.empty());
    CHECK(cli.engine.containers.empty());
}

TEST_CASE("publishing that fails after the model succeeded is reported as such; outputs stay") {
    Rig r;
    // the outputs' bucket is a file where a folder should be: every upload fails
    fs::create_directories(r.root / "store");
    std::ofstream(r.root / "store/outputs") << "not a folder";
    const auto rep = run::execute_run(r.plan, r.stores, r.engine, {.leave_failed_container = true});
    CHECK(rep.outcome == run::Outcome::failed);
    CHECK(rep.failed_in == run::Phase::publishing);
    CHECK(r.engine.starts == 1);
    CHECK(fs::exists(r.plan.outputs[0].local / "data"));  // waits for another try
    // publishing alone, once the store works: no second container
    fs::remove(r.root / "store/outputs");
    const auto again =
        run::execute_run(r.plan, r.stores, r.engine, {.resume = run::Resume{.publish_only = true}});
    CHECK(again.outcome == run::Outcome::succeeded);
    CHECK(r.engine.starts == 1);
    CHECK(fs::exists(r.output() / "data"));
}

TEST_CASE("an attempt that finds the run published meanwhile uploads nothing") {
    Rig r;
    // another attempt (a cluster's, given up too early) publishes while the model runs
    r.engine.model = [&](const docker::ContainerSpec& spec) {
        for (const auto& m : spec.mounts)
            if (!m.read_only) std::ofstream(fs::path(m.source) / "late") << "late";
        const fs::path other = r.output().parent_path();
        fs::create_directories(other / "forecast.zarr");
        std::ofstream(other / "forecast.zarr/data") << "theirs";
        std::ofstream(other / run::kMarkerName) << "{}";
        return 0;
    };
    const auto rep = run::execute_run(r.plan, r.stores, r.engine, {.job = "mlwm-m-a1"});
    CHECK(rep.outcome == run::Outcome::already_done);
    CHECK(rep.message.find("this attempt's outputs were not uploaded") != std::string::npos);
    CHECK_FALSE(fs::exists(r.output() / "late"));
    std::ifstream data(r.output() / "data");
    std::string text;
    std::getline(data, text);
    CHECK(text == "theirs");
    CHECK(r.engine.containers.empty());
    CHECK_FALSE(fs::exists(r.plan.work_dir));
}

TEST_CASE("a swarm job's marker names the job") {
    Rig r;
    const auto rep = run::execute_run(r.plan, r.stores, r.engine, {.job = "mlwm-m-a2"});
    CHECK(rep.outcome == run::Outcome::succeeded);
    std::ifstream marker(r.output().parent_path() / run::kMarkerName);
    const std::string text((std::istreambuf_iterator<char>(marker)), {});
    CHECK(text.find("\"job\": \"mlwm-m-a2\"") != std::string::npos);
}

TEST_CASE("the work disk: an input larger than the free space is refused before staging") {
    CHECK_FALSE(run::space_shortfall(fs::temp_directory_path(), 1).has_value());
    const auto why =
        run::space_shortfall(fs::temp_directory_path() / "no/such/folder", std::uint64_t{1} << 62);
    REQUIRE(why.has_value());
    CHECK(why->starts_with("not enough space to stage the inputs in "));
    CHECK(why->find("they need 4611686018427387904 bytes") != std::string::npos);
    CHECK(why->find("bytes are free on " + fs::temp_directory_path().string()) !=
          std::string::npos);
}

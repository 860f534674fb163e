// Model and host configurations: the original format, the extensions, and
// errors that name file, line, key path and the expected form.
#include <doctest/doctest.h>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "config/yaml_reader.hpp"
#include "run/execute.hpp"
#include "run/plan.hpp"

using namespace mlwm;
using namespace mlwm::config;

namespace {

const char* kOriginal = R"(docker_image: ghcr.io/example/surface-dummy-model:v1
inputs:
  dini_pressure_levels:
    uri_args:
      bbox: {lon_min: -10.0, lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: pressure_levels
      model_name: harmonie
      model_config: dini
      bucket_name: forecast-data-public
    internal_path: /volume/inputs/dini/pressure_levels.zarr
outputs:
  pressure_levels:
    uri_args:
      bbox: {lon_min: -10.0, lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: pressure_levels
      model_name: surface_dummy
      model_config: dini
      bucket_name: forecast-data-public
    internal_path: /volume/outputs/pressure_levels.zarr
)";

std::vector<ConfigIssue> issues_of(const std::string& text) {
    try {
        parse_model_config("m", "m/config.yaml", text);
    } catch (const ConfigError& e) {
        return e.issues();
    }
    return {};
}

bool has_issue(const std::vector<ConfigIssue>& issues, const std::string& key_path,
               const std::string& text, int line = -1) {
    for (const auto& i : issues)
        if (i.key_path == key_path && i.message.find(text) != std::string::npos &&
            (line < 0 || i.line == line))
            return true;
    return false;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("the original format is accepted unchanged, with the original's defaults") {
    const ModelConfig c = parse_model_config("surface-dummy", "x/config.yaml", kOriginal);
    CHECK(c.docker_image == "ghcr.io/example/surface-dummy-model:v1");
    REQUIRE(c.inputs.size() == 1);
    REQUIRE(c.outputs.size() == 1);
    CHECK(c.members == std::vector<paths::Member>{0});
    CHECK(c.network == "none");
    CHECK(c.inputs[0].completion_marker == ".zmetadata");
    const auto t = paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    const S3Place in = locate(c.inputs[0], t, 0);
    CHECK(in.bucket == "forecast-data-public");
    CHECK(in.key ==
          "harmonie/dini/w-10p0_s50p0_e10p0_n60p0/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/"
          "pressure_levels.zarr");
    CHECK(locate(c.outputs[0], t, 3).key ==
          "surface_dummy/dini/w-10p0_s50p0_e10p0_n60p0/dx2p5km_dy2p5km/2023-10-01T1200Z/member3/"
          "pressure_levels.zarr");
}

TEST_CASE("numbers in uri_args are floats, like the original's: the same keys however written") {
    struct Row {
        const char* lon_min;
        const char* lat_min;
        const char* dx;
        const char* unit;
        const char* bbox;
        const char* resolution;
    };
    const Row rows[] = {
        {"-10", "50", "2.5", "km", "w-10p0_s50p0_", "dx2p5km_dy2p5km"},
        {"-10.0", "50.0", "2.50", "km", "w-10p0_s50p0_", "dx2p5km_dy2p5km"},
        {"-10.5", "5e1", "2500", "m", "w-10p5_s50p0_", "dx2500p0m_dy2p5m"},
        {"0", "64.40", "2500.0", "m", "w0p0_s64p4_", "dx2500p0m_dy2p5m"},
        {"12", "-0.025", "0.025", "deg", "w12p0_s-0p025_", "dx0p025deg_dy2p5deg"},
        {"-180", "+7", "1", "deg", "w-180p0_s7p0_", "dx1p0deg_dy2p5deg"},
    };
    for (const auto& row : rows) {
        std::string text =
            replace(kOriginal, "{lon_min: -10.0, lat_min: 50.0,",
                    std::string("{lon_min: ") + row.lon_min + ", lat_min: " + row.lat_min + ",");
        text = replace(text, "{lon_resolution: 2.5, lat_resolution: 2.5, unit: km}",
                       std::string("{lon_resolution: ") + row.dx +
                           ", lat_resolution: 2.5, unit: " + row.unit + "}");
        const ModelConfig c = parse_model_config("m", "f", text);
        const std::string key =
            locate(c.inputs[0], paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0), 0).key;
        CAPTURE(key);
        CHECK(key.find(std::string("/") + row.bbox) != std::string::npos);
        CHECK(key.find(std::string("/") + row.resolution + "/") != std::string::npos);
    }
}

TEST_CASE("extensions: uri templates, members, durations, env, resources") {
    const std::string text = std::string(kOriginal) + R"(members: [0, 1, 2]
forecast_duration: PT18H
timeout: 5400
env: {OMP_NUM_THREADS: "4"}
resources: {gpus: all, memory: 16g, cpus: 3.5, shm_size: 1g}
network: bridge
command: [python, -m, infer]
inference_artifact: s3://mlwm-artifacts/inference-artifacts/x.zip
build_args: {TORCH: "2.1"}
)";
    std::string with_uri = replace(
        text, R"(    uri_args:
      bbox: {lon_min: -10.0, lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}
      resolution: {lon_resolution: 2.5, lat_resolution: 2.5, unit: km}
      data_kind: pressure_levels
      model_name: harmonie
      model_config: dini
      bucket_name: forecast-data-public
)",
        "    uri: "
        "s3://harmonie-zarr/dini/control/{analysis_time:%Y-%m-%dT%H%M%SZ}/single_levels.zarr\n");
    const ModelConfig c = parse_model_config("m", "f", with_uri);
    CHECK(c.members == std::vector<paths::Member>{0, 1, 2});
    CHECK(c.forecast_duration == std::chrono::hours(18));
    CHECK(c.timeout == std::chrono::seconds(5400));
    CHECK(c.env.at("OMP_NUM_THREADS") == "4");
    CHECK(c.resources.gpus.all);
    CHECK(*c.resources.memory_bytes == 16LL << 30);
    CHECK(*c.resources.cpus == 3.5);
    CHECK(c.network == "bridge");
    CHECK(c.command == std::vector<std::string>{"python", "-m", "infer"});
    CHECK(c.build_args.at("TORCH") == "2.1");
    const S3Place p = locate(c.inputs[0], paths::AnalysisTime::from_fields(2023, 10, 1, 6, 0), 1);
    CHECK(p.bucket == "harmonie-zarr");
    CHECK(p.key == "dini/control/2023-10-01T060000Z/single_levels.zarr");
}

TEST_CASE("resources.devices: host devices and CDI names, each checked") {
    const ModelConfig c = parse_model_config(
        "m", "f",
        std::string(kOriginal) +
            "resources: {devices: [/dev/zero, '/dev/null:/dev/n:r', nvidia.com/gpu=all]}\n");
    REQUIRE(c.resources.devices.size() == 3);
    CHECK(c.resources.devices[1].container == "/dev/n");
    CHECK(c.resources.devices[1].permissions == "r");
    CHECK(c.resources.devices[2].cdi);
    auto issues =
        issues_of(std::string(kOriginal) + "resources: {devices: [/dev/zero, zero, /dev/zero]}\n");
    CHECK(has_issue(issues, "resources.devices[1]", "absolute path"));
    CHECK(has_issue(issues, "resources.devices[2]", "listed twice"));
    issues = issues_of(std::string(kOriginal) + "resources: {devices: /dev/zero}\n");
    CHECK(has_issue(issues, "resources.devices", "expected a list"));
}

TEST_CASE("errors name the file, line, key path and the expected form") {
    auto issues = issues_of(replace(kOriginal, "unit: km}", "unit: miles}"));
    CHECK(has_issue(issues, "inputs.dini_pressure_levels.uri_args.resolution.unit",
                    "not one of m, km, deg", 6));
    CHECK(issues.at(0).str().starts_with("m/config.yaml:6:"));

    issues = issues_of(
        replace(kOriginal, "    internal_path: /volume/inputs/dini/pressure_levels.zarr\n", ""));
    CHECK(has_issue(issues, "inputs.dini_pressure_levels.internal_path", "missing"));

    issues = issues_of(replace(kOriginal, "internal_path: /volume/inputs/dini/pressure_levels.zarr",
                               "internal_path: volume/inputs"));
    CHECK(has_issue(issues, "inputs.dini_pressure_levels.internal_path", "must be an absolute path",
                    11));

    issues = issues_of(replace(kOriginal, "internal_path: /volume/outputs/pressure_levels.zarr",
                               "internal_path: /volume/inputs/dini/pressure_levels.zarr"));
    CHECK(has_issue(issues, "outputs.pressure_levels.internal_path",
                    "also the mount path of inputs.dini_pressure_levels"));

    issues = issues_of(replace(kOriginal, "surface-dummy-model:v1", "surface-dummy-model"));
    CHECK(has_issue(issues, "docker_image", "no tag or digest", 1));

    issues = issues_of(std::string(kOriginal) + "colour: blue\n");
    CHECK(has_issue(issues, "colour", "unknown key", 22));

    issues = issues_of(replace(
        kOriginal, "lon_min: -10.0, lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}\n      resolution",
        "lon_min: \"-10.0\", lat_min: 50.0, lon_max: 10.0, lat_max: 60.0}\n      resolution"));
    CHECK(has_issue(issues, "inputs.dini_pressure_levels.uri_args.bbox.lon_min",
                    "expected a number"));

    issues = issues_of(replace(kOriginal, "inputs:\n  dini", "inputs:\n  dini_x: 3\n  dini"));
    CHECK(has_issue(issues, "inputs.dini_x", "expected a mapping"));

    issues = issues_of(std::string(kOriginal) +
                       "members: [0, -1]\nresources: {memory: lots}\ntimeout: soon\n");
    CHECK(has_issue(issues, "members[1]", "not a member number"));
    CHECK(has_issue(issues, "resources.memory", "not a size"));
    CHECK(has_issue(issues, "timeout", "not an ISO 8601 duration"));

    issues = issues_of("docker_image: [unclosed\n");
    REQUIRE_FALSE(issues.empty());
    CHECK(issues[0].message.find("YAML syntax error") != std::string::npos);

    issues = issues_of(std::string(kOriginal) + "env: {MLWM_RUN_ID: x}\n");
    CHECK(has_issue(issues, "env.MLWM_RUN_ID", "reserved"));
    // all problems at once, not only the first
    issues = issues_of(
        replace(replace(kOriginal, "unit: km}", "unit: miles}"), "surface-dummy-model:v1", "x"));
    CHECK(issues.size() >= 2);
}

TEST_CASE("uri templates") {
    const auto t = paths::AnalysisTime::from_fields(2024, 2, 29, 18, 30);
    CHECK(expand_template("s3://b/{analysis_time:%Y/%m/%d/%H%M}/m{member}/x.zarr", t, 7) ==
          "s3://b/2024/02/29/1830/m7/x.zarr");
    CHECK(expand_template("{analysis_time}|{analysis_time:%j %y %%}|{{literal}}", t, 0) ==
          "2024-02-29T1830Z|060 24 %|{literal}");
    CHECK_THROWS_WITH_AS(expand_template("{cycle}", t, 0), doctest::Contains("unknown placeholder"),
                         std::invalid_argument);
    CHECK_THROWS_AS(expand_template("{analysis_time:%Q}", t, 0), std::invalid_argument);
    CHECK_THROWS_AS(expand_template("{analysis_time", t, 0), std::invalid_argument);
}

TEST_CASE("durations, sizes and YAML numbers") {
    CHECK(parse_iso_duration("PT18H") == std::chrono::hours(18));
    CHECK(parse_iso_duration("P2D") == std::chrono::hours(48));
    CHECK(parse_iso_duration("P1DT1H30M15S") == std::chrono::seconds(86400 + 5415));
    CHECK_THROWS_AS(parse_iso_duration("18h"), std::invalid_argument);
    CHECK_THROWS_AS(parse_iso_duration("PT"), std::invalid_argument);
    CHECK(format_iso_duration(std::chrono::hours(18)) == "PT18H");
    CHECK(format_iso_duration(std::chrono::seconds(90061)) == "P1DT1H1M1S");
    CHECK(format_iso_duration(std::chrono::seconds(0)) == "PT0S");
    CHECK(parse_size("16g") == 16LL << 30);
    CHECK(parse_size("512MiB") == 512LL << 20);
    CHECK(parse_size("1024") == 1024);
    CHECK_THROWS_AS(parse_size("lots"), std::invalid_argument);
    CHECK(parse_yaml_number("-10") == paths::PNumber::integer(-10));
    CHECK(parse_yaml_number("-10.0") == paths::PNumber::floating(-10.0));
    CHECK(parse_yaml_number(".5") == paths::PNumber::floating(0.5));
    CHECK(parse_yaml_number("1e3") == paths::PNumber::floating(1000.0));
    CHECK_THROWS_AS(parse_yaml_number("1e-9"), std::invalid_argument);
    CHECK_THROWS_AS(parse_yaml_number("ten"), std::invalid_argument);
}

TEST_CASE("host configuration: defaults, values, errors") {
    HostConfig d = parse_host_config("/etc/mlwm/mlwm.yaml", "");
    CHECK(d.docker_socket == "/var/run/docker.sock");
    CHECK(d.max_concurrent_runs == 2);
    const HostConfig c =
        parse_host_config("/etc/mlwm/mlwm.yaml", R"(storage: {type: file, root: store}
docker: {socket: unix:///run/podman/podman.sock}
work_dir: /srv/mlwm/work
concurrency: {runs: 4, transfers: 32}
log: {format: text}
)");
    CHECK(c.storage_type == "file");
    CHECK(c.file_root == std::filesystem::path("/etc/mlwm/store"));
    CHECK(c.docker_socket == "/run/podman/podman.sock");
    CHECK(c.max_concurrent_runs == 4);
    CHECK(c.transfer_concurrency == 32);
    try {
        parse_host_config(
            "h.yaml",
            "storage: {type: gcs}\nconcurrency: {runs: 0}\nlog: {format: xml}\nnope: 1\n");
        FAIL("invalid host configuration accepted");
    } catch (const ConfigError& e) {
        CHECK(e.issues().size() == 4);
        CHECK(std::string(e.what()).find("h.yaml:2:") != std::string::npos);
    }
}

TEST_CASE("run plan: layout, mounts, environment, marker") {
    const ModelConfig c = parse_model_config("surface-dummy", "f",
                                             std::string(kOriginal) + "forecast_duration: PT6H\n");
    const auto t = paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    const run::RunPlan p = run::plan_run(c, t, 2, "/work");
    CHECK(p.run_id == "surface-dummy/2023-10-01T1200Z/member2");
    CHECK(p.work_dir == "/work/2023-10-01T1200Z/member2");
    CHECK(p.inputs[0].local ==
          "/work/2023-10-01T1200Z/member2/input/surface-dummy/dini_pressure_levels");
    CHECK(p.outputs[0].local ==
          "/work/2023-10-01T1200Z/member2/output/surface-dummy/pressure_levels");
    REQUIRE(p.container.mounts.size() == 2);
    CHECK(p.container.mounts[0].read_only);
    CHECK_FALSE(p.container.mounts[1].read_only);
    CHECK(p.container.mounts[1].target == "/volume/outputs/pressure_levels.zarr");
    CHECK(p.container.env.at("ANALYSIS_TIME") == "2023-10-01T12:00:00Z");
    CHECK(p.container.env.at("FORECAST_DURATION") == "PT6H");
    CHECK(p.container.env.at("MLWM_MEMBER") == "2");
    CHECK(p.container.env.at("MLWM_RUN_ID") == p.run_id);
    CHECK(p.container.labels.at("org.mlwm.run-id") == p.run_id);
    CHECK(p.container.network_mode == "none");
    CHECK(p.marker.bucket == "forecast-data-public");
    CHECK(p.marker.key ==
          "surface_dummy/dini/w-10p0_s50p0_e10p0_n60p0/dx2p5km_dy2p5km/2023-10-01T1200Z/member2/"
          "_mlwm_run.json");
    const auto j = run::to_json(p);
    CHECK(j["inputs"][0]["complete_when"].get<std::string>().ends_with(
        "pressure_levels.zarr/.zmetadata"));
}

TEST_CASE("environment like the original images need: placeholders, no FORECAST_DURATION unset") {
    const auto t = paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    // no forecast_duration configured: none injected (the images default to PT18H)
    const ModelConfig plain = parse_model_config("m", "f", kOriginal);
    CHECK_FALSE(run::plan_run(plain, t, 0, "/work").container.env.contains("FORECAST_DURATION"));
    const std::string env = R"(env:
  DATASTORE_INPUT_PATHS: "danra.dini_pressure_levels={inputs.dini_pressure_levels.path}"
  INPUT_URI: "{inputs.dini_pressure_levels.uri}"
  OUTPUT_AT: "{outputs.pressure_levels.path}"
  DINI_ROOT: "s3://harmonie-zarr/dini/control/{analysis_time:%Y-%m-%dT%H%M%SZ}/"
  TIME_DIMENSIONS: "time"
  MEMBER: "m{member}"
  BRACES: "{{literal}}"
)";
    const ModelConfig c = parse_model_config("m", "f", std::string(kOriginal) + env);
    const auto e = run::plan_run(c, t, 3, "/work").container.env;
    CHECK(e.at("DATASTORE_INPUT_PATHS") ==
          "danra.dini_pressure_levels=/volume/inputs/dini/pressure_levels.zarr");
    CHECK(e.at("INPUT_URI") ==
          "s3://forecast-data-public/harmonie/dini/w-10p0_s50p0_e10p0_n60p0/dx2p5km_dy2p5km/"
          "2023-10-01T1200Z/member3/pressure_levels.zarr");
    CHECK(e.at("OUTPUT_AT") == "/volume/outputs/pressure_levels.zarr");
    CHECK(e.at("DINI_ROOT") == "s3://harmonie-zarr/dini/control/2023-10-01T120000Z/");
    CHECK(e.at("TIME_DIMENSIONS") == "time");
    CHECK(e.at("MEMBER") == "m3");
    CHECK(e.at("BRACES") == "{literal}");
    // an unknown placeholder is refused at load, naming the variable and what exists
    try {
        parse_model_config("m", "f",
                           std::string(kOriginal) + "env:\n  X: \"{inputs.nope.path}\"\n");
        FAIL("unknown placeholder accepted");
    } catch (const ConfigError& err) {
        const std::string what = err.what();
        CHECK(what.find("env.X") != std::string::npos);
        CHECK(what.find("unknown placeholder {inputs.nope.path}") != std::string::npos);
        CHECK(what.find("{inputs.dini_pressure_levels.path}") != std::string::npos);
    }
}

TEST_CASE("s3_credentials: pass needs a network; the plan names the variables, never values") {
    const auto t = paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    CHECK_THROWS_WITH(
        parse_model_config("m", "f", std::string(kOriginal) + "s3_credentials: pass\n"),
        doctest::Contains("'pass' needs a network"));
    CHECK_THROWS_WITH(
        parse_model_config("m", "f", std::string(kOriginal) + "s3_credentials: yes\n"),
        doctest::Contains("expected 'pass'"));
    const ModelConfig c = parse_model_config(
        "m", "f", std::string(kOriginal) + "network: bridge\ns3_credentials: pass\n");
    CHECK(c.pass_s3_credentials);
    const run::RunPlan p = run::plan_run(c, t, 0, "/work");
    CHECK(p.pass_s3_credentials);
    CHECK_FALSE(p.container.env.contains("AWS_SECRET_ACCESS_KEY"));  // added at run time only
    CHECK(run::to_json(p).dump().find("AWS_SECRET_ACCESS_KEY") != std::string::npos);
    // the host's settings as the container's variables
    config::HostConfig host = parse_host_config(
        "h.yaml", "storage: {endpoint: 'http://127.0.0.1:7480', region: eu-north-1}\n");
    ::setenv("AWS_ACCESS_KEY_ID", "AKIATEST", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t", 1);
    const auto env = run::s3_container_env(host);
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(env.at("AWS_ENDPOINT_URL") == "http://127.0.0.1:7480");
    CHECK(env.at("AWS_REGION") == "eu-north-1");
    CHECK(env.at("AWS_ACCESS_KEY_ID") == "AKIATEST");
    CHECK(env.at("AWS_SECRET_ACCESS_KEY") == "s3cr3t");
}

#include <fstream>
#include <thread>

#include "run/execute.hpp"

TEST_CASE("failed runs: the newest keep_failed_runs work folders are kept") {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / ("mlwm-prune-" + std::to_string(::getpid()));
    fs::remove_all(root);
    auto failed_run = [&](const std::string& time, int age_seconds) {
        const fs::path w = root / time / "member0";
        for (const char* sub : {"input/m", "output/m", "logs/m"}) fs::create_directories(w / sub);
        std::ofstream(w / "logs/m/FAILED") << "failed\n";
        fs::last_write_time(w / "logs/m/FAILED",
                            fs::file_time_type::clock::now() - std::chrono::seconds(age_seconds));
    };
    failed_run("2023-10-01T0000Z", 300);
    failed_run("2023-10-01T0600Z", 200);
    failed_run("2023-10-01T1200Z", 100);
    run::prune_failed_runs(root, 2);
    CHECK_FALSE(fs::exists(root / "2023-10-01T0000Z/member0/logs/m"));
    CHECK_FALSE(fs::exists(root / "2023-10-01T0000Z/member0/input/m"));
    CHECK(fs::exists(root / "2023-10-01T0600Z/member0/logs/m/FAILED"));
    CHECK(fs::exists(root / "2023-10-01T1200Z/member0/input/m"));
    run::prune_failed_runs(root, 0);
    CHECK_FALSE(fs::exists(root / "2023-10-01T1200Z/member0/logs/m"));
    fs::remove_all(root);
}

TEST_CASE("daemon keys: catch-up, attempts, per-model limit, deadlines, quiet period, GPUs") {
    const std::string text = std::string(kOriginal) + R"(catch_up: P2D
max_attempts: 5
max_concurrent_runs: 1
deadlines: {arrival: PT3H, completion: PT5H30M}
)";
    std::string with_quiet =
        replace(text, "    internal_path: /volume/inputs/dini/pressure_levels.zarr\n",
                "    internal_path: /volume/inputs/dini/pressure_levels.zarr\n    quiet_period: "
                "PT2M\n");
    const ModelConfig c = parse_model_config("m", "m/config.yaml", with_quiet);
    CHECK(c.catch_up.kind == config::CatchUp::Kind::max_age);
    CHECK(c.catch_up.max_age == std::chrono::hours(48));
    CHECK(c.catch_up.text == "P2D");
    CHECK(c.max_attempts == 5);
    CHECK(c.max_concurrent_runs == 1);
    CHECK(c.arrival_deadline == std::chrono::hours(3));
    CHECK(c.completion_deadline == std::chrono::minutes(330));
    CHECK(c.inputs.at(0).quiet_period == std::chrono::minutes(2));
    const run::RunPlan plan =
        run::plan_run(c, paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0), 0, "/work");
    CHECK(run::to_json(plan)["inputs"][0]["complete_when"].get<std::string>().ends_with(
        "/ quiet for 120 s"));

    auto issues = issues_of(std::string(kOriginal) +
                            "deadlines: {arrival: PT5H, completion: PT3H, start: PT1H}\n"
                            "max_concurrent_runs: 0\ncatch_up: sometimes\n");
    CHECK(has_issue(issues, "deadlines.completion", "is before deadlines.arrival"));
    CHECK(has_issue(issues, "deadlines.start", ""));
    CHECK(has_issue(issues, "max_concurrent_runs", ""));
    CHECK(has_issue(issues, "catch_up", "expected all, latest or a maximum age"));

    const ModelConfig t = parse_model_config(
        "m", "m/config.yaml",
        std::string(kOriginal) + "timeouts: {staging: PT20M, running: PT2H, publishing: 600}\n");
    CHECK(t.staging_timeout == std::chrono::minutes(20));
    CHECK(t.timeout == std::chrono::hours(2));
    CHECK(t.publishing_timeout == std::chrono::minutes(10));
    CHECK(
        parse_model_config("m", "m/config.yaml", std::string(kOriginal) + "cycle: PT6H\n").cycle ==
        std::chrono::hours(6));
    CHECK(has_issue(issues_of(std::string(kOriginal) + "cycle: 90\n"), "cycle", "whole minutes"));
    issues = issues_of(std::string(kOriginal) + "timeout: PT1H\ntimeouts: {running: PT2H}\n");
    CHECK(has_issue(issues, "timeouts.running", "give the container's time limit once"));

    const HostConfig h = parse_host_config("h.yaml", "gpus: ['0', '1', GPU-abc]\n");
    CHECK(h.gpus == std::vector<std::string>{"0", "1", "GPU-abc"});
    CHECK(parse_host_config("h.yaml", "").gpus.empty());
    // what a SIGHUP cannot apply: the host keys that changed, named as in mlwm.yaml
    CHECK(changed_host_keys(h, h).empty());
    CHECK(changed_host_keys(parse_host_config("h.yaml", "daemon: {poll_interval: 30}\n"),
                            parse_host_config("h.yaml", "")) == std::vector<std::string>{});
    CHECK(
        changed_host_keys(h, parse_host_config("h.yaml",
                                               "gpus: ['0', '1', GPU-abc]\ndaemon: {poll_interval: "
                                               "5}\nconcurrency: {runs: 4}\nhttp: {listen: "
                                               "127.0.0.1:1}\n")) ==
        std::vector<std::string>{"http.listen", "concurrency.runs", "daemon.poll_interval"});
    CHECK(changed_host_keys(h, parse_host_config("h.yaml", "gpus: ['0']\n")) ==
          std::vector<std::string>{"gpus"});
    try {
        parse_host_config("h.yaml", "gpus: ['0', '0']\n");
        FAIL("a GPU listed twice accepted");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("GPU '0' listed twice") != std::string::npos);
    }
}

TEST_CASE("host configuration: the runner (local, or a Docker Swarm)") {
    CHECK(parse_host_config("h.yaml", "").runner.type == "local");
    const HostConfig h = parse_host_config(
        "h.yaml",
        "storage: {endpoint: 'http://127.0.0.1:7480'}\nrunner: {type: swarm, manager: "
        "unix:///run/m.sock, image: 'mlwm/mlwm:0.1.0', node_work_dir: /srv/work, node_endpoint: "
        "'http://10.0.0.1:7480', placement: [node.role==worker]}\n");
    CHECK(h.runner.placement == std::vector<std::string>{"node.role==worker"});
    CHECK(h.runner.swarm());
    CHECK(h.runner.manager == "/run/m.sock");
    CHECK(h.runner.node_socket == "/var/run/docker.sock");
    CHECK(h.runner.node_work_dir == "/srv/work");
    CHECK(h.runner.node_endpoint == "http://10.0.0.1:7480");
    CHECK(h.runner.gpu_kind == "NVIDIA-GPU");
    CHECK(h.runner.node_grace == std::chrono::seconds(60));
    CHECK(runner_image_warning(h.runner).find("'mlwm/mlwm:0.1.0' is a tag") != std::string::npos);
    RunnerConfig pinned = h.runner;
    pinned.image = "registry.example/mlwm/mlwm@sha256:" + std::string(64, 'a');
    CHECK(runner_image_warning(pinned).empty());
    CHECK(runner_image_warning(RunnerConfig{}).empty());  // local: no image
    CHECK(h.gpu_delivery == mlwm::docker::GpuDelivery::requests);
    CHECK(parse_host_config("h.yaml", "docker: {gpus: nvidia-env}\n").gpu_delivery ==
          mlwm::docker::GpuDelivery::nvidia_env);
    CHECK(parse_host_config("h.yaml", "runner: {node_grace: PT2M}\n").runner.node_grace ==
          std::chrono::seconds(120));
    CHECK(changed_host_keys(h, parse_host_config("h.yaml",
                                                 "storage: {endpoint: "
                                                 "'http://127.0.0.1:7480'}\n")) ==
          std::vector<std::string>{"runner"});
    const auto problems = [](const std::string& yaml) {
        try {
            parse_host_config("h.yaml", yaml);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string bad = problems(
        "storage: {type: file, root: /s}\nrunner: {type: swarm, node_work_dir: rel, node_socket: "
        "x.sock, colour: red}\n");
    CHECK(bad.find("runner.manager: missing: a swarm runner needs a manager's socket") !=
          std::string::npos);
    CHECK(bad.find("runner.image: missing") != std::string::npos);
    CHECK(bad.find("runner.node_work_dir: 'rel': expected an absolute path") != std::string::npos);
    CHECK(bad.find("runner.node_socket: 'x.sock'") != std::string::npos);
    CHECK(bad.find("colour") != std::string::npos);
    CHECK(bad.find("swarm needs S3 storage") != std::string::npos);
    CHECK(problems("docker: {gpus: cuda}\n").find("docker.gpus: 'cuda' is not requests") !=
          std::string::npos);
    CHECK(problems("runner: {node_grace: PT0S}\n")
              .find("runner.node_grace: must be at least 1 second") != std::string::npos);
    CHECK(problems("runner: {type: slurm}\n").find("runner.type: 'slurm' is not local or swarm") !=
          std::string::npos);
}

TEST_CASE("inference_artifact: a location, or a download pinned by its sha256") {
    const std::string pin(64, 'a');
    auto with = [](const std::string& yaml) { return std::string(kOriginal) + yaml; };
    ModelConfig c = parse_model_config("m", "f", with("inference_artifact: s3://b/x.zip\n"));
    CHECK(c.inference_artifact == "s3://b/x.zip");
    CHECK(c.inference_artifact_sha256.empty());
    c = parse_model_config("m", "f",
                           with("inference_artifact: {url: https://zenodo.org/records/1/files/"
                                "m.zip, sha256: " +
                                pin + "}\n"));
    CHECK(c.inference_artifact == "https://zenodo.org/records/1/files/m.zip");
    CHECK(c.inference_artifact_sha256 == pin);
    c = parse_model_config("m", "f",
                           with("inference_artifact: {url: /a/m.zip, sha256: " + pin + "}\n"));
    CHECK(c.inference_artifact_sha256 == pin);  // a pin on a local file is checked too

    auto issues = issues_of(with("inference_artifact: https://zenodo.org/m.zip\n"));
    CHECK(has_issue(issues, "inference_artifact", "needs its checksum: write {url: ..., sha256:"));
    issues = issues_of(with("inference_artifact: {url: https://zenodo.org/m.zip}\n"));
    CHECK(has_issue(issues, "inference_artifact", "needs its checksum"));
    issues = issues_of(with("inference_artifact: {url: https://z/m.zip, sha256: abc}\n"));
    CHECK(has_issue(issues, "inference_artifact.sha256", "expected 64 hexadecimal digits"));
    issues = issues_of(with("inference_artifact: {url: ftp://z/m.zip, sha256: " + pin + "}\n"));
    CHECK(has_issue(issues, "inference_artifact.url", "expected s3://BUCKET/KEY.zip"));
    issues = issues_of(with("inference_artifact: {href: https://z/m.zip}\n"));
    CHECK(has_issue(issues, "inference_artifact.href", "unknown key"));
    CHECK(artifact_sha256_valid(std::string(64, 'F')));
    CHECK_FALSE(artifact_sha256_valid(std::string(63, 'f')));
    CHECK_FALSE(artifact_sha256_valid(std::string(64, 'g')));
}

// What one run (model, analysis time, member) does: locations, local folders,
// mounts, environment, container. Pure: the same plan drives `--dry-run`,
// the run itself and the tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model_config.hpp"
#include "docker/container_spec.hpp"

namespace mlwm::run {

// "persistence/2023-10-01T1200Z/member0": names the run everywhere.
std::string run_id(const std::string& model, const paths::AnalysisTime& t, paths::Member member);

struct PlannedDataset {
    std::string name;
    config::S3Place place;                 // in the store
    std::filesystem::path local;           // on this host
    std::string internal_path;             // in the container
    std::string completion_marker;         // inputs
    std::chrono::seconds quiet_period{0};  // inputs without a marker
};

struct RunPlan {
    std::string run_id;
    std::string model;
    paths::AnalysisTime analysis_time;
    paths::Member member = 0;
    std::filesystem::path work_dir;  // $WORKDIR of the run: <work_dir>/<time>/member<N>
    std::filesystem::path log_dir;   // $WORKDIR/logs/<model>
    std::vector<PlannedDataset> inputs, outputs;
    config::S3Place marker;  // _mlwm_run.json beside the first output
    docker::ContainerSpec container;
    std::chrono::seconds timeout{0};  // the container's
    std::chrono::seconds staging_timeout{0}, publishing_timeout{0};
    // the host's S3 settings go to the container at run time (ExecuteOptions::s3_env)
    bool pass_s3_credentials = false;
};

inline constexpr const char* kMarkerName = "_mlwm_run.json";

// Inputs go to $WORKDIR/input/<model>/<input>, outputs to
// $WORKDIR/output/<model>/<output>; both are bind-mounted at their
// internal_path (inputs read-only). Environment: ANALYSIS_TIME (ISO 8601 UTC),
// FORECAST_DURATION (ISO 8601, when configured), MLWM_MEMBER, MLWM_RUN_ID,
// MLWM_MODEL, plus `env` with its placeholders expanded.
RunPlan plan_run(const config::ModelConfig& model, const paths::AnalysisTime& t,
                 paths::Member member, const std::filesystem::path& work_root);

// The plan for people and for --dry-run --json.
nlohmann::ordered_json to_json(const RunPlan& plan);

}  // namespace mlwm::run

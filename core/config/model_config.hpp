// A model configuration: configurations/<model>/config.yaml. Accepts the
// original project's format unchanged (docker_image, inputs/outputs with
// uri_args and internal_path), plus optional extensions whose defaults keep
// the original behaviour. Pure: text in, typed struct or ConfigError out.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/catch_up.hpp"
#include "docker/container_spec.hpp"
#include "paths/key.hpp"

namespace mlwm::config {

// The standard layout's arguments (the original's `uri_args`).
struct UriArgs {
    std::string bucket_name;
    std::string model_name, model_config, data_kind;
    paths::BBox bbox;
    paths::Resolution resolution;
};

// An input or output dataset of a model.
struct Dataset {
    std::string name;
    std::optional<UriArgs> uri_args;  // the layout ...
    std::string uri_template;         // ... or s3://BUCKET/{analysis_time:%Y-%m-%dT%H%M%SZ}/...
    std::string internal_path;        // where it is mounted in the container
    std::string completion_marker = ".zmetadata";  // inputs: complete when this object exists
    // inputs whose producer writes no marker: complete once objects exist and
    // none is newer than this (0: use the completion marker)
    std::chrono::seconds quiet_period{0};
};

// Where a dataset lives for one run.
struct S3Place {
    std::string bucket;
    std::string key;  // the dataset's prefix (a zarr store), no trailing '/'
    std::string uri() const { return "s3://" + bucket + "/" + key; }
};

struct ModelConfig {
    std::string name;  // the folder's name
    std::filesystem::path file;
    std::string docker_image;
    std::vector<Dataset> inputs, outputs;  // in the file's order
    // extensions
    std::string inference_artifact;         // s3://, file://, /path, https:// or http://
    std::string inference_artifact_sha256;  // pinned checksum (required for downloads)
    std::vector<paths::Member> members{0};
    // FORECAST_DURATION for the container; not set when not configured (the
    // original images then use their own default)
    std::optional<std::chrono::seconds> forecast_duration;
    // the container's environment; values take the placeholders of
    // dataset_placeholders (see expand_template)
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> build_args;
    docker::Resources resources;
    std::chrono::seconds timeout{0};  // the container's (running); 0: none
    // the other phases' time limits (0: none): downloading the inputs,
    // uploading the outputs
    std::chrono::seconds staging_timeout{0}, publishing_timeout{0};
    std::string network = "none";
    // s3_credentials: pass -- the model reads S3 itself: the host's endpoint,
    // region and credentials are handed to its container at run time as
    // AWS_* variables (never in the plan, a log, the marker); needs a network
    bool pass_s3_credentials = false;
    std::vector<std::string> command;  // empty: the image's CMD
    // daemon
    CatchUp catch_up;  // all | latest | maximum age (ISO 8601, e.g. P2D)
    int max_attempts = 3;
    // the first retry waits up to this (full jitter), doubling per attempt up to 15 min
    std::chrono::seconds retry_delay{60};
    int max_concurrent_runs = 0;  // 0: only the host's global limit
    // late alerts: inputs not complete by analysis time + arrival, outputs not
    // published by analysis time + completion (0: no alert)
    std::chrono::seconds arrival_deadline{0}, completion_deadline{0};
    // analysis times expected every `cycle` from 00 UTC (0: not known); with
    // an arrival deadline, a cycle whose inputs never appear is late too
    std::chrono::seconds cycle{0};
};

// Parses and validates; throws ConfigError with every issue found.
ModelConfig parse_model_config(const std::string& name, const std::string& file,
                               const std::string& text);
// Reads configurations/<name>/config.yaml.
ModelConfig load_model_config(const std::filesystem::path& model_dir);

// The dataset's location for an analysis time and member.
S3Place locate(const Dataset& d, const paths::AnalysisTime& t, paths::Member member);

// Expands {analysis_time:FORMAT} (strftime-like: %Y %m %d %H %M %S %j %y %%),
// {analysis_time} (YYYY-MM-DDThhmmZ), {member} and the `named` ones (e.g.
// {inputs.danra.path}). Throws std::invalid_argument for an unknown
// placeholder or conversion.
std::string expand_template(std::string_view tmpl, const paths::AnalysisTime& t,
                            paths::Member member,
                            const std::map<std::string, std::string>& named = {});

// The datasets' placeholders an `env` value may use, with their values for
// one run: {inputs.NAME.path} / {outputs.NAME.path} (the mount path in the
// container) and {inputs.NAME.uri} / {outputs.NAME.uri} (s3://bucket/key).
std::map<std::string, std::string> dataset_placeholders(const ModelConfig& m,
                                                        const paths::AnalysisTime& t,
                                                        paths::Member member);

// 64 hexadecimal digits (either case).
bool artifact_sha256_valid(std::string_view hex);

}  // namespace mlwm::config

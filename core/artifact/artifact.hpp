// Inference artifacts: one zip with everything inference needs, built on the
// training machine: the checkpoint, the neural-lam configuration and its
// datastore configurations, the training arguments, the datastores'
// statistics, and artifact.yaml (provenance and a checksum of every file).
//
//   artifact.yaml
//   checkpoint.pkl
//   training_cli_args.yaml
//   configs/<neural-lam config>            (config_path entries -> copied basenames)
//   configs/<datastore configs>
//   stats/<datastore stem>.stats.zarr/...  (mdp datastores)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mlwm::artifact {

struct Datastore {
    std::string role;                   // datastore, datastore_boundary, datastores.NAME
    std::string kind;                   // mdp, npyfilesmeps, ...
    std::filesystem::path config_path;  // resolved against the neural-lam config's folder
};

// The datastores a neural-lam configuration names; throws std::invalid_argument
// if it names none ("does not look like a neural-lam configuration").
std::vector<Datastore> find_datastores(const std::filesystem::path& nl_config,
                                       const std::string& text);

// The configuration with every config_path replaced by its basename.
std::string rewrite_config_paths(const std::string& text);

// Copies the statistics variables (<var>__<split>__<stat>) of the zarr store
// `zarr` and the coordinate arrays their dimensions need into a new
// consolidated zarr group `out`. Returns the statistics variables copied.
std::vector<std::string> extract_statistics(const std::filesystem::path& zarr,
                                            const std::filesystem::path& out);

struct BuildRequest {
    std::string name;
    std::filesystem::path nl_config, checkpoint, training_args;
    std::filesystem::path output_dir;  // the zip goes to output_dir/<name>.zip
    std::vector<std::string> argv;     // recorded in artifact.yaml
    std::string mlwm_version;
};

struct BuildResult {
    std::filesystem::path zip;
    std::vector<std::string> entries;  // files in the zip, artifact.yaml first
    std::vector<std::string> statistics;
    std::vector<std::string> warnings;  // accepted, but worth a look
};

BuildResult build_artifact(const BuildRequest& request);

struct VerifyResult {
    std::string artifact_name;
    std::size_t files = 0;
    bool checksums = true;  // artifact.yaml lists the files' sha256 (the original's does not)
    std::vector<std::string> problems;  // empty: verified
    std::vector<std::string> warnings;  // accepted, but worth a look
    bool ok() const { return problems.empty(); }
};

// Checks the zip: every entry reads back with its CRC, the required files
// are there (artifact.yaml, checkpoint.pkl, training_cli_args.yaml, a
// configuration under configs/), the configurations and training arguments
// parse as YAML, and every file matches artifact.yaml's sha256 and size with
// no file unlisted. An artifact.yaml without checksums (built by the original
// mlwm) is a warning, or a problem with `require_checksums`.
VerifyResult verify_artifact(const std::filesystem::path& zip, bool require_checksums = false);

// Why a training-arguments document is not the expected list of one-key maps
// ("" when it is). The original accepts any YAML; so does mlwm, with this as a warning.
std::string training_args_shape(const std::string& file, const std::string& text);

// "s3://mlwm-artifacts/inference-artifacts/{artifact_name}.zip" with the name.
std::string upload_target(const std::string& format, const std::string& name);
inline constexpr const char* kDefaultUploadFormat =
    "s3://mlwm-artifacts/inference-artifacts/{artifact_name}.zip";

}  // namespace mlwm::artifact

// Inference artifacts: datastores of a neural-lam configuration, path rewriting,
// upload targets, and the statistics extraction on a hand-made zarr store.
#include <fstream>

#include <doctest/doctest.h>
#include <unistd.h>

#include "artifact/artifact.hpp"

using namespace mlwm::artifact;
namespace fs = std::filesystem;

TEST_CASE("datastores: single, boundary and named; relative paths resolved") {
    const auto d = find_datastores("/train/config.yaml",
                                   R"(datastore: {kind: mdp, config_path: data/danra.datastore.yaml}
datastore_boundary: {kind: mdp, config_path: /abs/era5.datastore.yaml}
datastores:
  extra: {kind: npyfilesmeps, config_path: meps.yaml}
)");
    REQUIRE(d.size() == 3);
    CHECK(d[0].role == "datastore");
    CHECK(d[0].config_path == fs::path("/train/data/danra.datastore.yaml"));
    CHECK(d[1].role == "datastore_boundary");
    CHECK(d[1].config_path == fs::path("/abs/era5.datastore.yaml"));
    CHECK(d[2].role == "datastores.extra");
    CHECK(d[2].kind == "npyfilesmeps");
    CHECK_THROWS_WITH_AS(find_datastores("/x/c.yaml", "training: {}\n"),
                         doctest::Contains("does not look like a neural-lam"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(find_datastores("/x/c.yaml", "datastore: {kind: mdp}\n"),
                         doctest::Contains("config_path"), std::invalid_argument);
}

TEST_CASE("config_path entries are rewritten to the copied basenames") {
    const std::string out = rewrite_config_paths(
        "datastore: {kind: mdp, config_path: data/danra.datastore.yaml}\ndatastores:\n  b: {kind: "
        "mdp, config_path: /x/y/era5.yaml}\n"
        "training: {epochs: 3}\n");
    CHECK(out.find("config_path: danra.datastore.yaml") != std::string::npos);
    CHECK(out.find("config_path: era5.yaml") != std::string::npos);
    CHECK(out.find("epochs: 3") != std::string::npos);
    CHECK(out.find("data/") == std::string::npos);
}

TEST_CASE("upload targets") {
    CHECK(upload_target(kDefaultUploadFormat, "dini") ==
          "s3://mlwm-artifacts/inference-artifacts/dini.zip");
    CHECK(upload_target("s3://b/{artifact_name}/{artifact_name}.zip", "x") == "s3://b/x/x.zip");
}

TEST_CASE("statistics: only <var>__<split>__<stat>, with the coordinates they need") {
    const fs::path root = fs::temp_directory_path() / ("mlwm-stats-" + std::to_string(::getpid()));
    fs::remove_all(root);
    auto array = [&](const std::string& name, const std::string& dims) {
        fs::create_directories(root / "ds.zarr" / name);
        std::ofstream(root / "ds.zarr" / name / ".zarray")
            << R"({"zarr_format": 2, "shape": [3], "chunks": [3], "dtype": "<f8", "compressor": null, "fill_value": null, "filters": null, "order": "C"})";
        std::ofstream(root / "ds.zarr" / name / ".zattrs")
            << R"({"_ARRAY_DIMENSIONS": )" << dims << "}";
        std::ofstream(root / "ds.zarr" / name / "0") << std::string(24, 'x');
    };
    array("state", R"(["time", "state_feature"])");
    array("state__train__mean", R"(["state_feature"])");
    array("state__train__diff_std", R"(["state_feature"])");
    array("state_feature", R"(["state_feature"])");
    array("time", R"(["time"])");
    array("a__b", R"(["time"])");  // two parts: not a statistic
    std::ofstream(root / "ds.zarr" / ".zgroup") << R"({"zarr_format": 2})";
    const auto stats = extract_statistics(root / "ds.zarr", root / "out.zarr");
    CHECK(stats == std::vector<std::string>{"state__train__diff_std", "state__train__mean"});
    CHECK(fs::exists(root / "out.zarr/state__train__mean/0"));
    CHECK(fs::exists(root / "out.zarr/state_feature/.zarray"));
    CHECK_FALSE(fs::exists(root / "out.zarr/time"));
    CHECK_FALSE(fs::exists(root / "out.zarr/state"));
    CHECK(fs::exists(root / "out.zarr/.zmetadata"));
    CHECK_THROWS_AS(extract_statistics(root / "missing.zarr", root / "o2"), std::invalid_argument);
    fs::remove_all(root);
}

TEST_CASE(
    "training arguments: a list of one-key maps is the expected shape; anything else is a "
    "warning") {
    CHECK(training_args_shape("t.yaml", "- num_workers: 6\n- precision: bf16-mixed\n") == "");
    const auto map = training_args_shape("t.yaml", "num_workers: 6\nprecision: bf16\n");
    CHECK(map.find("t.yaml") != std::string::npos);
    CHECK(map.find("list") != std::string::npos);
    CHECK(training_args_shape("t.yaml", "- a: 1\n  b: 2\n") != "");
    CHECK(training_args_shape("t.yaml", "- [1, 2]\n") != "");
    CHECK(training_args_shape("t.yaml", "{unclosed: [").find("not YAML") != std::string::npos);
}

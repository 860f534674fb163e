// `mlwm paths create` and `mlwm paths parse`: the standard key layout.
#include <charconv>
#include <iostream>

#include "command.hpp"
#include "paths/error.hpp"
#include "paths/json.hpp"
#include "paths/key.hpp"
#include "util/text.hpp"

namespace mlwm::app {
namespace {

using paths::PathError;

std::vector<std::string> split_commas(const std::string& text) {
    return util::split(text, ',');
}

paths::BBox bbox_arg(const std::string& text) {
    const auto v = split_commas(text);
    if (v.size() != 4)
        throw PathError("--bbox '" + text +
                        "': expected LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (4 numbers, got " +
                        std::to_string(v.size()) + ")");
    return {
        paths::parse_decimal(v[0], "--bbox lon_min"), paths::parse_decimal(v[1], "--bbox lat_min"),
        paths::parse_decimal(v[2], "--bbox lon_max"), paths::parse_decimal(v[3], "--bbox lat_max")};
}

paths::Resolution resolution_arg(const std::string& text) {
    const auto v = split_commas(text);
    if (v.size() != 3)
        throw PathError("--resolution '" + text + "': expected DX,DY,UNIT (e.g. 2.5,2.5,km; got " +
                        std::to_string(v.size()) + " parts)");
    try {
        return {paths::parse_decimal(v[0], "dx"), paths::parse_decimal(v[1], "dy"),
                paths::parse_unit(v[2])};
    } catch (const PathError& e) {
        throw PathError("--resolution '" + text + "': " + e.what());
    }
}

paths::Member member_arg(const std::string& text) {
    paths::Member m = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), m);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
        throw PathError("--member '" + text +
                        "': expected a non-negative integer (0 is the control run)");
    return m;
}

int create(const cli::ParsedArgs& a) {
    paths::DatasetKey k;
    k.model_name = a.require("model-name");
    k.model_config = a.require("model-config");
    k.bbox = bbox_arg(a.require("bbox"));
    k.resolution = resolution_arg(a.require("resolution"));
    k.analysis_time = paths::parse_iso8601_time(a.require("analysis-time"));
    k.member = member_arg(a.get("member").value_or("0"));
    k.data_kind = a.require("data-kind");
    std::string key = paths::create_path(k);
    if (auto bucket = a.get("bucket")) {
        paths::check_bucket_name(*bucket);
        key = "s3://" + *bucket + "/" + key;
    }
    std::cout << key << "\n";
    return kExitOk;
}

int parse(const cli::ParsedArgs& a) {
    const std::string format = a.get("format").value_or("json");
    if (format != "json" && format != "text")
        throw cli::UsageError("mlwm paths parse: --format '" + format + "': expected json or text");
    const auto location = paths::parse_location(a.positionals.at(0));
    if (format == "json")
        std::cout << paths::to_json(location).dump() << "\n";
    else
        std::cout << paths::to_text(location);
    return kExitOk;
}

}  // namespace

std::vector<Command> paths_commands() {
    cli::CommandSpec create_spec{
        .path = "paths create",
        .summary = "print the S3 key of a dataset in the standard layout",
        .description =
            "The key is <model_name>/<model_config>/<bbox>/<resolution>/<YYYY-MM-DDThhmmZ>/\n"
            "member<N>/<data_kind>.zarr. Numbers are taken as written: 35.0 is a float\n"
            "(written 35p0), 35 an integer (written 35).",
        .options =
            {
                {"model-name", "NAME", "model that produced the data, e.g. harmonie_cy46", true},
                {"model-config", "CFG", "its configuration, e.g. danra", true},
                {"bbox", "W,S,E,N",
                 "bounding box LON_MIN,LAT_MIN,LON_MAX,LAT_MAX, e.g. -10.5,35.0,10.5,45.0", true},
                {"resolution", "DX,DY,UNIT",
                 "grid spacing and unit (m, km or deg), e.g. 2.5,2.5,km", true},
                {"analysis-time", "TIME",
                 "ISO 8601 time with zone, e.g. 2023-10-01T12:00Z or 2023-10-01T14:00+02:00", true},
                {"member", "N", "ensemble member, 0 (the control run) by default"},
                {"data-kind", "KIND", "dataset kind, e.g. pressure_levels", true},
                {"bucket", "BUCKET", "print s3://BUCKET/KEY instead of the bare key"},
            },
        .positionals = {},
        .epilog =
            "example:\n  mlwm paths create --model-name harmonie_cy46 --model-config danra \\\n"
            "    --bbox 12.5,45.65,24.52,64.40 --resolution 2.5,2.5,km \\\n"
            "    --analysis-time 2023-10-01T12:00Z --data-kind pressure_levels",
    };
    cli::CommandSpec parse_spec{
        .path = "paths parse",
        .summary = "parse a key of the standard layout and print its fields",
        .description =
            "Prints one JSON object (or, with --format text, one field per line).\n"
            "An s3://BUCKET/ prefix is accepted and reported as \"bucket\".",
        .options = {{"format", "FORMAT", "json (default) or text"}},
        .positionals = {{"KEY", "the key, or s3://BUCKET/KEY"}},
        .epilog =
            "example:\n  mlwm paths parse "
            "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/"
            "member0/pressure_levels.zarr",
    };
    return {{create_spec, create}, {parse_spec, parse}};
}

}  // namespace mlwm::app

#include "paths/json.hpp"

namespace mlwm::paths {
namespace {

// The number as a person writes it: 12.0, 64.4, 789.
std::string decimal_text(const PNumber& n) {
    return n.is_integer() ? std::to_string(n.as_integer()) : shortest_decimal(n.as_double());
}

}  // namespace

nlohmann::ordered_json to_json(const PNumber& number) {
    if (number.is_integer()) return number.as_integer();
    return number.as_double();
}

nlohmann::ordered_json to_json(const DatasetLocation& location) {
    const DatasetKey& k = location.key;
    nlohmann::ordered_json j;
    if (location.bucket) j["bucket"] = *location.bucket;
    j["model_name"] = k.model_name;
    j["model_config"] = k.model_config;
    j["bbox"] = {{"lon_min", to_json(k.bbox.lon_min)},
                 {"lat_min", to_json(k.bbox.lat_min)},
                 {"lon_max", to_json(k.bbox.lon_max)},
                 {"lat_max", to_json(k.bbox.lat_max)}};
    j["resolution"] = {{"lon_resolution", to_json(k.resolution.lon_resolution)},
                       {"lat_resolution", to_json(k.resolution.lat_resolution)},
                       {"unit", unit_name(k.resolution.unit)}};
    j["analysis_time"] = format_iso8601(k.analysis_time);
    j["member"] = k.member;
    j["data_kind"] = k.data_kind;
    return j;
}

std::string to_text(const DatasetLocation& location) {
    const DatasetKey& k = location.key;
    const std::string unit(unit_name(k.resolution.unit));
    std::string out;
    auto line = [&](std::string_view label, const std::string& value) {
        out += std::string(label);
        out.append(label.size() < 15 ? 15 - label.size() : 1, ' ');
        out += value + "\n";
    };
    if (location.bucket) line("bucket", *location.bucket);
    line("model name", k.model_name);
    line("model config", k.model_config);
    line("bbox", "lon " + decimal_text(k.bbox.lon_min) + " to " + decimal_text(k.bbox.lon_max) +
                     ", lat " + decimal_text(k.bbox.lat_min) + " to " +
                     decimal_text(k.bbox.lat_max));
    line("resolution", "dx " + decimal_text(k.resolution.lon_resolution) + " " + unit + ", dy " +
                           decimal_text(k.resolution.lat_resolution) + " " + unit);
    line("analysis time", format_iso8601(k.analysis_time));
    line("member", std::to_string(k.member) + (k.member == 0 ? " (control)" : ""));
    line("data kind", k.data_kind);
    return out;
}

}  // namespace mlwm::paths

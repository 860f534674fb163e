// The standard key layout of input and output datasets:
//
//   <model_name>/<model_config>/<bbox>/<resolution>/<analysis_time>/member<N>/<data_kind>.zarr
//
//   bbox        w<lon_min>_s<lat_min>_e<lon_max>_n<lat_max>     (p-numbers)
//   resolution  dx<lon_resolution><unit>_dy<lat_resolution><unit>, unit m | km | deg
//   time        YYYY-MM-DDThhmmZ (UTC)
//   member      member<N>, N >= 0 (0 is the control run)
//
// Everything here is pure: no I/O. Formatting and parsing round-trip exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "paths/analysis_time.hpp"
#include "paths/pnumber.hpp"

namespace mlwm::paths {

struct BBox {
    PNumber lon_min, lat_min, lon_max, lat_max;
    friend bool operator==(const BBox&, const BBox&) = default;
};

enum class Unit { m, km, deg };

struct Resolution {
    PNumber lon_resolution, lat_resolution;
    Unit unit = Unit::km;
    friend bool operator==(const Resolution&, const Resolution&) = default;
};

using Member = std::uint32_t;

struct DatasetKey {
    std::string model_name;
    std::string model_config;
    BBox bbox;
    Resolution resolution;
    AnalysisTime analysis_time;
    Member member = 0;
    std::string data_kind;
    friend bool operator==(const DatasetKey&, const DatasetKey&) = default;
};

// A key, optionally with the bucket it lives in (`s3://BUCKET/KEY`).
struct DatasetLocation {
    std::optional<std::string> bucket;
    DatasetKey key;
    friend bool operator==(const DatasetLocation&, const DatasetLocation&) = default;
};

std::string_view unit_name(Unit unit);
Unit parse_unit(std::string_view text);  // exact: "m", "km" or "deg"

std::string format_bbox(const BBox& bbox);
BBox parse_bbox(std::string_view segment);

std::string format_resolution(const Resolution& resolution);
Resolution parse_resolution(std::string_view segment);

std::string format_member(Member member);
Member parse_member(std::string_view segment);

// Checks a free-text segment (model name, model config, data kind): non-empty
// UTF-8 without '/' or control characters, not "." or ".." (like the original,
// which only splits on '/'). Throws PathError naming `what`.
void check_name(std::string_view text, std::string_view what);

// The key; throws PathError if a field cannot be written (bad name, a number
// that needs an exponent, a resolution that is not positive).
std::string create_path(const DatasetKey& key);

// Strict parse of a key; throws PathError naming the segment that is wrong
// and what was expected.
DatasetKey parse_path(std::string_view key);

// Like parse_path, but also accepts an `s3://BUCKET/` prefix.
DatasetLocation parse_location(std::string_view text);

// Checks an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a
// letter or digit); throws PathError.
void check_bucket_name(std::string_view bucket);

}  // namespace mlwm::paths

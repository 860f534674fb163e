// JSON and text renderings of parsed keys (for `mlwm paths parse` and status).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "paths/key.hpp"

namespace mlwm::paths {

// A JSON number: integers stay integers, floats stay floats.
nlohmann::ordered_json to_json(const PNumber& number);

// {"bucket"?, "model_name", "model_config", "bbox": {...}, "resolution": {...},
//  "analysis_time": "2023-10-01T12:00:00Z", "member", "data_kind"}
nlohmann::ordered_json to_json(const DatasetLocation& location);

// Human-readable, one field per line.
std::string to_text(const DatasetLocation& location);

}  // namespace mlwm::paths

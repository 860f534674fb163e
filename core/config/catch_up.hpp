// A model's catch-up policy (`catch_up:` in config.yaml): which analysis
// times to run after a start or an outage. Parsed once, when the
// configuration is loaded.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace mlwm::config {

struct CatchUp {
    enum class Kind { all, latest, max_age } kind = Kind::all;
    std::chrono::seconds max_age{0};
    std::string text = "all";  // as written, for messages
};

// "all", "latest" or an ISO 8601 duration such as P2D; throws std::invalid_argument.
CatchUp parse_catch_up(std::string_view text);

}  // namespace mlwm::config

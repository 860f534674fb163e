#include "config/catch_up.hpp"

#include <stdexcept>

#include "config/yaml_reader.hpp"

namespace mlwm::config {

CatchUp parse_catch_up(std::string_view text) {
    if (text == "all") return {CatchUp::Kind::all, {}, "all"};
    if (text == "latest") return {CatchUp::Kind::latest, {}, "latest"};
    try {
        return {CatchUp::Kind::max_age, parse_iso_duration(text), std::string(text)};
    } catch (const std::invalid_argument&) {
        throw std::invalid_argument("catch-up policy '" + std::string(text) +
                                    "': expected all, latest or a maximum age such as P2D");
    }
}

}  // namespace mlwm::config

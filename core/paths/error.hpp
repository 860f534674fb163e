// Errors raised for malformed keys, numbers and times.
#pragma once

#include <stdexcept>
#include <string>

namespace mlwm::paths {

// Bad input from outside (a key, a CLI argument, a configuration value). The
// message names the part that is wrong and what was expected; it is meant to be
// shown to the user as it is.
class PathError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

}  // namespace mlwm::paths

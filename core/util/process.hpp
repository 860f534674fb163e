// Running a helper program (git, ...) without a shell and capturing its output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mlwm::util {

struct ProcessResult {
    int exit_code = -1;  // -1: could not be started or was killed by a signal
    std::string out;     // stdout
    std::string err;     // stderr
};

// Runs argv[0] (looked up in PATH) with the arguments, in `cwd` if given.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& cwd = {});

}  // namespace mlwm::util

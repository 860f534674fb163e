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

// Runs argv[0] (looked up in PATH) with the arguments, in `cwd` if given,
// with `input` (small: it is written before the output is read) on its stdin,
// else /dev/null.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& cwd = {}, const std::string& input = {});

}  // namespace mlwm::util

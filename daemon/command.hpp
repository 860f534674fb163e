// The `mlwm` subcommand registry: each command is a spec (options, help) and
// a function that runs it. main() dispatches on the command words.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/args.hpp"

namespace mlwm::app {

// Exit statuses shared by every subcommand.
enum Exit : int {
    kExitOk = 0,
    kExitFailure = 1,  // the command ran and something failed
    kExitUsage = 2,    // bad command line or bad input value
};

struct Command {
    cli::CommandSpec spec;  // spec.path is the command words, e.g. "paths create"
    std::function<int(const cli::ParsedArgs&)> run;
};

// Every command, in the order `mlwm --help` lists them.
std::vector<Command> all_commands();

// Registries of the command groups (one function per source file).
std::vector<Command> paths_commands();
std::vector<Command> image_commands();
std::vector<Command> storage_commands();
std::vector<Command> run_commands();
std::vector<Command> artifact_commands();
std::vector<Command> daemon_commands();
std::vector<Command> runs_commands();

// Keeps the process arguments (build-artifact records them).
void record_argv(int argc, char** argv);

}  // namespace mlwm::app

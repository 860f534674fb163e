// Command-line parsing for `mlwm` subcommands: declarative option specs, GNU
// long options (`--name VALUE`, `--name=VALUE`, flags), `--` ends options.
// Pure: no I/O; errors are UsageError with a one-line message.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace mlwm::cli {

// Wrong use of the command line: exit status 2, message on one line.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;     // long name without dashes, e.g. "model-name"
    std::string metavar;  // empty: a flag that takes no value
    std::string help;
    bool required = false;
    bool repeatable = false;
    std::vector<std::string> aliases{};  // other spellings, e.g. "nl_config"
};

struct PositionalSpec {
    std::string metavar;
    std::string help;
    bool optional = false;
};

struct CommandSpec {
    std::string path;  // e.g. "paths create" (after "mlwm ")
    std::string summary;
    std::string description;  // free text shown after the usage line
    std::vector<OptionSpec> options;
    std::vector<PositionalSpec> positionals;
    std::string epilog{};  // examples
};

class ParsedArgs {
public:
    bool help = false;
    std::vector<std::string> positionals;

    bool has(const std::string& name) const { return values_.contains(name); }
    std::optional<std::string> get(const std::string& name) const;
    // The value of a required option; throws UsageError naming it if absent.
    std::string require(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    void add(const std::string& name, std::string value) { values_[name].push_back(value); }

private:
    std::map<std::string, std::vector<std::string>> values_;
};

// Parses `args` (everything after the subcommand words). `--help`/`-h` sets
// `help` and stops checking. Throws UsageError for an unknown option, a
// missing value, a missing required option, a repeated non-repeatable option
// or a wrong positional count.
ParsedArgs parse_args(const CommandSpec& spec, std::span<const std::string> args);

// `mlwm <path> --help` text.
std::string render_help(const CommandSpec& spec);

}  // namespace mlwm::cli

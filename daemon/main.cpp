// mlwm: runs machine-learning weather models in operations.
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "command.hpp"
#include "version.hpp"

namespace mlwm::app {

std::vector<Command> all_commands() {
    std::vector<Command> all;
    for (auto group : {daemon_commands, runs_commands, run_commands, paths_commands,
                       storage_commands, image_commands, artifact_commands})
        for (auto& c : group()) all.push_back(std::move(c));
    return all;
}

namespace {

std::string first_word(const std::string& path) {
    return path.substr(0, path.find(' '));
}

std::string top_help(const std::vector<Command>& commands) {
    std::string out =
        "usage: mlwm [--help] [--version] COMMAND [ARGS...]\n\n"
        "mlwm runs machine-learning weather models in operations: it finds new input\n"
        "datasets in S3, runs each configured model's inference container, and\n"
        "publishes the forecasts.\n\ncommands:\n";
    for (const auto& c : commands) {
        std::string left = "  " + c.spec.path;
        left.resize(std::max<std::size_t>(left.size() + 2, 20), ' ');
        out += left + c.spec.summary + "\n";
    }
    out += "\nRun 'mlwm COMMAND --help' for the options of a command.\n";
    return out;
}

// `mlwm paths` (a group word without a subcommand): list the group.
std::string group_help(const std::string& group, const std::vector<Command>& commands) {
    std::string out = "usage: mlwm " + group + " COMMAND [ARGS...]\n\ncommands:\n";
    for (const auto& c : commands) {
        if (first_word(c.spec.path) != group) continue;
        std::string left = "  " + c.spec.path;
        left.resize(std::max<std::size_t>(left.size() + 2, 20), ' ');
        out += left + c.spec.summary + "\n";
    }
    return out;
}

int dispatch(const std::vector<std::string>& argv) {
    const auto commands = all_commands();
    if (argv.empty()) {
        std::cerr << top_help(commands);
        return kExitUsage;
    }
    const std::string& first = argv[0];
    if (first == "-h" || first == "--help" || first == "help") {
        std::cout << top_help(commands);
        return kExitOk;
    }
    if (first == "--version" || first == "version") {
        std::cout << "mlwm " << version::kFullVersion << "\n";
        return kExitOk;
    }
    if (first.starts_with("-")) {
        std::cerr << "mlwm: unknown option '" << first << "' (see 'mlwm --help')\n";
        return kExitUsage;
    }
    // The longest command path that matches the leading words.
    const Command* best = nullptr;
    std::size_t best_words = 0;
    bool is_group = false;
    for (const auto& c : commands) {
        std::vector<std::string> words;
        for (std::size_t s = 0, e; s <= c.spec.path.size(); s = e + 1) {
            e = c.spec.path.find(' ', s);
            if (e == std::string::npos) e = c.spec.path.size();
            words.push_back(c.spec.path.substr(s, e - s));
        }
        if (words[0] == first) is_group = is_group || words.size() > 1;
        if (words.size() > argv.size()) continue;
        if (!std::equal(words.begin(), words.end(), argv.begin())) continue;
        if (words.size() > best_words) {
            best = &c;
            best_words = words.size();
        }
    }
    if (!best) {
        if (is_group) {
            const bool asked = argv.size() > 1 && (argv[1] == "--help" || argv[1] == "-h");
            if (argv.size() > 1 && !asked) {
                std::cerr << "mlwm " << first << ": unknown command '" << argv[1] << "' (see 'mlwm "
                          << first << " --help')\n";
                return kExitUsage;
            }
            (asked ? std::cout : std::cerr) << group_help(first, commands);
            return asked ? kExitOk : kExitUsage;
        }
        std::cerr << "mlwm: unknown command '" << first << "' (see 'mlwm --help')\n";
        return kExitUsage;
    }
    const std::vector<std::string> rest(argv.begin() + static_cast<std::ptrdiff_t>(best_words),
                                        argv.end());
    try {
        const cli::ParsedArgs args = cli::parse_args(best->spec, rest);
        if (args.help) {
            std::cout << cli::render_help(best->spec);
            return kExitOk;
        }
        return best->run(args);
    } catch (const cli::UsageError& e) {
        std::cerr << e.what() << "\n";
        return kExitUsage;
    } catch (const std::invalid_argument& e) {  // bad input value (PathError is one)
        std::cerr << "mlwm " << best->spec.path << ": " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "mlwm " << best->spec.path << ": " << e.what() << "\n";
        return kExitFailure;
    }
}

}  // namespace
}  // namespace mlwm::app

int main(int argc, char** argv) {
    mlwm::app::record_argv(argc, argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        return mlwm::app::dispatch(args);
    } catch (const std::exception& e) {
        std::cerr << "mlwm: error: " << e.what() << "\n";
        return mlwm::app::kExitFailure;
    }
}

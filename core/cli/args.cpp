#include "cli/args.hpp"

#include <algorithm>

namespace mlwm::cli {
namespace {

const OptionSpec* find_option(const CommandSpec& spec, std::string_view name) {
    for (const auto& o : spec.options) {
        if (o.name == name) return &o;
        if (std::find(o.aliases.begin(), o.aliases.end(), name) != o.aliases.end()) return &o;
    }
    return nullptr;
}

std::string hint(const CommandSpec& spec) {
    return " (see 'mlwm " + spec.path + " --help')";
}

std::size_t required_positionals(const CommandSpec& spec) {
    return static_cast<std::size_t>(std::count_if(spec.positionals.begin(), spec.positionals.end(),
                                                  [](const auto& p) { return !p.optional; }));
}

}  // namespace

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::string ParsedArgs::require(const std::string& name) const {
    auto v = get(name);
    if (!v) throw UsageError("missing required option --" + name);
    return *v;
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs parse_args(const CommandSpec& spec, std::span<const std::string> args) {
    ParsedArgs out;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (options_done || a == "-" || !a.starts_with("-")) {
            out.positionals.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        if (a == "-h" || a == "--help") {
            out.help = true;
            return out;
        }
        if (!a.starts_with("--"))
            throw UsageError("mlwm " + spec.path + ": unknown option '" + a + "'" + hint(spec));
        const auto eq = a.find('=');
        const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        const OptionSpec* opt = find_option(spec, name);
        if (!opt)
            throw UsageError("mlwm " + spec.path + ": unknown option '--" + name + "'" +
                             hint(spec));
        if (!opt->repeatable && out.has(opt->name))
            throw UsageError("mlwm " + spec.path + ": option --" + opt->name +
                             " given more than once");
        if (opt->metavar.empty()) {
            if (eq != std::string::npos)
                throw UsageError("mlwm " + spec.path + ": option --" + opt->name +
                                 " takes no value");
            out.add(opt->name, "");
        } else if (eq != std::string::npos) {
            out.add(opt->name, a.substr(eq + 1));
        } else {
            if (i + 1 >= args.size())
                throw UsageError("mlwm " + spec.path + ": option --" + opt->name +
                                 " needs a value " + opt->metavar);
            out.add(opt->name, args[++i]);
        }
    }
    for (const auto& o : spec.options)
        if (o.required && !out.has(o.name))
            throw UsageError("mlwm " + spec.path + ": missing required option --" + o.name + " " +
                             o.metavar + hint(spec));
    const std::size_t need = required_positionals(spec);
    if (out.positionals.size() < need)
        throw UsageError("mlwm " + spec.path + ": missing argument " +
                         spec.positionals[out.positionals.size()].metavar + hint(spec));
    if (out.positionals.size() > spec.positionals.size())
        throw UsageError("mlwm " + spec.path + ": unexpected argument '" +
                         out.positionals[spec.positionals.size()] + "'" + hint(spec));
    return out;
}

std::string render_help(const CommandSpec& spec) {
    std::string usage = "usage: mlwm " + spec.path;
    if (!spec.options.empty()) usage += " [OPTIONS]";
    for (const auto& p : spec.positionals)
        usage += p.optional ? " [" + p.metavar + "]" : " " + p.metavar;
    std::string out = usage + "\n\n" + spec.summary + "\n";
    if (!spec.description.empty()) out += "\n" + spec.description + "\n";

    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& p : spec.positionals) rows.emplace_back(p.metavar, p.help);
    std::size_t npos = rows.size();
    for (const auto& o : spec.options) {
        std::string left = "--" + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
        for (const auto& al : o.aliases) left += ", --" + al;
        rows.emplace_back(left, o.help + (o.required ? " (required)" : "") +
                                    (o.repeatable ? " (repeatable)" : ""));
    }
    rows.emplace_back("-h, --help", "show this help and exit");
    std::size_t width = 0;
    for (const auto& r : rows) width = std::max(width, r.first.size());
    width = std::min<std::size_t>(width, 34);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i == 0 && npos > 0) out += "\narguments:\n";
        if (i == npos) out += "\noptions:\n";
        const auto& [left, right] = rows[i];
        out += "  " + left;
        if (left.size() > width)
            out += "\n  " + std::string(width, ' ');
        else
            out += std::string(width - left.size(), ' ');
        out += "  " + right + "\n";
    }
    if (!spec.epilog.empty()) out += "\n" + spec.epilog + "\n";
    return out;
}

}  // namespace mlwm::cli

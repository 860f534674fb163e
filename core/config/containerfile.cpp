#include "config/containerfile.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace mlwm::config {
namespace {

struct Instruction {
    int line = 0;  // where it starts
    std::string keyword;
    std::string args;
};

std::string upper(std::string s) {
    std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (const char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

// Lines joined at a trailing backslash; comment lines (also inside a
// continued instruction, as the builder skips them) and blank lines dropped.
std::vector<Instruction> instructions(std::string_view text) {
    std::vector<Instruction> out;
    bool continuing = false;
    int n = 0;
    while (!text.empty() || continuing) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++n;
        const std::string_view t = trim(line);
        if (t.starts_with('#') || (t.empty() && !continuing)) {
            if (text.empty() && eol == std::string_view::npos) break;
            continue;
        }
        const bool more = t.ends_with('\\');
        const std::string_view body = more ? t.substr(0, t.size() - 1) : t;
        if (continuing) {
            out.back().args.append(" ").append(trim(body));
        } else {
            const std::size_t sp = body.find_first_of(" \t");
            out.push_back({n, upper(std::string(body.substr(0, sp))),
                           sp == std::string_view::npos ? "" : std::string(trim(body.substr(sp)))});
        }
        continuing = more;
        if (text.empty() && eol == std::string_view::npos) break;
    }
    return out;
}

// the names a FROM line's image uses: $NAME and ${NAME} (with ${NAME:-x} forms)
std::vector<std::string> variables(std::string_view s) {
    std::vector<std::string> out;
    for (std::size_t i = s.find('$'); i != std::string_view::npos; i = s.find('$', i + 1)) {
        std::size_t b = i + 1;
        const bool braced = b < s.size() && s[b] == '{';
        if (braced) ++b;
        std::size_t e = b;
        while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_')) ++e;
        if (e > b) out.emplace_back(s.substr(b, e - b));
    }
    return out;
}

// the names an ENV or ARG instruction sets
std::vector<std::string> assigned(const Instruction& in) {
    std::vector<std::string> out;
    const auto w = words(in.args);
    if (w.empty()) return out;
    if (in.keyword == "ENV" && w.front().find('=') == std::string::npos) return {w.front()};
    for (const auto& x : w)
        if (const auto eq = x.find('='); eq != 0) out.push_back(x.substr(0, eq));
    return out;
}

constexpr std::array kKnown = {"ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
                               "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
                               "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};
constexpr std::array kCredentials = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                     "AWS_SESSION_TOKEN"};

}  // namespace

ContainerfileCheck check_containerfile(std::string_view text, const std::string& file,
                                       bool has_artifact,
                                       const std::map<std::string, std::string>& build_args) {
    ContainerfileCheck c;
    const auto problem = [&](int line, std::string key, std::string msg) {
        c.problems.push_back({file, line, 1, std::move(key), std::move(msg)});
    };
    std::map<std::string, bool> global_args;  // ARGs before the first FROM: name -> has a default
    bool from_seen = false;
    for (const auto& in : instructions(text)) {
        if (std::ranges::find(kKnown, in.keyword) == kKnown.end()) {
            problem(in.line, in.keyword,
                    "unknown instruction (expected FROM, RUN, COPY, ADD, ARG, ENV, ENTRYPOINT, "
                    "CMD, LABEL, WORKDIR, USER, ...)");
            continue;
        }
        if (in.keyword == "ARG" && !from_seen) {
            for (const auto& w : words(in.args))
                global_args[w.substr(0, w.find('='))] = w.find('=') != std::string::npos;
            continue;
        }
        if (in.keyword != "FROM" && !from_seen) {
            problem(in.line, in.keyword, "comes before FROM (only ARG may)");
            continue;
        }
        if (in.keyword == "FROM") {
            from_seen = true;
            std::string image;
            for (const auto& w : words(in.args))
                if (!w.starts_with("--")) {
                    image = w;
                    break;
                }
            if (image.empty()) problem(in.line, "FROM", "names no base image");
            for (const auto& v : variables(image)) {
                const auto it = global_args.find(v);
                if (it == global_args.end())
                    problem(in.line, "FROM",
                            image + ": $" + v + " is not declared by an ARG before FROM");
                else if (!it->second && !build_args.contains(v))
                    problem(in.line, "FROM",
                            image + ": ARG " + v +
                                " has no default and config.yaml's build_args does not set it");
            }
        }
        if ((in.keyword == "COPY" || in.keyword == "ADD") && !has_artifact) {
            auto w = words(in.args);
            std::erase_if(w, [](const std::string& x) { return x.starts_with("--"); });
            const bool from_stage = in.args.find("--from") != std::string::npos;
            for (std::size_t i = 0; !from_stage && i + 1 < w.size(); ++i) {
                std::string src = w[i];
                std::erase_if(src, [](char ch) { return ch == '[' || ch == '"' || ch == ','; });
                if (src.starts_with("./")) src.erase(0, 2);
                if (src == "artifact" || src.starts_with("artifact/"))
                    problem(in.line, in.keyword,
                            "copies " + src +
                                ", which mlwm build-image fills from the inference artifact, but "
                                "config.yaml sets no inference_artifact");
            }
        }
        if (in.keyword == "ENV" || in.keyword == "ARG")
            for (const auto& name : assigned(in))
                if (std::ranges::find(kCredentials, name) != kCredentials.end())
                    c.warnings.push_back(
                        {file, in.line, 1, in.keyword,
                         in.keyword + " " + name +
                             " bakes S3 credentials into the image (whoever can pull it can read "
                             "them); with s3_credentials: pass mlwm hands them to the container "
                             "at run time"});
    }
    if (!from_seen) problem(0, "FROM", "no FROM instruction: nothing to build on");
    return c;
}

}  // namespace mlwm::config

// Reading YAML with checks: every value is read through a Reader that knows
// its key path and position, and records an issue (instead of throwing) when
// it is not what was expected. Unknown keys are issues too.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/issues.hpp"
#include "paths/pnumber.hpp"

namespace mlwm::config {

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    // Parses the text; a syntax error is recorded and yields a null node.
    YAML::Node parse(const std::string& text);

    void issue(const YAML::Node& at, const std::string& path, const std::string& message);
    const std::vector<ConfigIssue>& issues() const { return issues_; }
    // Throws ConfigError if any issue was recorded.
    void throw_if_any() const;

    // A mapping (or null/absent when !required); records unknown and
    // duplicated keys against `allowed`.
    bool map(const YAML::Node& n, const std::string& path,
             std::initializer_list<std::string_view> allowed, bool required = true);
    std::optional<std::string> string(const YAML::Node& parent, const std::string& key,
                                      const std::string& path, bool required);
    // A number as YAML writes it: 35 is an integer, 35.0 (or 3.5e1) a float.
    std::optional<paths::PNumber> number(const YAML::Node& parent, const std::string& key,
                                         const std::string& path);
    std::optional<std::int64_t> integer(const YAML::Node& parent, const std::string& key,
                                        const std::string& path, std::int64_t min,
                                        std::int64_t max);
    std::optional<bool> boolean(const YAML::Node& parent, const std::string& key,
                                const std::string& path);
    // An ISO 8601 duration (PT18H, P2D, PT1H30M) or a number of seconds.
    std::optional<std::chrono::seconds> duration(const YAML::Node& parent, const std::string& key,
                                                 const std::string& path);
    // A size: bytes, or a number with k, m, g, t (binary: 1g = 1024^3), e.g. 16g, 512MiB.
    std::optional<std::int64_t> size(const YAML::Node& parent, const std::string& key,
                                     const std::string& path);
    // A mapping of strings to strings (env, build_args).
    std::map<std::string, std::string> string_map(const YAML::Node& parent, const std::string& key,
                                                  const std::string& path);
    std::vector<std::string> string_list(const YAML::Node& parent, const std::string& key,
                                         const std::string& path);

    const std::string& file() const { return file_; }

private:
    std::string file_;
    std::vector<ConfigIssue> issues_;
};

// "PT18H" -> 64800 s; throws std::invalid_argument naming the text.
std::chrono::seconds parse_iso_duration(std::string_view text);
// Back to text, e.g. 64800 s -> "PT18H", 90000 s -> "P1DT1H".
std::string format_iso_duration(std::chrono::seconds s);
// "16g" -> 17179869184; throws std::invalid_argument.
std::int64_t parse_size(std::string_view text);
// A YAML number scalar: integers stay integers; floats as YAML/Python read
// them (1e3 is 1000.0); throws std::invalid_argument (also for values a key
// cannot hold).
paths::PNumber parse_yaml_number(std::string_view text);

}  // namespace mlwm::config

#include "config/yaml_reader.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>
#include <set>

namespace mlwm::config {
namespace {

std::string join_keys(std::initializer_list<std::string_view> keys) {
    std::string s;
    for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
    return s;
}

std::string child_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

bool is_quoted(const YAML::Node& n) {
    return n.Tag() == "!";
}

}  // namespace

YAML::Node Reader::parse(const std::string& text) {
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        issues_.push_back(
            {file_, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg});
    }
    return YAML::Node();
}

void Reader::issue(const YAML::Node& at, const std::string& path, const std::string& message) {
    int line = 0, column = 0;
    if (at.IsDefined() && at.Mark().line >= 0) {
        line = at.Mark().line + 1;
        column = at.Mark().column + 1;
    }
    issues_.push_back({file_, line, column, path, message});
}

void Reader::throw_if_any() const {
    if (!issues_.empty()) throw ConfigError(issues_);
}

bool Reader::map(const YAML::Node& n, const std::string& path,
                 std::initializer_list<std::string_view> allowed, bool required) {
    if (!n.IsDefined() || n.IsNull()) {
        if (required) issue(n, path, "missing; expected a mapping with keys " + join_keys(allowed));
        return false;
    }
    if (!n.IsMap()) {
        issue(n, path, "expected a mapping with keys " + join_keys(allowed));
        return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>("");
        if (!seen.insert(key).second) issue(kv.first, child_path(path, key), "key given twice");
        bool known = allowed.size() == 0;
        for (auto a : allowed) known = known || key == a;
        if (!known)
            issue(kv.first, child_path(path, key),
                  "unknown key (expected one of " + join_keys(allowed) + ")");
    }
    return true;
}

std::optional<std::string> Reader::string(const YAML::Node& parent, const std::string& key,
                                          const std::string& path, bool required) {
    const YAML::Node n = parent[key];
    const std::string p = child_path(path, key);
    if (!n.IsDefined() || n.IsNull()) {
        if (required) issue(parent, p, "missing (a string is required)");
        return std::nullopt;
    }
    if (!n.IsScalar()) {
        issue(n, p, "expected a string");
        return std::nullopt;
    }
    return n.Scalar();
}

std::optional<paths::PNumber> Reader::number(const YAML::Node& parent, const std::string& key,
                                             const std::string& path) {
    const YAML::Node n = parent[key];
    const std::string p = child_path(path, key);
    if (!n.IsDefined() || n.IsNull()) {
        issue(parent, p, "missing (a number is required)");
        return std::nullopt;
    }
    if (!n.IsScalar() || is_quoted(n)) {
        issue(n, p,
              "expected a number such as -10.0 or 2.5, not " +
                  std::string(n.IsScalar() ? "a quoted string" : "a collection"));
        return std::nullopt;
    }
    try {
        return parse_yaml_number(n.Scalar());
    } catch (const std::invalid_argument& e) {
        issue(n, p, e.what());
    }
    return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(const YAML::Node& parent, const std::string& key,
                                            const std::string& path, std::int64_t min,
                                            std::int64_t max) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    const std::string p = child_path(path, key);
    std::int64_t v = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!n.IsScalar() || is_quoted(n) || s.empty() || ec != std::errc{} ||
        ptr != s.data() + s.size() || v < min || v > max) {
        issue(n, p,
              "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return v;
}

std::optional<bool> Reader::boolean(const YAML::Node& parent, const std::string& key,
                                    const std::string& path) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "true") return true;
    if (s == "false") return false;
    issue(n, child_path(path, key), "expected true or false");
    return std::nullopt;
}

std::optional<std::chrono::seconds> Reader::duration(const YAML::Node& parent,
                                                     const std::string& key,
                                                     const std::string& path) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    const std::string p = child_path(path, key);
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    try {
        if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            }))
            return std::chrono::seconds(std::stoll(s));
        return parse_iso_duration(s);
    } catch (const std::exception& e) {
        issue(n, p, std::string(e.what()));
    }
    return std::nullopt;
}

std::optional<std::int64_t> Reader::size(const YAML::Node& parent, const std::string& key,
                                         const std::string& path) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    try {
        return parse_size(n.IsScalar() ? n.Scalar() : "");
    } catch (const std::invalid_argument& e) {
        issue(n, child_path(path, key), e.what());
    }
    return std::nullopt;
}

std::map<std::string, std::string> Reader::string_map(const YAML::Node& parent,
                                                      const std::string& key,
                                                      const std::string& path) {
    std::map<std::string, std::string> out;
    const YAML::Node n = parent[key];
    const std::string p = child_path(path, key);
    if (!map(n, p, {}, false)) return out;
    for (const auto& kv : n) {
        const std::string k = kv.first.as<std::string>("");
        if (!kv.second.IsScalar()) {
            issue(kv.second, child_path(p, k), "expected a string value");
            continue;
        }
        out[k] = kv.second.Scalar();
    }
    return out;
}

std::vector<std::string> Reader::string_list(const YAML::Node& parent, const std::string& key,
                                             const std::string& path) {
    std::vector<std::string> out;
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return out;
    if (!n.IsSequence()) {
        issue(n, child_path(path, key), "expected a list of strings");
        return out;
    }
    for (const auto& item : n) {
        if (!item.IsScalar()) {
            issue(item, child_path(path, key), "expected a list of strings");
            continue;
        }
        out.push_back(item.Scalar());
    }
    return out;
}

std::chrono::seconds parse_iso_duration(std::string_view text) {
    static const std::regex re(R"(P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)");
    std::cmatch m;
    const std::string s(text);
    if (s.empty() || s == "P" || s.back() == 'T' || !std::regex_match(s.c_str(), m, re))
        throw std::invalid_argument("'" + s +
                                    "' is not an ISO 8601 duration such as PT18H, P2D or PT1H30M");
    auto part = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
    return std::chrono::seconds(part(1) * 604800 + part(2) * 86400 + part(3) * 3600 + part(4) * 60 +
                                part(5));
}

std::string format_iso_duration(std::chrono::seconds s) {
    long long v = s.count();
    std::string out = "P";
    if (v >= 86400) {
        out += std::to_string(v / 86400) + "D";
        v %= 86400;
    }
    if (v > 0 || out == "P") {
        out += "T";
        if (v >= 3600) out += std::to_string(v / 3600) + "H";
        v %= 3600;
        if (v >= 60) out += std::to_string(v / 60) + "M";
        v %= 60;
        if (v > 0 || out.back() == 'T') out += std::to_string(v) + "S";
    }
    return out;
}

std::int64_t parse_size(std::string_view text) {
    static const std::regex re(R"(\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*)");
    std::cmatch m;
    const std::string s(text);
    if (!std::regex_match(s.c_str(), m, re))
        throw std::invalid_argument(
            "'" + s +
            "' is not a size such as 512m, 16g or 1073741824 (k, m, g, t are powers of 1024)");
    const double value = std::stod(m[1].str());
    int shift = 0;
    switch (std::tolower(static_cast<unsigned char>(m[2].str().empty() ? ' ' : m[2].str()[0]))) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 't': shift = 40; break;
        default: break;
    }
    return static_cast<std::int64_t>(std::llround(std::ldexp(value, shift)));
}

paths::PNumber parse_yaml_number(std::string_view text) {
    static const std::regex int_re(R"([-+]?[0-9]+)");
    static const std::regex float_re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
    const std::string s(text);
    if (std::regex_match(s, int_re)) {
        std::int64_t v = 0;
        const char* b = s.data() + (s.front() == '+' ? 1 : 0);
        auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
        if (ec != std::errc{})
            throw std::invalid_argument("'" + s + "' is out of the range of a 64-bit integer");
        return paths::PNumber::integer(v);
    }
    if (std::regex_match(s, float_re)) {
        const double v = std::strtod(s.c_str(), nullptr);
        try {
            return paths::PNumber::floating(v);
        } catch (const std::exception& e) {
            throw std::invalid_argument(e.what());
        }
    }
    throw std::invalid_argument("'" + s + "' is not a number (expected e.g. -10.0, 2.5 or 12)");
}

}  // namespace mlwm::config

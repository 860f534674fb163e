#include "util/dotenv.hpp"

#include <sstream>

namespace mlwm::util {
namespace {
std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t\r");
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}
}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        if (line.starts_with("export ")) line = trim(line.substr(7));
        const auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0) continue;  // not an assignment
        const std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        if (!value.empty() && (value.front() == '\'' || value.front() == '"')) {
            const char q = value.front();
            std::string v;
            std::size_t i = 1;
            for (; i < value.size() && value[i] != q; ++i) {
                if (q == '"' && value[i] == '\\' && i + 1 < value.size()) {
                    const char n = value[++i];
                    v += n == 'n' ? '\n' : n == 't' ? '\t' : n;
                } else {
                    v += value[i];
                }
            }
            value = v;
        } else if (const auto hash = value.find(" #"); hash != std::string::npos) {
            value = trim(value.substr(0, hash));
        }
        out[key] = value;
    }
    return out;
}

}  // namespace mlwm::util

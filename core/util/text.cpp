#include "util/text.hpp"

#include <fstream>
#include <sstream>

namespace mlwm::util {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    for (;;) {
        const auto at = text.find(sep);
        out.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) return out;
        text.remove_prefix(at + 1);
    }
}

std::string join(const std::vector<std::string>& fields, std::string_view sep) {
    std::string out;
    for (const auto& f : fields) {
        if (&f != &fields.front()) out += sep;
        out += f;
    }
    return out;
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace mlwm::util

#include "util/text.hpp"

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

}  // namespace mlwm::util

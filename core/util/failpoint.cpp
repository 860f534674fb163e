#include "util/failpoint.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace mlwm::util {

bool failpoint_listed(std::string_view list, std::string_view name) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (list.substr(0, comma) == name) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

void failpoint(std::string_view name) {
    static const char* const list = std::getenv("MLWM_FAILPOINTS");
    if (list == nullptr || !failpoint_listed(list, name)) return;
    std::fprintf(stderr, "mlwm: failpoint %.*s reached: SIGKILL\n", static_cast<int>(name.size()),
                 name.data());
    std::fflush(stderr);
    std::raise(SIGKILL);
}

}  // namespace mlwm::util

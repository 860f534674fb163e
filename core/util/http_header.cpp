#include "util/http_header.hpp"

#include <cctype>
#include <cstdlib>

namespace mlwm::util {

HeaderLine parse_header_line(std::string_view line) {
    HeaderLine h;
    if (line.starts_with("HTTP/")) {
        h.kind = HeaderLine::Kind::status;
        const auto sp = line.find(' ');
        if (sp != std::string_view::npos) h.status = std::strtol(line.data() + sp + 1, nullptr, 10);
        return h;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) {
        h.kind = HeaderLine::Kind::end;
        return h;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return h;
    h.kind = HeaderLine::Kind::field;
    for (char c : line.substr(0, colon))
        h.name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    h.value = std::string(v);
    return h;
}

}  // namespace mlwm::util

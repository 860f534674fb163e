// One line of an HTTP response head, as libcurl's header callback hands it
// over (status line, "Name: value" field, or the blank line that ends the
// head). Shared by the Docker and S3 clients. Pure.
#pragma once

#include <string>
#include <string_view>

namespace mlwm::util {

struct HeaderLine {
    enum class Kind { status, field, end, other } kind = Kind::other;
    long status = 0;    // Kind::status: e.g. 200 (a 1xx head is followed by another)
    std::string name;   // Kind::field: lower-cased
    std::string value;  // Kind::field: without surrounding blanks and the line end
};

HeaderLine parse_header_line(std::string_view line);

}  // namespace mlwm::util

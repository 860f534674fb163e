// libFuzzer target for the key-layout parsers. For every input that parses,
// writing it back and parsing again must give the same value, and the written
// form must be a fixed point: parse(create(parse(k))) == parse(k) and
// create(parse(create(parse(k)))) == create(parse(k)). Non-canonical inputs
// such as `64p40` parse and are written back canonically.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "paths/error.hpp"
#include "paths/json.hpp"
#include "paths/key.hpp"

using namespace mlwm::paths;

namespace {

[[noreturn]] void violated(const char* what, std::string_view input) {
    std::fprintf(stderr, "round-trip violated (%s) for input '%.*s'\n", what,
                 static_cast<int>(input.size()), input.data());
    std::abort();
}

template <class Parse, class Format>
void round_trip(std::string_view input, Parse parse, Format format, const char* what) {
    decltype(parse(input)) first;
    try {
        first = parse(input);
    } catch (const PathError&) {
        return;  // refused: fine, as long as it is a PathError
    }
    std::string text;
    try {
        text = format(first);
    } catch (const PathError&) {
        violated(what, input);  // parsed but cannot be written back
    }
    const auto second = parse(text);
    if (!(second == first)) violated(what, input);
    if (format(second) != text) violated(what, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 6) {
        case 0:
            round_trip(
                input, [](std::string_view s) { return parse_location(s); },
                [](const DatasetLocation& l) {
                    (void)to_json(l).dump();
                    (void)to_text(l);
                    return (l.bucket ? "s3://" + *l.bucket + "/" : std::string()) +
                           create_path(l.key);
                },
                "location");
            break;
        case 1:
            round_trip(
                input, [](std::string_view s) { return parse_pnumber(s); },
                [](const PNumber& n) { return format_pnumber(n); }, "pnumber");
            break;
        case 2:
            round_trip(
                input, [](std::string_view s) { return parse_resolution(s); },
                [](const Resolution& r) { return format_resolution(r); }, "resolution");
            break;
        case 3:
            round_trip(
                input, [](std::string_view s) { return parse_bbox(s); },
                [](const BBox& b) { return format_bbox(b); }, "bbox");
            break;
        case 4:
            round_trip(
                input, [](std::string_view s) { return parse_iso8601_time(s); },
                [](const AnalysisTime& t) { return format_analysis_time(t); }, "iso8601");
            round_trip(
                input, [](std::string_view s) { return parse_analysis_time(s); },
                [](const AnalysisTime& t) { return format_analysis_time(t); }, "time");
            break;
        default:
            round_trip(
                input, [](std::string_view s) { return parse_decimal(s); },
                [](const PNumber& n) {
                    return n.is_integer() ? std::to_string(n.as_integer())
                                          : shortest_decimal(n.as_double());
                },
                "decimal");
            break;
    }
    return 0;
}

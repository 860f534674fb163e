#include "paths/key.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "paths/error.hpp"

namespace mlwm::paths {
namespace {

constexpr std::string_view kLayout =
    "<model_name>/<model_config>/<bbox>/<resolution>/<YYYY-MM-DDThhmmZ>/member<N>/"
    "<data_kind>.zarr";
constexpr std::string_view kBBoxForm =
    "w<lon_min>_s<lat_min>_e<lon_max>_n<lat_max>, "
    "e.g. w-10p5_s35p0_e10p5_n45p0";
constexpr std::string_view kResolutionForm =
    "dx<lon_resolution><unit>_dy<lat_resolution><unit> with unit m, km or deg, e.g. "
    "dx2p5km_dy2p5km";

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

// The length of the UTF-8 sequence at s[i] (0: not valid UTF-8 there):
// shortest forms only, no surrogates, at most U+10FFFF.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
        if (c == 0xED && b(1) >= 0xA0) return 0;  // a surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
        if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7F;
}

// Quoted for a message: control characters and bytes that are not UTF-8 as \xNN,
// so that the message itself is valid UTF-8 (for JSON logs and output).
std::string q(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "'";
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_length(s, i);
        const auto c = static_cast<unsigned char>(s[i]);
        if (n == 0 || is_control(c)) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
            ++i;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    return out + "'";
}

// Runs `parse`, prefixing any PathError with `context`.
template <class F>
auto in_context(const std::string& context, F&& parse) {
    try {
        return parse();
    } catch (const PathError& e) {
        throw PathError(context + ": " + e.what());
    }
}

void check_positive(const PNumber& n, std::string_view what) {
    if (!(n.as_double() > 0))
        throw PathError(std::string(what) + ": " + format_pnumber(n) + " must be positive");
}

}  // namespace

std::string_view unit_name(Unit unit) {
    switch (unit) {
        case Unit::m: return "m";
        case Unit::km: return "km";
        case Unit::deg: return "deg";
    }
    return "?";
}

Unit parse_unit(std::string_view text) {
    for (Unit u : {Unit::m, Unit::km, Unit::deg})
        if (text == unit_name(u)) return u;
    throw PathError("unit " + q(text) + " is not one of m, km, deg");
}

std::string format_bbox(const BBox& b) {
    return "w" + format_pnumber(b.lon_min) + "_s" + format_pnumber(b.lat_min) + "_e" +
           format_pnumber(b.lon_max) + "_n" + format_pnumber(b.lat_max);
}

BBox parse_bbox(std::string_view segment) {
    const auto parts = split(segment, '_');
    auto fail = [&](const std::string& why) -> BBox {
        throw PathError("bbox " + q(segment) + ": " + why + " (expected " + std::string(kBBoxForm) +
                        ")");
    };
    if (parts.size() != 4)
        return fail("has " + std::to_string(parts.size()) + " '_'-separated parts, not 4");
    static constexpr std::array<std::pair<char, std::string_view>, 4> fields{
        {{'w', "lon_min"}, {'s', "lat_min"}, {'e', "lon_max"}, {'n', "lat_max"}}};
    std::array<PNumber, 4> v;
    for (std::size_t i = 0; i < 4; ++i) {
        const auto [prefix, name] = fields[i];
        if (parts[i].empty() || parts[i].front() != prefix)
            return fail(std::string("part ") + std::to_string(i + 1) + " must start with '" +
                        prefix + "'");
        try {
            v[i] = parse_pnumber(parts[i].substr(1), name);
        } catch (const PathError& e) {
            return fail(e.what());
        }
    }
    return {v[0], v[1], v[2], v[3]};
}

std::string format_resolution(const Resolution& r) {
    check_positive(r.lon_resolution, "lon_resolution");
    check_positive(r.lat_resolution, "lat_resolution");
    const auto unit = unit_name(r.unit);
    return "dx" + format_pnumber(r.lon_resolution) + std::string(unit) + "_dy" +
           format_pnumber(r.lat_resolution) + std::string(unit);
}

Resolution parse_resolution(std::string_view segment) {
    auto fail = [&](const std::string& why) -> Resolution {
        throw PathError("resolution " + q(segment) + ": " + why + " (expected " +
                        std::string(kResolutionForm) + ")");
    };
    const auto parts = split(segment, '_');
    if (parts.size() != 2)
        return fail("has " + std::to_string(parts.size()) + " '_'-separated parts, not 2");
    struct Part {
        PNumber number;
        Unit unit;
    };
    // The number is everything up to the last character a p-number can hold
    // (digits, 'p', '-'); the unit is the rest. Units never contain those
    // characters, so "2p5km" splits into "2p5" and "km" whatever the digits.
    auto parse_part = [&](std::string_view part, std::string_view prefix,
                          std::string_view name) -> Part {
        if (!part.starts_with(prefix))
            fail("part " + q(part) + " must start with '" + std::string(prefix) + "'");
        part.remove_prefix(prefix.size());
        const auto last = part.find_last_of("0123456789p-");
        if (last == std::string_view::npos) fail("part " + q(part) + " has no number");
        try {
            Part p{parse_pnumber(part.substr(0, last + 1), name),
                   parse_unit(part.substr(last + 1))};
            check_positive(p.number, name);
            return p;
        } catch (const PathError& e) {
            fail(e.what());
        }
        return {};
    };
    const Part dx = parse_part(parts[0], "dx", "lon_resolution");
    const Part dy = parse_part(parts[1], "dy", "lat_resolution");
    if (dx.unit != dy.unit)
        return fail("dx is in " + std::string(unit_name(dx.unit)) + " but dy in " +
                    std::string(unit_name(dy.unit)) + "; both must use the same unit");
    return {dx.number, dy.number, dx.unit};
}

std::string format_member(Member member) {
    return "member" + std::to_string(member);
}

Member parse_member(std::string_view segment) {
    auto fail = [&](std::string_view why) -> Member {
        throw PathError("member " + q(segment) + ": " + std::string(why) +
                        " (expected member<N>, N a non-negative integer without leading "
                        "zeros, e.g. member0)");
    };
    if (!segment.starts_with("member")) return fail("does not start with 'member'");
    const auto digits = segment.substr(6);
    if (digits.empty()) return fail("has no number");
    for (char c : digits)
        if (c < '0' || c > '9') return fail("the number must be digits only");
    if (digits.size() > 1 && digits.front() == '0') return fail("has a leading zero");
    Member m = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), m);
    if (ec != std::errc{} || p != digits.data() + digits.size())
        return fail("the number is out of range");
    return m;
}

// Like the original, a name is whatever fits in one key segment: any UTF-8
// text but '/' and control characters ("FakeDINI+FakeIFS", "DINI_v2 test"),
// and not "." or ".." (which a local path would take for a folder).
void check_name(std::string_view text, std::string_view what) {
    auto fail = [&](std::string_view why) {
        throw PathError(std::string(what) + " " + q(text) + ": " + std::string(why) +
                        " (expected UTF-8 text without '/' or control characters, not '.' or "
                        "'..')");
    };
    if (text.empty()) fail("is empty");
    if (text == "." || text == "..") fail("is a relative folder name");
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = utf8_length(text, i);
        if (n == 0) fail("is not valid UTF-8");
        if (text[i] == '/') fail("contains '/'");
        if (is_control(static_cast<unsigned char>(text[i]))) fail("contains a control character");
        i += n;
    }
}

std::string create_path(const DatasetKey& k) {
    check_name(k.model_name, "model_name");
    check_name(k.model_config, "model_config");
    check_name(k.data_kind, "data_kind");
    return k.model_name + "/" + k.model_config + "/" + format_bbox(k.bbox) + "/" +
           format_resolution(k.resolution) + "/" + format_analysis_time(k.analysis_time) + "/" +
           format_member(k.member) + "/" + k.data_kind + ".zarr";
}

DatasetKey parse_path(std::string_view key) {
    const auto seg = split(key, '/');
    if (seg.size() != 7)
        throw PathError("key " + q(key) + ": has " + std::to_string(seg.size()) +
                        " '/'-separated segments, expected 7: " + std::string(kLayout));
    const std::string ctx = "key " + q(key) + ": segment ";
    DatasetKey k;
    k.model_name = std::string(seg[0]);
    in_context(ctx + "1 (model_name)", [&] { check_name(seg[0], "model_name"); });
    k.model_config = std::string(seg[1]);
    in_context(ctx + "2 (model_config)", [&] { check_name(seg[1], "model_config"); });
    k.bbox = in_context(ctx + "3 (bbox)", [&] { return parse_bbox(seg[2]); });
    k.resolution = in_context(ctx + "4 (resolution)", [&] { return parse_resolution(seg[3]); });
    k.analysis_time =
        in_context(ctx + "5 (analysis time)", [&] { return parse_analysis_time(seg[4]); });
    k.member = in_context(ctx + "6 (member)", [&] { return parse_member(seg[5]); });
    const std::string_view last = seg[6];
    if (!last.ends_with(".zarr"))
        throw PathError(ctx + "7 (data kind) " + q(last) + ": expected <data_kind>.zarr");
    const auto kind = last.substr(0, last.size() - 5);
    in_context(ctx + "7 (data kind)", [&] { check_name(kind, "data_kind"); });
    k.data_kind = std::string(kind);
    return k;
}

void check_bucket_name(std::string_view b) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = b.size() >= 3 && b.size() <= 63 && alnum(b.front()) && alnum(b.back());
    for (char c : b) ok = ok && (alnum(c) || c == '.' || c == '-');
    if (!ok)
        throw PathError("bucket " + q(b) +
                        ": expected 3-63 characters of a-z, 0-9, '.' and '-', starting and "
                        "ending with a letter or digit");
}

DatasetLocation parse_location(std::string_view text) {
    constexpr std::string_view scheme = "s3://";
    if (!text.starts_with(scheme)) return {std::nullopt, parse_path(text)};
    const auto rest = text.substr(scheme.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos)
        throw PathError("location " + q(text) + ": expected s3://BUCKET/" + std::string(kLayout));
    const auto bucket = rest.substr(0, slash);
    check_bucket_name(bucket);
    return {std::string(bucket), parse_path(rest.substr(slash + 1))};
}

}  // namespace mlwm::paths

#include "paths/pnumber.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include "paths/error.hpp"

namespace mlwm::paths {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// Python's repr switches to exponent notation when the decimal exponent of the
// shortest digits is below -4 or at least 16 (float_repr_style 'short', 'r').
constexpr int kMinExponent = -4;
constexpr int kMaxExponent = 15;

}  // namespace

PNumber PNumber::integer(std::int64_t value) {
    return PNumber(value);
}

PNumber PNumber::floating(double value) {
    (void)shortest_decimal(value);  // refuses inf, nan and exponent forms
    return PNumber(value);
}

double PNumber::as_double() const {
    if (is_integer()) return static_cast<double>(as_integer());
    return std::get<double>(value_);
}

std::string shortest_decimal(double value, std::string_view what) {
    if (std::isnan(value)) throw PathError(std::string(what) + ": NaN cannot be written in a key");
    if (std::isinf(value))
        throw PathError(std::string(what) + ": an infinite value cannot be written in a key");

    // Shortest round-trip digits, in scientific form: [-]d[.ddd]e(+|-)XX
    std::array<char, 64> buf{};
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
    if (ec != std::errc{}) throw PathError(std::string(what) + ": cannot format value");
    std::string_view sci(buf.data(), static_cast<std::size_t>(end - buf.data()));

    std::string out;
    if (sci.front() == '-') {
        out.push_back('-');
        sci.remove_prefix(1);
    }
    const auto epos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, epos))
        if (c != '.') digits.push_back(c);
    int exponent = 0;
    std::string_view exp_text = sci.substr(epos + 1);
    if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);

    if (exponent < kMinExponent || exponent > kMaxExponent) {
        throw PathError(std::string(what) + ": " + std::string(buf.data(), end) +
                        " would need an exponent; only values written in plain decimal "
                        "notation (1e-4 <= |x| < 1e16, or 0) can appear in a key");
    }
    const int n = static_cast<int>(digits.size());
    const int point = exponent + 1;  // digits before the decimal point
    if (point <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-point), '0');
        out += digits;
    } else if (point >= n) {
        out += digits;
        out.append(static_cast<std::size_t>(point - n), '0');
        out += ".0";
    } else {
        out += digits.substr(0, static_cast<std::size_t>(point));
        out += '.';
        out += digits.substr(static_cast<std::size_t>(point));
    }
    return out;
}

std::string format_pnumber(const PNumber& number) {
    if (number.is_integer()) return std::to_string(number.as_integer());
    std::string text = shortest_decimal(number.as_double());
    text[text.find('.')] = 'p';
    return text;
}

namespace {

// Shared by parse_pnumber and parse_decimal: `point` is the character that
// separates integer and fractional digits ('p' in keys, '.' on command lines).
PNumber parse_number(std::string_view text, std::string_view what, char point,
                     std::string_view form) {
    auto fail = [&](std::string_view why) -> PNumber {
        throw PathError(std::string(what) + ": " + quoted(text) + " " + std::string(why) +
                        " (expected " + std::string(form) + ")");
    };
    std::string_view body = text;
    const bool negative = !body.empty() && body.front() == '-';
    if (negative) body.remove_prefix(1);
    const auto pos = body.find(point);
    const std::string_view int_part = body.substr(0, pos);
    const std::string_view frac_part =
        pos == std::string_view::npos ? std::string_view{} : body.substr(pos + 1);
    if (text.empty()) return fail("is empty");
    if (!all_digits(int_part) || (pos != std::string_view::npos && !all_digits(frac_part))) {
        if (text.find_first_of("eE") != std::string_view::npos && point == '.')
            return fail("uses an exponent, which a key cannot hold");
        return fail("is not a number");
    }

    if (pos == std::string_view::npos) {
        std::int64_t value = 0;
        const std::string digits = (negative ? "-" : "") + std::string(int_part);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc{} || p != digits.data() + digits.size())
            return fail("is out of the range of a 64-bit integer");
        return PNumber::integer(value);
    }

    const std::string decimal =
        (negative ? "-" : "") + std::string(int_part) + "." + std::string(frac_part);
    double value = 0;
    auto [p, ec] = std::from_chars(decimal.data(), decimal.data() + decimal.size(), value);
    if (ec != std::errc{} || p != decimal.data() + decimal.size() || !std::isfinite(value))
        return fail("is out of the range of a double");
    return PNumber::floating(value);  // refuses values that need an exponent
}

}  // namespace

PNumber parse_pnumber(std::string_view text, std::string_view what) {
    return parse_number(text, what, 'p',
                        "digits with an optional minus sign and 'p' as the "
                        "decimal point, e.g. 12, 64p4, -10p5");
}

PNumber parse_decimal(std::string_view text, std::string_view what) {
    return parse_number(text, what, '.',
                        "a decimal number such as 35, 35.0 or -10.5, without exponent");
}

}  // namespace mlwm::paths

// "p-numbers": numbers in keys, with the decimal point written as `p`.
//
//   0.1 -> 0p1    64.40 -> 64p4    12.0 -> 12p0    -10.5 -> -10p5    789 -> 789
//
// A floating-point value is written in the shortest form that reads back to the
// same double (Python's repr); an integer is written without `p`. Parsing keeps
// that distinction. Values whose shortest form needs an exponent (Python writes
// 1e-05, 1e+16), infinities and NaN cannot be written and are refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace mlwm::paths {

class PNumber {
public:
    PNumber() = default;
    // Throws PathError if the value cannot be written without an exponent.
    static PNumber integer(std::int64_t value);
    static PNumber floating(double value);

    bool is_integer() const { return std::holds_alternative<std::int64_t>(value_); }
    std::int64_t as_integer() const { return std::get<std::int64_t>(value_); }
    // The value as a double (integers converted).
    double as_double() const;

    friend bool operator==(const PNumber&, const PNumber&) = default;

private:
    explicit PNumber(std::variant<std::int64_t, double> v) : value_(v) {}
    std::variant<std::int64_t, double> value_{std::int64_t{0}};
};

// Canonical text of a number: `64p4`, `-10p5`, `789`.
std::string format_pnumber(const PNumber& number);

// Parses `[-]DIGITS` (an integer) or `[-]DIGITS p DIGITS` (a float). Accepts
// non-canonical spellings such as `64p40` or `007`; throws PathError naming
// `what` (e.g. "lon_min") for anything else.
PNumber parse_pnumber(std::string_view text, std::string_view what = "number");

// Parses a decimal number as a user writes it on a command line or in YAML:
// `35.0` is a float, `35` an integer, `-10.5` a float. Exponents are refused.
PNumber parse_decimal(std::string_view text, std::string_view what = "number");

// Shortest round-trip decimal text of a finite double in positional notation
// with at least one fractional digit ("12.0", "0.1"), as Python's repr writes
// it; throws PathError if repr would need an exponent.
std::string shortest_decimal(double value, std::string_view what = "number");

}  // namespace mlwm::paths

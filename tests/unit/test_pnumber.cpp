#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "paths/error.hpp"
#include "paths/pnumber.hpp"

using namespace mlwm::paths;

TEST_CASE("floats are written in the shortest form that reads back") {
    CHECK(format_pnumber(PNumber::floating(0.1)) == "0p1");
    CHECK(format_pnumber(PNumber::floating(64.40)) == "64p4");
    CHECK(format_pnumber(PNumber::floating(45.65)) == "45p65");
    CHECK(format_pnumber(PNumber::floating(12.0)) == "12p0");
    CHECK(format_pnumber(PNumber::floating(-10.5)) == "-10p5");
    CHECK(format_pnumber(PNumber::floating(24.52)) == "24p52");
    CHECK(format_pnumber(PNumber::floating(0.25)) == "0p25");
    CHECK(format_pnumber(PNumber::floating(0.0)) == "0p0");
    CHECK(format_pnumber(PNumber::floating(-0.0)) == "-0p0");
    CHECK(format_pnumber(PNumber::floating(2500.0)) == "2500p0");
    CHECK(format_pnumber(PNumber::floating(0.1 + 0.2)) == "0p30000000000000004");
    CHECK(format_pnumber(PNumber::floating(0.0001)) == "0p0001");
    CHECK(format_pnumber(PNumber::floating(1e15)) == "1000000000000000p0");
    CHECK(format_pnumber(PNumber::floating(123456.789)) == "123456p789");
}

TEST_CASE("integers are written without p") {
    CHECK(format_pnumber(PNumber::integer(789)) == "789");
    CHECK(format_pnumber(PNumber::integer(0)) == "0");
    CHECK(format_pnumber(PNumber::integer(-10)) == "-10");
    CHECK(format_pnumber(PNumber::integer(std::numeric_limits<std::int64_t>::min())) ==
          "-9223372036854775808");
}

TEST_CASE("values that would need an exponent, inf and nan are refused") {
    CHECK_THROWS_AS(PNumber::floating(1e-5), PathError);
    CHECK_THROWS_AS(PNumber::floating(1e16), PathError);
    CHECK_THROWS_AS(PNumber::floating(-1e16), PathError);
    CHECK_THROWS_AS(PNumber::floating(0.00009), PathError);
    CHECK_THROWS_AS(PNumber::floating(std::numeric_limits<double>::infinity()), PathError);
    CHECK_THROWS_AS(PNumber::floating(-std::numeric_limits<double>::infinity()), PathError);
    CHECK_THROWS_AS(PNumber::floating(std::nan("")), PathError);
    CHECK_THROWS_WITH_AS(PNumber::floating(1e-5), doctest::Contains("exponent"), PathError);
    CHECK_NOTHROW(PNumber::floating(9999999999999998.0));
}

TEST_CASE("parsing keeps the integer/float distinction") {
    const PNumber i = parse_pnumber("789");
    CHECK(i.is_integer());
    CHECK(i.as_integer() == 789);
    const PNumber f = parse_pnumber("12p0");
    CHECK_FALSE(f.is_integer());
    CHECK(f.as_double() == 12.0);
    CHECK(f != PNumber::integer(12));
    CHECK(parse_pnumber("-10p5") == PNumber::floating(-10.5));
    CHECK(parse_pnumber("45p65") == PNumber::floating(45.65));
    CHECK(parse_pnumber("-7") == PNumber::integer(-7));
}

TEST_CASE("non-canonical numbers parse and are written back canonically") {
    CHECK(format_pnumber(parse_pnumber("64p40")) == "64p4");
    CHECK(format_pnumber(parse_pnumber("007")) == "7");
    CHECK(format_pnumber(parse_pnumber("00p5")) == "0p5");
    CHECK(format_pnumber(parse_pnumber("12p000")) == "12p0");
}

TEST_CASE("malformed numbers are refused with the text and the field named") {
    for (const char* bad : {"", "-", "p", "1p", "p5", "1p2p3", "+1", "1.5", "1e5", "1 ", " 1",
                            "--1", "1-", "0x10", "1P5", "٣"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_pnumber(bad, "lat_min"), PathError);
    }
    CHECK_THROWS_WITH(parse_pnumber("1x", "lat_min"),
                      doctest::Contains("lat_min: '1x' is not a number"));
    CHECK_THROWS_WITH(parse_pnumber("99999999999999999999"), doctest::Contains("64-bit"));
    CHECK_THROWS_WITH(parse_pnumber("0p00001"), doctest::Contains("exponent"));
    CHECK_THROWS_WITH(parse_pnumber("10000000000000000p0"), doctest::Contains("exponent"));
    CHECK_THROWS_AS(parse_pnumber(std::string(400, '9') + "p0"), PathError);
}

TEST_CASE("decimal numbers from the command line") {
    CHECK(parse_decimal("35.0") == PNumber::floating(35.0));
    CHECK(parse_decimal("35") == PNumber::integer(35));
    CHECK(parse_decimal("-10.5") == PNumber::floating(-10.5));
    CHECK_THROWS_WITH(parse_decimal("1e5", "dx"), doctest::Contains("exponent"));
    CHECK_THROWS_AS(parse_decimal("35p0"), PathError);
    CHECK_THROWS_AS(parse_decimal(".5"), PathError);
    CHECK_THROWS_AS(parse_decimal("5."), PathError);
}

TEST_CASE("round trip of many doubles is exact") {
    // Values of the forms found in keys: coordinates and resolutions.
    for (int i = -18000; i <= 18000; i += 7) {
        const double v = i / 100.0;
        const std::string text = format_pnumber(PNumber::floating(v));
        CAPTURE(text);
        const PNumber back = parse_pnumber(text);
        CHECK(back.as_double() == v);
        CHECK_FALSE(back.is_integer());
    }
}

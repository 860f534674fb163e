#include <doctest/doctest.h>

#include "paths/analysis_time.hpp"
#include "paths/error.hpp"

using namespace mlwm::paths;

TEST_CASE("key form round trip") {
    const AnalysisTime t = parse_analysis_time("2023-10-01T1200Z");
    CHECK(t == AnalysisTime::from_fields(2023, 10, 1, 12, 0));
    CHECK(format_analysis_time(t) == "2023-10-01T1200Z");
    CHECK(format_iso8601(t) == "2023-10-01T12:00:00Z");
    CHECK(format_analysis_time(parse_analysis_time("2024-02-29T2359Z")) == "2024-02-29T2359Z");
    CHECK(format_analysis_time(parse_analysis_time("0000-01-01T0000Z")) == "0000-01-01T0000Z");
    CHECK(format_analysis_time(parse_analysis_time("9999-12-31T2359Z")) == "9999-12-31T2359Z");
}

TEST_CASE("key form is strict") {
    for (const char* bad :
         {"2023-10-01T1200z", "2023-10-01t1200Z", "2023-10-01T12:00Z", "2023-10-01T120Z",
          "2023-10-1T1200Z", "2023-13-01T1200Z", "2023-02-29T1200Z", "2023-10-01T2400Z",
          "2023-10-01T1260Z", "2023-10-01T1200Z ", "2023-10-01T1200", "23-10-01T1200Z", "",
          "2023-10-01T120000Z", "2023-00-10T1200Z", "2023-10-00T1200Z", "2023-04-31T1200Z"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_analysis_time(bad), PathError);
    }
    CHECK_THROWS_WITH(parse_analysis_time("2023-02-29T1200Z"),
                      doctest::Contains("not a real calendar date"));
    CHECK_THROWS_WITH(parse_analysis_time("2023-10-01T12:00Z"),
                      doctest::Contains("YYYY-MM-DDThhmmZ"));
}

TEST_CASE("ISO 8601 forms people type") {
    const AnalysisTime noon = AnalysisTime::from_fields(2023, 10, 1, 12, 0);
    CHECK(parse_iso8601_time("2023-10-01T12:00Z") == noon);
    CHECK(parse_iso8601_time("2023-10-01T1200Z") == noon);
    CHECK(parse_iso8601_time("2023-10-01T12:00:00Z") == noon);
    CHECK(parse_iso8601_time("2023-10-01T12:00:00.000Z") == noon);
    CHECK(parse_iso8601_time("2023-10-01T12Z") == noon);
    CHECK(parse_iso8601_time("20231001T1200Z") == noon);
    CHECK(parse_iso8601_time("2023-10-01T14:00:00+02:00") == noon);
    CHECK(parse_iso8601_time("2023-10-01T14:00+0200") == noon);
    CHECK(parse_iso8601_time("2023-10-01T07:00-05") == noon);
    CHECK(parse_iso8601_time("2023-10-01T12:00+00:00") == noon);
    CHECK(parse_iso8601_time("2023-10-01 12:00Z") == noon);
    // offsets that cross midnight and a year boundary
    CHECK(parse_iso8601_time("2024-01-01T01:30+02:00") ==
          AnalysisTime::from_fields(2023, 12, 31, 23, 30));
}

TEST_CASE("ISO 8601 errors") {
    CHECK_THROWS_WITH(parse_iso8601_time("2023-10-01T12:00:30Z"),
                      doctest::Contains("seconds must be zero"));
    CHECK_THROWS_WITH(parse_iso8601_time("2023-10-01T12:00:00.5Z"),
                      doctest::Contains("seconds must be zero"));
    CHECK_THROWS_WITH(parse_iso8601_time("2023-10-01T12:00"), doctest::Contains("no time zone"));
    CHECK_THROWS_WITH(parse_iso8601_time("2023-02-30T12:00Z"),
                      doctest::Contains("not a real calendar date"));
    for (const char* bad : {"", "yesterday", "2023-10-01", "2023-10-01T", "2023-10-01T25:00Z",
                            "2023-10-01T12:00+24:00", "2023-10-01T12:00Zjunk", "2023-1001T12Z",
                            "2023-10-01T12:00:00.Z", "2023-10-01T123Z"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_iso8601_time(bad), PathError);
    }
}

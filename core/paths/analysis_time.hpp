// Analysis times: the UTC time, to the minute, that a forecast cycle starts from.
#pragma once

#include <chrono>
#include <compare>
#include <string>
#include <string_view>

namespace mlwm::paths {

class AnalysisTime {
public:
    using TimePoint = std::chrono::sys_time<std::chrono::minutes>;

    AnalysisTime() = default;
    // Throws PathError unless the year is 0000-9999 (keys hold four digits).
    explicit AnalysisTime(TimePoint tp);
    // Throws PathError for a date that is not in the calendar or a time out of range.
    static AnalysisTime from_fields(int year, int month, int day, int hour, int minute);

    TimePoint time_point() const { return tp_; }
    friend auto operator<=>(const AnalysisTime&, const AnalysisTime&) = default;

private:
    TimePoint tp_{};
};

// The key form `YYYY-MM-DDThhmmZ`, e.g. `2023-10-01T1200Z`.
std::string format_analysis_time(const AnalysisTime& t);
// ISO 8601 with seconds, e.g. `2023-10-01T12:00:00Z`.
std::string format_iso8601(const AnalysisTime& t);

// Strict parse of the key form: exact case, zero-padded fields, a real calendar
// date and time. Throws PathError naming the text and the expected form.
AnalysisTime parse_analysis_time(std::string_view text);

// Lenient parse of what people type: ISO 8601 date and time with a zone, e.g.
// `2023-10-01T12:00Z`, `2023-10-01T1200Z`, `2023-10-01T12:00:00+02:00`
// (converted to UTC), `20231001T1200Z`. Seconds must be zero (analysis times
// have minute precision); a zone (`Z` or an offset) is required.
AnalysisTime parse_iso8601_time(std::string_view text);

}  // namespace mlwm::paths

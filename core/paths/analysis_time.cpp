#include "paths/analysis_time.hpp"

#include <cstdio>
#include <optional>

#include "paths/error.hpp"

namespace mlwm::paths {
namespace {

using namespace std::chrono;

constexpr std::string_view kKeyForm = "YYYY-MM-DDThhmmZ, e.g. 2023-10-01T1200Z";
constexpr std::string_view kIsoForm =
    "an ISO 8601 UTC time or offset, e.g. 2023-10-01T12:00Z, 2023-10-01T1200Z or "
    "2023-10-01T12:00:00+02:00";

[[noreturn]] void fail(std::string_view text, std::string_view why, std::string_view form) {
    throw PathError("analysis time '" + std::string(text) + "': " + std::string(why) +
                    " (expected " + std::string(form) + ")");
}

// A cursor over the text with helpers for fixed-width digit fields.
struct Cursor {
    std::string_view s;
    std::size_t i = 0;

    bool done() const { return i == s.size(); }
    bool peek(char c) const { return i < s.size() && s[i] == c; }
    bool eat(char c) {
        if (!peek(c)) return false;
        ++i;
        return true;
    }
    bool digit_at(std::size_t k) const { return k < s.size() && s[k] >= '0' && s[k] <= '9'; }
    std::size_t digits_ahead() const {
        std::size_t n = 0;
        while (digit_at(i + n)) ++n;
        return n;
    }
    std::optional<int> digits(std::size_t n) {
        if (digits_ahead() < n) return std::nullopt;
        int v = 0;
        for (std::size_t k = 0; k < n; ++k) v = v * 10 + (s[i + k] - '0');
        i += n;
        return v;
    }
};

}  // namespace

AnalysisTime::AnalysisTime(TimePoint tp) : tp_(tp) {
    const year_month_day ymd{floor<days>(tp)};
    if (ymd.year() < year{0} || ymd.year() > year{9999})
        throw PathError("analysis time: year " + std::to_string(int(ymd.year())) +
                        " is outside 0000-9999");
}

AnalysisTime AnalysisTime::from_fields(int y, int mo, int d, int h, int mi) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi);
    if (y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
        throw PathError(std::string("analysis time ") + buf + ": not a calendar date");
    const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
    if (!ymd.ok()) throw PathError(std::string("analysis time ") + buf + ": not a calendar date");
    if (h < 0 || h > 23 || mi < 0 || mi > 59)
        throw PathError(std::string("analysis time ") + buf + ": hour must be 00-23, minute 00-59");
    return AnalysisTime(sys_days{ymd} + hours{h} + minutes{mi});
}

namespace {
struct Fields {
    int year, month, day, hour, minute;
};
Fields fields_of(const AnalysisTime& t) {
    const auto tp = t.time_point();
    const auto dp = floor<days>(tp);
    const year_month_day ymd{dp};
    const hh_mm_ss hms{tp - dp};
    return {int(ymd.year()), int(unsigned(ymd.month())), int(unsigned(ymd.day())),
            int(hms.hours().count()), int(hms.minutes().count())};
}
}  // namespace

namespace {
// `format` takes year, month, day, hour, minute as five ints.
std::string format_fields(const AnalysisTime& t, const char* format) {
    const Fields f = fields_of(t);
    char buf[32];
    std::snprintf(buf, sizeof buf, format, f.year, f.month, f.day, f.hour, f.minute);
    return buf;
}
}  // namespace

std::string format_analysis_time(const AnalysisTime& t) {
    return format_fields(t, "%04d-%02d-%02dT%02d%02dZ");
}

std::string format_iso8601(const AnalysisTime& t) {
    return format_fields(t, "%04d-%02d-%02dT%02d:%02d:00Z");
}

AnalysisTime parse_analysis_time(std::string_view text) {
    // YYYY-MM-DDThhmmZ : exactly 16 characters
    Cursor c{text};
    const auto y = c.digits(4);
    const bool dash1 = c.eat('-');
    const auto mo = c.digits(2);
    const bool dash2 = c.eat('-');
    const auto d = c.digits(2);
    const bool t = c.eat('T');
    const auto h = c.digits(2);
    const auto mi = c.digits(2);
    const bool z = c.eat('Z');
    if (!(y && dash1 && mo && dash2 && d && t && h && mi && z && c.done()))
        fail(text, "not in the key form", kKeyForm);
    try {
        return AnalysisTime::from_fields(*y, *mo, *d, *h, *mi);
    } catch (const PathError&) {
        fail(text, "not a real calendar date and time", kKeyForm);
    }
}

AnalysisTime parse_iso8601_time(std::string_view text) {
    Cursor c{text};
    auto need = [&](std::optional<int> v, std::string_view what) {
        if (!v) fail(text, std::string("cannot read the ") + std::string(what), kIsoForm);
        return *v;
    };
    // date: YYYY-MM-DD or YYYYMMDD
    const int y = need(c.digits(4), "year");
    const bool extended_date = c.eat('-');
    const int mo = need(c.digits(2), "month");
    if (extended_date && !c.eat('-')) fail(text, "expected '-' after the month", kIsoForm);
    const int d = need(c.digits(2), "day");
    if (!c.eat('T') && !c.eat(' ')) fail(text, "expected 'T' between date and time", kIsoForm);
    // time: hh[:mm[:ss[.fff]]] or hh[mm[ss[.fff]]]
    const int h = need(c.digits(2), "hour");
    int mi = 0;
    int sec = 0;
    bool fraction_nonzero = false;
    const bool extended_time = c.eat(':');
    if (extended_time || c.digits_ahead() >= 2) {
        mi = need(c.digits(2), "minute");
        if (extended_time ? c.eat(':') : c.digits_ahead() >= 2) {
            sec = need(c.digits(2), "second");
            if (c.eat('.') || c.eat(',')) {
                const std::size_t n = c.digits_ahead();
                if (n == 0) fail(text, "expected digits after the decimal sign", kIsoForm);
                for (std::size_t k = 0; k < n; ++k) fraction_nonzero |= text[c.i + k] != '0';
                c.i += n;
            }
        }
    }
    if (c.digits_ahead() > 0) fail(text, "too many digits in the time", kIsoForm);
    // zone: Z, +hh, +hh:mm, +hhmm (or -)
    int offset_minutes = 0;
    if (c.eat('Z') || c.eat('z')) {
    } else if (c.peek('+') || c.peek('-')) {
        const int sign = c.eat('-') ? -1 : (c.eat('+'), 1);
        const int oh = need(c.digits(2), "zone offset hours");
        int om = 0;
        if (c.eat(':'))
            om = need(c.digits(2), "zone offset minutes");
        else if (c.digits_ahead() == 2)
            om = *c.digits(2);
        if (oh > 23 || om > 59) fail(text, "zone offset out of range", kIsoForm);
        offset_minutes = sign * (oh * 60 + om);
    } else if (c.done()) {
        fail(text, "no time zone; add Z for UTC or an offset such as +02:00", kIsoForm);
    } else {
        fail(text, "unexpected '" + std::string(text.substr(c.i)) + "'", kIsoForm);
    }
    if (!c.done()) fail(text, "unexpected '" + std::string(text.substr(c.i)) + "'", kIsoForm);
    if (sec != 0 || fraction_nonzero)
        fail(text, "analysis times have minute precision; seconds must be zero", kIsoForm);

    AnalysisTime local;
    try {
        local = AnalysisTime::from_fields(y, mo, d, h, mi);
    } catch (const PathError&) {
        fail(text, "not a real calendar date and time", kIsoForm);
    }
    try {
        return AnalysisTime(local.time_point() - minutes{offset_minutes});
    } catch (const PathError&) {
        fail(text, "in UTC the year is outside 0000-9999", kIsoForm);
    }
}

}  // namespace mlwm::paths

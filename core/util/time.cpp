#include "util/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "util/clock.hpp"

namespace mlwm::util {
namespace {
std::string strftime_utc(SystemTime t, const char* format) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    for (std::size_t i = pos; i < pos + n; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    std::from_chars(s.data() + pos, s.data() + pos + n, out);
    return true;
}
}  // namespace

std::string format_utc(SystemTime t, bool milliseconds) {
    const auto floored = std::chrono::floor<std::chrono::milliseconds>(t);
    std::string s = strftime_utc(floored, "%Y-%m-%dT%H:%M:%S");
    if (milliseconds) {
        const auto ms = (floored.time_since_epoch() % std::chrono::seconds(1)).count();
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms < 0 ? ms + 1000 : ms));
        s += frac;
    }
    return s + "Z";
}

std::string format_utc_compact(SystemTime t) {
    return strftime_utc(t, "%Y%m%dT%H%M%SZ");
}

std::optional<SystemTime> parse_utc(std::string_view s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    std::size_t pos = 19;
    int millis = 0, scale = 100;
    if (s[pos] == '.') {
        ++pos;
        const std::size_t first = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == first) return std::nullopt;
    }
    if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                          std::chrono::day(unsigned(d))};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(se) + std::chrono::milliseconds(millis);
}

const Clock& system_clock() {
    struct System final : Clock {
        SystemTime now() const override { return std::chrono::system_clock::now(); }
    };
    static const System clock;
    return clock;
}

}  // namespace mlwm::util

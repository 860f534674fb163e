// UTC timestamps, in one place: RFC 3339 text for logs, markers and labels,
// the compact form SigV4 signs, and the parser for S3's LastModified.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlwm::util {

using SystemTime = std::chrono::system_clock::time_point;

// "2023-11-01T06:00:00Z", or with milliseconds "2023-11-01T06:00:00.123Z".
std::string format_utc(SystemTime t, bool milliseconds = false);
inline std::string utc_now(bool milliseconds = false) {
    return format_utc(std::chrono::system_clock::now(), milliseconds);
}
// "20231101T060000Z" (x-amz-date).
std::string format_utc_compact(SystemTime t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (S3's LastModified); nullopt if it is not that.
std::optional<SystemTime> parse_utc(std::string_view text);

inline std::int64_t unix_seconds(SystemTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline std::int64_t unix_now() {
    return unix_seconds(std::chrono::system_clock::now());
}

}  // namespace mlwm::util

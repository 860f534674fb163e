// Which S3 failures are worth retrying, and how long to wait. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace mlwm::storage {

struct RetryPolicy {
    int max_attempts = 5;  // including the first
    std::chrono::milliseconds base{100};
    std::chrono::milliseconds cap{5000};
};

// Transport failures (no HTTP status: connection refused/reset, timeouts) and
// 500/502/503/504, SlowDown, RequestTimeout, InternalError and 409
// ConditionalRequestConflict are retryable; 403/404/412 and other 4xx never.
bool retryable(long http_status, std::string_view s3_code, bool transport_error);

// Full jitter: a uniform random wait in [0, min(cap, base * 2^attempt)].
// `random01` is a uniform sample in [0, 1) (injected for tests).
std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt, double random01);

}  // namespace mlwm::storage

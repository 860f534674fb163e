#include "storage/retry.hpp"

#include <algorithm>
#include <cmath>

namespace mlwm::storage {

bool retryable(long status, std::string_view code, bool transport_error) {
    if (transport_error) return true;
    if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
        code == "ServiceUnavailable" || code == "ConditionalRequestConflict")
        return true;
    if (status == 409) return code == "ConditionalRequestConflict";
    return status == 500 || status == 502 || status == 503 || status == 504;
}

std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt, double random01) {
    const double ceiling = std::min(static_cast<double>(p.cap.count()),
                                    static_cast<double>(p.base.count()) * std::pow(2.0, attempt));
    return std::chrono::milliseconds(
        static_cast<long long>(std::floor(ceiling * std::clamp(random01, 0.0, 1.0))));
}

}  // namespace mlwm::storage

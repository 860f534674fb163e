#include "run/readiness.hpp"

#include "util/time.hpp"

namespace mlwm::run {

bool quiet_since(const std::vector<storage::ObjectInfo>& objects, std::chrono::seconds quiet,
                 std::chrono::system_clock::time_point now) {
    if (objects.empty()) return false;
    for (const auto& o : objects) {
        const auto t = util::parse_utc(o.last_modified);
        if (!t || now - *t < quiet) return false;
    }
    return true;
}

bool input_complete(storage::ObjectStore& store, const config::S3Place& place,
                    const std::string& completion_marker, std::chrono::seconds quiet_period,
                    std::chrono::system_clock::time_point now) {
    if (quiet_period.count() > 0)
        return quiet_since(store.list({.prefix = place.key + "/"}).objects, quiet_period, now);
    return store.head(place.key + "/" + completion_marker).has_value();
}

std::string completion_condition(const config::S3Place& place, const std::string& completion_marker,
                                 std::chrono::seconds quiet_period) {
    if (quiet_period.count() > 0)
        return place.uri() + "/ quiet for " + std::to_string(quiet_period.count()) + " s";
    return place.uri() + "/" + completion_marker;
}

}  // namespace mlwm::run

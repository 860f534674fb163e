// The wall clock, injected: the daemon's scheduling, the ledger and a run read
// the time through a Clock, so that tests move time by hand (ManualClock)
// instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "util/time.hpp"

namespace mlwm::util {

class Clock {
public:
    virtual ~Clock() = default;
    virtual SystemTime now() const = 0;
    std::int64_t unix_now() const { return unix_seconds(now()); }
};

// The system's clock (std::chrono::system_clock).
const Clock& system_clock();

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(SystemTime start) : t_(start.time_since_epoch().count()) {}
    SystemTime now() const override { return SystemTime(SystemTime::duration(t_.load())); }
    void set(SystemTime t) { t_ = t.time_since_epoch().count(); }
    void advance(std::chrono::system_clock::duration d) { t_ += d.count(); }

private:
    std::atomic<SystemTime::rep> t_;
};

}  // namespace mlwm::util

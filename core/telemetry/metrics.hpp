// The daemon's metrics: one place declares every family with its help text
// (mlwm_ prefix, base units, counters end in _total, bounded labels: run ids
// go to logs, never to labels). Exposed in Prometheus text format.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace mlwm::telemetry {

class Metrics {
public:
    Metrics(const std::string& version, const std::string& revision);

    // The label values of the counters that alerts take increase() of: a
    // series must exist (at 0) before its first increment, or that first
    // failure or late run is invisible to increase().
    static constexpr std::array<const char*, 5> kRunOutcomes{"succeeded", "already_done", "failed",
                                                             "timed_out", "cancelled"};
    static constexpr std::array<const char*, 2> kLateKinds{"arrival", "completion"};
    // Creates a configured model's counters at 0 (idempotent).
    void add_model(const std::string& model);

    std::string serialize() const;  // Prometheus text exposition format
    prometheus::Registry& registry() { return *registry_; }

private:
    std::shared_ptr<prometheus::Registry> registry_;  // first: the families below register in it

public:
    prometheus::Family<prometheus::Counter>& runs;                 // {model, outcome}
    prometheus::Family<prometheus::Histogram>& phase_duration;     // {model, phase}
    prometheus::Family<prometheus::Gauge>& in_progress;            // {model, phase}
    prometheus::Family<prometheus::Gauge>& last_success;           // {model}
    prometheus::Family<prometheus::Gauge>& newest_completed;       // {model}
    prometheus::Family<prometheus::Histogram>& detection_latency;  // {model}
    prometheus::Family<prometheus::Counter>& late_runs;            // {model, kind}
    prometheus::Family<prometheus::Counter>& s3_requests;          // {operation, status}
    prometheus::Family<prometheus::Counter>& s3_bytes;             // {direction}
    prometheus::Family<prometheus::Counter>& docker_requests;      // {operation, status}
    prometheus::Family<prometheus::Counter>& polls;                // {outcome}
    prometheus::Family<prometheus::Counter>& poll_errors;          // {}
    prometheus::Family<prometheus::Gauge>& last_poll;              // {}
    prometheus::Family<prometheus::Counter>& foreign_entries;      // {model}
};

}  // namespace mlwm::telemetry

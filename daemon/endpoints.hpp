// The daemon's HTTP endpoints (/metrics, /livez, /readyz, /status): what each
// answers, from the daemon's parts. Served by http::Server on the event loop.
#pragma once

#include <atomic>

#include "http/server.hpp"
#include "ledger/ledger.hpp"
#include "schedule/scheduler.hpp"
#include "telemetry/metrics.hpp"

namespace mlwm::app {

struct Endpoints {
    telemetry::Metrics& metrics;
    ledger::Ledger& ledger;
    const std::atomic<bool>& engine_ok;  // the engine answered its last _ping
    schedule::Scheduler& scheduler;
};

http::Handler endpoint_handler(const Endpoints& e);

}  // namespace mlwm::app

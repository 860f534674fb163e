#include "endpoints.hpp"

namespace mlwm::app {

http::Handler endpoint_handler(const Endpoints& e) {
    return [e](const std::string& method, const std::string& target) {
        if (method != "GET" && method != "HEAD")
            return http::Response{405, "text/plain; charset=utf-8", "GET only\n"};
        const std::string path = target.substr(0, target.find('?'));
        if (path == "/metrics")
            return http::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                                  e.metrics.serialize()};
        if (path == "/livez")
            return http::Response{200, "text/plain; charset=utf-8",
                                  "ok: the event loop is turning\n"};
        if (path == "/readyz") {
            const bool ledger_ok = e.ledger.writable(), engine = e.engine_ok.load(),
                       poll = e.scheduler.poll_recent();
            std::string body = std::string("configuration: ok\nledger: ") +
                               (ledger_ok ? "ok" : "not writable") +
                               "\ndocker: " + (engine ? "ok" : "no answer to _ping") +
                               "\npoll: " + e.scheduler.poll_health() + "\n";
            return http::Response{ledger_ok && engine && poll ? 200u : 503u,
                                  "text/plain; charset=utf-8", body};
        }
        if (path == "/status")
            return http::Response{200, "application/json", e.scheduler.status().dump(2) + "\n"};
        return http::Response{404, "text/plain; charset=utf-8",
                              "not found: try /metrics, /livez, /readyz, /status\n"};
    };
}

}  // namespace mlwm::app

// A TCP proxy on 127.0.0.1 that injects faults into the connections it
// forwards to an upstream port: it can cut a connection after a number of
// response bytes (a drop mid-body). For the storage fault tests.
#pragma once

#include <atomic>
#include <climits>
#include <mutex>
#include <thread>
#include <vector>

namespace mlwm::test {

class FaultProxy {
public:
    explicit FaultProxy(int upstream_port);
    ~FaultProxy();
    int port() const { return port_; }

    // Cut a connection after forwarding this many response bytes (-1: never);
    // applies to the next `faulty_connections` connections, later ones pass.
    std::atomic<long> drop_after_response_bytes{-1};
    std::atomic<int> faulty_connections{INT_MAX};
    std::atomic<int> connections{0};  // accepted so far
    std::atomic<int> dropped{0};      // cut so far

private:
    void accept_loop();
    void serve(int client);
    int upstream_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> workers_;
};

}  // namespace mlwm::test

// Drives a libcurl multi handle with epoll and curl_multi_socket_action:
// libcurl is told which socket is ready, instead of curl_multi_perform
// checking every transfer's socket (a poll() each) on every pass and
// curl_multi_poll polling them all again. With 64 transfers in flight that
// was 5-6 poll() calls per object downloaded.
#pragma once

#include <chrono>
#include <optional>

namespace mlwm::storage {

class CurlDriver {
public:
    // Installs the socket and timer callbacks on `multi` (a CURLM*), which
    // must outlive this object.
    explicit CurlDriver(void* multi);
    ~CurlDriver();
    CurlDriver(const CurlDriver&) = delete;
    CurlDriver& operator=(const CurlDriver&) = delete;

    // Lets libcurl do what is due now (a transfer just added, a timeout).
    void act_on_due();
    // Waits at most `max_wait` (less if libcurl's own timer is due sooner)
    // for a socket to become ready, then lets libcurl act on what is ready
    // and on what came due meanwhile.
    void wait(std::chrono::milliseconds max_wait);

    // libcurl's callbacks (curl_driver.cpp)
    void on_socket(int fd, int what, bool known);  // known: added before
    void on_timer(long timeout_ms);

private:
    void* multi_;
    int epoll_fd_;
    std::optional<std::chrono::steady_clock::time_point> timer_;  // libcurl wants a call by then
};

}  // namespace mlwm::storage

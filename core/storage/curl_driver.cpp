#include "storage/curl_driver.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace mlwm::storage {
using Clock = std::chrono::steady_clock;

namespace {

int socket_cb(CURL*, curl_socket_t fd, int what, void* self, void* known) {
    static_cast<CurlDriver*>(self)->on_socket(fd, what, known != nullptr);
    return 0;
}

int timer_cb(CURLM*, long timeout_ms, void* self) {
    static_cast<CurlDriver*>(self)->on_timer(timeout_ms);
    return 0;
}

}  // namespace

CurlDriver::CurlDriver(void* multi) : multi_(multi), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_fd_ < 0)
        throw std::runtime_error(std::string("epoll_create1 failed: ") + std::strerror(errno));
    auto* m = static_cast<CURLM*>(multi_);
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, this);
}

CurlDriver::~CurlDriver() {
    auto* m = static_cast<CURLM*>(multi_);
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, nullptr);
    ::close(epoll_fd_);
}

void CurlDriver::on_socket(int fd, int what, bool known) {
    if (what == CURL_POLL_REMOVE) {
        // (a socket libcurl already closed has left the set by itself: ENOENT/EBADF)
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        return;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (known) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
        return;
    }
    // a new socket, or one that libcurl closed and whose number it reuses
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    curl_multi_assign(static_cast<CURLM*>(multi_), fd, this);  // known from now on
}

void CurlDriver::on_timer(long timeout_ms) {
    if (timeout_ms < 0)
        timer_.reset();
    else
        timer_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
}

void CurlDriver::act_on_due() {
    int running = 0;
    // each call may set a new timer that is due at once (0 ms): go on until none is
    for (int i = 0; i < 16 && timer_ && *timer_ <= Clock::now(); ++i) {
        timer_.reset();
        curl_multi_socket_action(static_cast<CURLM*>(multi_), CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

void CurlDriver::wait(std::chrono::milliseconds max_wait) {
    auto wait = max_wait;
    if (timer_)
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(
                                  std::max(*timer_ - Clock::now(), Clock::duration::zero())));
    std::array<epoll_event, 64> events{};
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::max<long long>(wait.count(), 0)));
    int running = 0;
    for (int i = 0; i < n; ++i) {
        const std::uint32_t e = events[static_cast<std::size_t>(i)].events;
        const int mask = ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                         ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                         ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(static_cast<CURLM*>(multi_),
                                 events[static_cast<std::size_t>(i)].data.fd, mask, &running);
    }
    act_on_due();
}

}  // namespace mlwm::storage

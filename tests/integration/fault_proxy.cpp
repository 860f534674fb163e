#include "fault_proxy.hpp"

#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mlwm::test {

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0)
        throw std::runtime_error("fault proxy: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) w.join();
}

void FaultProxy::accept_loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        ++connections;
        std::lock_guard lock(mutex_);
        workers_.emplace_back([this, client] { serve(client); });
    }
}

void FaultProxy::serve(int client) {
    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    const int one = 1;
    ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(up);
        ::close(client);
        return;
    }
    const bool faulty = faulty_connections.fetch_sub(1) > 0;
    const long limit = faulty ? drop_after_response_bytes.load() : -1;
    long forwarded = 0;
    char buf[16384];
    bool open = true;
    while (open && !stop_) {
        pollfd fds[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
        if (::poll(fds, 2, 100) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const int from = fds[i].fd, to = i == 0 ? up : client;
            std::size_t want = sizeof buf;
            if (i == 1 && limit >= 0)
                want = std::min<std::size_t>(want, static_cast<std::size_t>(limit - forwarded));
            const ssize_t n = want == 0 ? 0 : ::read(from, buf, want);
            if (n <= 0) {
                if (want == 0) ++dropped;  // the fault: cut mid-response
                open = false;
                break;
            }
            if (::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) open = false;
            if (i == 1) forwarded += n;
        }
    }
    ::close(up);
    ::close(client);
}

}  // namespace mlwm::test

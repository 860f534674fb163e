// A small HTTP/1.1 server on the daemon's io_context (Boost.Beast): GET only,
// keep-alive, one handler that maps a path to a response. For /metrics,
// /livez, /readyz and /status.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace mlwm::http {

struct Response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

using Handler = std::function<Response(const std::string& method, const std::string& target)>;

class Session;

struct Limits {
    // A request (headers, and the pause before it on a kept-alive
    // connection) must arrive within this.
    std::chrono::seconds read_timeout{5};
    // Open connections; at the cap the oldest one waiting for a request is
    // closed for a new one.
    std::size_t max_connections = 64;
};

class Server {
public:
    // `listen` is HOST:PORT (PORT 0 picks a free port). Throws
    // std::runtime_error naming the address if it cannot listen.
    Server(boost::asio::io_context& io, const std::string& listen, Handler handler,
           Limits limits = {});
    ~Server();
    unsigned short port() const;
    void stop();

private:
    void accept();
    void make_room();
    std::size_t connections();  // open ones (forgets the closed)
    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<Handler> handler_;
    Limits limits_;
    std::list<std::weak_ptr<Session>> sessions_;  // in the order they were accepted
};

}  // namespace mlwm::http

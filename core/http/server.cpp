#include "http/server.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

namespace mlwm::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<Handler> handler, std::chrono::seconds read_timeout)
        : stream_(std::move(socket)), handler_(std::move(handler)), read_timeout_(read_timeout) {}
    void start() { read(); }
    // Waiting for a request (not answering one): may be closed to make room.
    bool idle() const { return idle_; }
    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

private:
    void read() {
        request_ = {};
        idle_ = true;
        // the whole request (a keep-alive pause included) within the timeout:
        // a client that sends half a header does not hold the connection
        stream_.expires_after(read_timeout_);
        bhttp::async_read(stream_, buffer_, request_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->idle_ = false;
                              self->respond();
                          });
    }
    void respond() {
        Response r;
        try {
            r = (*handler_)(std::string(request_.method_string()), std::string(request_.target()));
        } catch (const std::exception& e) {
            r = {500, "text/plain; charset=utf-8",
                 std::string("internal error: ") + e.what() + "\n"};
        }
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
            static_cast<bhttp::status>(r.status), request_.version());
        res->set(bhttp::field::server, "mlwm");
        res->set(bhttp::field::content_type, r.content_type);
        res->keep_alive(request_.keep_alive());
        res->body() = std::move(r.body);
        res->prepare_payload();
        bhttp::async_write(stream_, *res,
                           [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                               if (ec || !res->keep_alive()) return self->close();
                               self->read();
                           });
    }
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> request_;
    std::shared_ptr<Handler> handler_;
    std::chrono::seconds read_timeout_;
    bool idle_ = true;
};

namespace {

tcp::endpoint parse_listen(asio::io_context& io, const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos)
        throw std::runtime_error("HTTP listen address '" + listen + "': expected HOST:PORT");
    std::string host = listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto results =
        resolver.resolve(host, listen.substr(colon + 1), tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw std::runtime_error("HTTP listen address '" + listen +
                                 "': " + (ec ? ec.message() : "no address"));
    return results.begin()->endpoint();
}

}  // namespace

Server::Server(asio::io_context& io, const std::string& listen, Handler handler, Limits limits)
    : io_(io),
      acceptor_(io),
      handler_(std::make_shared<Handler>(std::move(handler))),
      limits_(limits) {
    const tcp::endpoint ep = parse_listen(io, listen);
    beast::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + listen + ": " + ec.message());
    accept();
}

Server::~Server() {
    stop();
}

unsigned short Server::port() const {
    return acceptor_.local_endpoint().port();
}

void Server::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
}

std::size_t Server::connections() {
    std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    return sessions_.size();
}

// At the cap, the oldest connection that waits for a request makes room: a
// flood of idle or half-sent connections cannot keep a probe out.
void Server::make_room() {
    while (connections() >= limits_.max_connections) {
        auto oldest = std::find_if(sessions_.begin(), sessions_.end(), [](const auto& w) {
            const auto s = w.lock();
            return s && s->idle();
        });
        if (oldest == sessions_.end()) return;  // all answering: the new one waits its turn
        if (const auto s = oldest->lock()) s->close();
        sessions_.erase(oldest);
    }
}

void Server::accept() {
    // one thread runs the io_context: the sessions share it, no strand
    acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            make_room();
            auto session =
                std::make_shared<Session>(std::move(socket), handler_, limits_.read_timeout);
            sessions_.push_back(session);
            session->start();
        }
        if (acceptor_.is_open()) accept();
    });
}

}  // namespace mlwm::http

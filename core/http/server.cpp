#include "http/server.hpp"

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

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<Handler> handler)
        : stream_(std::move(socket)), handler_(std::move(handler)) {}
    void start() { read(); }

private:
    void read() {
        request_ = {};
        stream_.expires_after(std::chrono::seconds(30));
        bhttp::async_read(stream_, buffer_, request_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
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
    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> request_;
    std::shared_ptr<Handler> handler_;
};

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

Server::Server(asio::io_context& io, const std::string& listen, Handler handler)
    : io_(io), acceptor_(io), handler_(std::make_shared<Handler>(std::move(handler))) {
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

void Server::accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](beast::error_code ec, tcp::socket socket) {
                               if (ec == asio::error::operation_aborted) return;
                               if (!ec)
                                   std::make_shared<Session>(std::move(socket), handler_)->start();
                               if (acceptor_.is_open()) accept();
                           });
}

}  // namespace mlwm::http

// HTTP/1.1 over a unix socket with libcurl (CURLOPT_UNIX_SOCKET_PATH): the
// transport under the Docker Engine API client. Thread-safe: concurrent
// requests each borrow an easy handle from a pool (connections are reused).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mlwm::docker {

struct HttpRequest {
    std::string method = "GET";
    std::string target;  // path and query, e.g. /v1.41/containers/json?all=1
    std::string body{};  // sent as is (with content_type) unless `upload` is set
    std::string content_type = "application/json";
    std::vector<std::string> headers{};  // more, "Name: value"
    // Streaming request body (sent chunked): fill the buffer, return the
    // byte count, 0 at the end.
    std::function<std::size_t(char*, std::size_t)> upload{};
    // Streaming response body; when unset the body is collected.
    std::function<void(std::string_view)> on_data{};
    std::chrono::milliseconds timeout{0};  // 0: no limit
};

struct HttpResponse {
    long status = 0;
    std::string body;
};

class PendingResponse;

namespace detail {
// The state of one transfer, shared by libcurl's callbacks.
struct Transfer {
    const HttpRequest* request = nullptr;
    long status = 0;
    bool headers_done = false;
    std::string body;
    char error[256]{};
};
}  // namespace detail

class UnixSocketHttp {
public:
    explicit UnixSocketHttp(std::string socket_path);
    ~UnixSocketHttp();
    UnixSocketHttp(const UnixSocketHttp&) = delete;
    UnixSocketHttp& operator=(const UnixSocketHttp&) = delete;

    const std::string& socket_path() const { return socket_path_; }

    // Performs the request; throws EngineUnreachable if the socket cannot be
    // used or the connection fails.
    HttpResponse perform(const HttpRequest& request);

    // Starts a request and returns once its response headers have arrived (or
    // it ended); the body is read later through the returned object.
    std::unique_ptr<PendingResponse> begin(HttpRequest request,
                                           std::chrono::steady_clock::time_point deadline);

private:
    friend class PendingResponse;
    void* acquire();           // CURL*
    void release(void* curl);  // back to the pool
    std::string socket_path_;
    std::mutex mutex_;
    std::vector<void*> idle_;
};

// A request in flight (see UnixSocketHttp::begin).
class PendingResponse {
public:
    ~PendingResponse();
    // Status of the response headers (0 if the transfer ended without any).
    long status() const { return t_.status; }
    bool headers_received() const { return t_.headers_done; }
    // Drives the transfer until it completes (true) or the deadline (false).
    // Throws EngineUnreachable if the connection fails.
    bool wait_until(std::chrono::steady_clock::time_point deadline);
    // The complete response; only after wait_until returned true.
    HttpResponse take() { return {t_.status, std::move(t_.body)}; }

private:
    friend class UnixSocketHttp;
    explicit PendingResponse(UnixSocketHttp& owner) : owner_(owner) {}
    // Runs the transfer until it ends (true), or with `until_headers` until the
    // headers are in (true), or until the deadline (false).
    bool drive(std::chrono::steady_clock::time_point deadline, bool until_headers);
    UnixSocketHttp& owner_;
    HttpRequest request_;
    void* multi_ = nullptr;
    void* easy_ = nullptr;
    void* headers_list_ = nullptr;
    detail::Transfer t_;
    bool finished_ = false;
};

}  // namespace mlwm::docker

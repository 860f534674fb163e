#include "docker/unix_http.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <curl/curl.h>
#include <sys/stat.h>

#include "docker/error.hpp"
#include "util/curl_global.hpp"
#include "util/http_header.hpp"

namespace mlwm::docker {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<detail::Transfer*>(user);
    const util::HeaderLine h = util::parse_header_line({data, size * n});
    if (h.kind == util::HeaderLine::Kind::status) {  // after a 1xx head comes another
        t->headers_done = false;
        t->status = h.status;
    } else if (h.kind == util::HeaderLine::Kind::end && t->status >= 200) {
        t->headers_done = true;
    }
    return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<detail::Transfer*>(user);
    const std::string_view chunk(data, size * n);
    try {
        if (t->request->on_data && t->status < 300)  // error bodies are kept for the message
            t->request->on_data(chunk);
        else
            t->body.append(chunk);
    } catch (...) {
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    return size * n;
}

std::size_t on_upload(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<detail::Transfer*>(user);
    try {
        return t->request->upload(buffer, size * n);
    } catch (const std::exception& e) {
        std::snprintf(t->error, sizeof t->error, "%s", e.what());
        return CURL_READFUNC_ABORT;
    }
}

// Sets up `curl` for the request; returns the header list to free afterwards.
curl_slist* configure(CURL* curl, const std::string& socket, detail::Transfer& t) {
    const HttpRequest& r = *t.request;
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
    const std::string url = "http://docker" + r.target;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_slist* headers = curl_slist_append(nullptr, "Expect:");
    for (const auto& h : r.headers) headers = curl_slist_append(headers, h.c_str());
    if (r.method == "POST" || r.method == "PUT") {
        headers = curl_slist_append(headers, ("Content-Type: " + r.content_type).c_str());
        if (r.upload) {
            curl_easy_setopt(curl, CURLOPT_POST, 1L);
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_upload);
            curl_easy_setopt(curl, CURLOPT_READDATA, &t);
            headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        } else {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(r.body.size()));
            curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, r.body.c_str());
        }
        if (r.method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (r.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    return headers;
}

[[noreturn]] void unreachable(const std::string& socket, CURL* curl, CURLcode rc,
                              const detail::Transfer& t) {
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    const std::string where = "the Docker Engine at unix://" + socket;
    if (rc == CURLE_COULDNT_CONNECT) {
        struct stat st {};
        if (os_errno == ENOENT || ::stat(socket.c_str(), &st) != 0)
            throw EngineUnreachable("cannot reach " + where +
                                    ": the socket does not exist; start the engine (e.g. "
                                    "'systemctl start docker') or point docker.socket/DOCKER_HOST "
                                    "at the right socket");
        if (os_errno == EACCES || os_errno == EPERM)
            throw EngineUnreachable("cannot reach " + where +
                                    ": permission denied; run mlwm as root or as a member of the "
                                    "socket's group (usually 'docker')");
        if (os_errno == ECONNREFUSED)
            throw EngineUnreachable("cannot reach " + where +
                                    ": connection refused, the engine is not running; start it "
                                    "(e.g. 'systemctl start docker')");
    }
    std::string detail = t.error[0] ? t.error : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        throw EngineUnreachable(where + " did not answer " + t.request->method + " " +
                                t.request->target + " in time: " + detail);
    throw EngineUnreachable("connection to " + where + " failed during " + t.request->method + " " +
                            t.request->target + ": " + detail);
}

}  // namespace

UnixSocketHttp::UnixSocketHttp(std::string socket_path) : socket_path_(std::move(socket_path)) {
    util::curl_global_once();
}

UnixSocketHttp::~UnixSocketHttp() {
    for (void* c : idle_) curl_easy_cleanup(static_cast<CURL*>(c));
}

void* UnixSocketHttp::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            void* c = idle_.back();
            idle_.pop_back();
            return c;
        }
    }
    CURL* c = curl_easy_init();
    if (!c) throw std::runtime_error("curl_easy_init failed");
    return c;
}

void UnixSocketHttp::release(void* curl) {
    curl_easy_reset(static_cast<CURL*>(curl));
    std::lock_guard lock(mutex_);
    idle_.push_back(curl);
}

HttpResponse UnixSocketHttp::perform(const HttpRequest& request) {
    CURL* curl = static_cast<CURL*>(acquire());
    detail::Transfer t;
    t.request = &request;
    curl_slist* headers = configure(curl, socket_path_, t);
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        try {
            unreachable(socket_path_, curl, rc, t);
        } catch (...) {
            curl_easy_cleanup(curl);  // its connection may be broken: do not pool it
            throw;
        }
    }
    release(curl);
    return {t.status, std::move(t.body)};
}

std::unique_ptr<PendingResponse> UnixSocketHttp::begin(HttpRequest request,
                                                       Clock::time_point deadline) {
    std::unique_ptr<PendingResponse> p(new PendingResponse(*this));
    p->request_ = std::move(request);
    p->t_.request = &p->request_;
    p->easy_ = curl_easy_init();
    p->multi_ = curl_multi_init();
    if (!p->easy_ || !p->multi_) throw std::runtime_error("curl init failed");
    p->headers_list_ = configure(static_cast<CURL*>(p->easy_), socket_path_, p->t_);
    curl_multi_add_handle(static_cast<CURLM*>(p->multi_), static_cast<CURL*>(p->easy_));
    // drive until the response headers are in (or the transfer ended)
    if (!p->drive(deadline, true))
        throw EngineUnreachable("the Docker Engine at unix://" + socket_path_ +
                                " sent no answer to " + p->request_.method + " " +
                                p->request_.target + " in time");
    return p;
}

PendingResponse::~PendingResponse() {
    if (multi_ && easy_)
        curl_multi_remove_handle(static_cast<CURLM*>(multi_), static_cast<CURL*>(easy_));
    if (easy_) curl_easy_cleanup(static_cast<CURL*>(easy_));
    if (multi_) curl_multi_cleanup(static_cast<CURLM*>(multi_));
    curl_slist_free_all(static_cast<curl_slist*>(headers_list_));
}

bool PendingResponse::wait_until(Clock::time_point deadline) {
    return drive(deadline, false);
}

bool PendingResponse::drive(Clock::time_point deadline, bool until_headers) {
    auto* multi = static_cast<CURLM*>(multi_);
    while (true) {
        int running = 0;
        curl_multi_perform(multi, &running);
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            finished_ = true;
            if (msg->data.result != CURLE_OK)
                unreachable(owner_.socket_path(), static_cast<CURL*>(easy_), msg->data.result, t_);
        }
        if (finished_ || (until_headers && t_.headers_done)) return true;
        const auto now = Clock::now();
        if (now >= deadline) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::min<long long>(left + 1, 1000)),
                        nullptr);
    }
}

}  // namespace mlwm::docker

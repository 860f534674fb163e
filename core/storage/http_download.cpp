#include "storage/http_download.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include <curl/curl.h>

#include "storage/object_store.hpp"
#include "util/curl_global.hpp"
#include "util/hash.hpp"

namespace mlwm::storage {
namespace {

struct Sink {
    std::FILE* file = nullptr;
    util::Sha256 sha;
    std::uint64_t bytes = 0;
    bool write_failed = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    const std::size_t len = size * n;
    if (std::fwrite(data, 1, len, s->file) != len) {
        s->write_failed = true;
        return 0;  // stops the transfer
    }
    s->sha.update(data, len);
    s->bytes += len;
    return len;
}

struct Attempt {
    CURLcode rc = CURLE_OK;
    long status = 0;
    std::string curl_error;
    Downloaded result;
    bool write_failed = false;
};

Attempt attempt(const std::string& url, const std::filesystem::path& dest) {
    Attempt a;
    Sink sink;
    sink.file = std::fopen(dest.c_str(), "wb");
    if (!sink.file) throw StorageError("downloading " + url + ": cannot write " + dest.string());
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    // a stalled transfer: under 1 byte/s for 60 s
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "mlwm");
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    for (const char* var : {"CURL_CA_BUNDLE", "SSL_CERT_FILE"})
        if (const char* ca = std::getenv(var); ca && *ca) {
            curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca);
            break;
        }
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
    a.rc = curl_easy_perform(curl.get());
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
    const bool closed = std::fclose(sink.file) == 0;
    a.write_failed = sink.write_failed || !closed;
    a.curl_error = error[0] ? error : curl_easy_strerror(a.rc);
    a.result = {sink.bytes, sink.sha.hex_digest()};
    return a;
}

}  // namespace

bool is_http_url(const std::string& text) {
    return text.starts_with("https://") || text.starts_with("http://");
}

Downloaded download_url(const std::string& url, const std::filesystem::path& dest) {
    util::curl_global_once();
    constexpr int kAttempts = 3;
    for (int i = 1;; ++i) {
        const Attempt a = attempt(url, dest);
        if (a.rc == CURLE_OK && a.status >= 200 && a.status < 300) return a.result;
        std::error_code ec;
        std::filesystem::remove(dest, ec);
        if (a.write_failed)
            throw StorageError("downloading " + url + ": writing " + dest.string() + " failed");
        const bool transient =
            (a.rc != CURLE_OK && a.rc != CURLE_PEER_FAILED_VERIFICATION &&
             a.rc != CURLE_SSL_CACERT_BADFILE && a.rc != CURLE_UNSUPPORTED_PROTOCOL &&
             a.rc != CURLE_TOO_MANY_REDIRECTS) ||
            a.status >= 500;
        if (!transient || i == kAttempts) {
            if (a.rc != CURLE_OK)
                throw StorageError("downloading " + url + ": " + a.curl_error +
                                   (i > 1 ? " (" + std::to_string(i) + " attempts)" : ""));
            throw StorageError("downloading " + url + ": HTTP " + std::to_string(a.status) +
                                   (i > 1 ? " (" + std::to_string(i) + " attempts)" : ""),
                               "", a.status);
        }
        std::this_thread::sleep_for(std::chrono::seconds(i));  // back off: 1 s, 2 s
    }
}

}  // namespace mlwm::storage

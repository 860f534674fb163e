// Downloading a file over HTTPS (or HTTP) with libcurl: inference artifacts
// kept elsewhere (e.g. Zenodo), pinned by their SHA-256.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace mlwm::storage {

struct Downloaded {
    std::uint64_t bytes = 0;
    std::string sha256_hex;  // of the bytes written
};

// GETs `url` into `dest` (redirects followed, at most 10), hashing the bytes as
// they arrive. TLS is verified against $CURL_CA_BUNDLE or $SSL_CERT_FILE when
// set, else the system's store. Connection failures and 5xx answers are tried
// again (3 attempts in all). Throws StorageError naming the URL and the HTTP
// status or libcurl's reason; `dest` is removed then.
Downloaded download_url(const std::string& url, const std::filesystem::path& dest);

// Whether `text` is an http:// or https:// URL.
bool is_http_url(const std::string& text);

}  // namespace mlwm::storage

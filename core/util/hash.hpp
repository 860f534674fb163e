// Digests and MACs (OpenSSL): SHA-256, HMAC-SHA256, MD5; hex and base64.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mlwm::util {

std::string hex(std::string_view bytes);
std::string base64(std::string_view bytes);

std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

// Incremental MD5 (for ETag checks while data streams through).
class Md5 {
public:
    Md5();
    ~Md5();
    Md5(Md5&&) noexcept;
    Md5& operator=(Md5&&) noexcept;
    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    std::string hex_digest();  // finishes; the object is reset afterwards
    std::string raw_digest();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string md5_hex(std::string_view data);

// Incremental SHA-256 (checksums of large files, read in pieces).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(const void* data, std::size_t size);
    std::string hex_digest();  // finishes; the object is reset afterwards

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// SHA-256 of a file, read in 1 MiB pieces; throws std::runtime_error.
std::string sha256_file_hex(const std::string& path);

}  // namespace mlwm::util

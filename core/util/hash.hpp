// Digests and MACs (OpenSSL): SHA-256, HMAC-SHA256, MD5; hex and base64.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlwm::util {

std::string hex(std::string_view bytes);
std::string base64(std::string_view bytes);
// Standard base64 (padding optional); std::nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

// An incremental digest (OpenSSL EVP): MD5 for ETag checks while data streams
// through, SHA-256 for the checksums of large files.
class Digest {
public:
    enum class Kind { md5, sha256 };
    explicit Digest(Kind kind);
    ~Digest();
    Digest(Digest&&) noexcept;
    Digest& operator=(Digest&&) noexcept;
    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    std::string raw_digest();  // finishes; the object is reset afterwards
    std::string hex_digest() { return hex(raw_digest()); }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class Md5 : public Digest {
public:
    Md5() : Digest(Kind::md5) {}
};

class Sha256 : public Digest {
public:
    Sha256() : Digest(Kind::sha256) {}
};

std::string md5_hex(std::string_view data);

// SHA-256 of a file, read in 1 MiB pieces; throws std::runtime_error.
std::string sha256_file_hex(const std::string& path);

}  // namespace mlwm::util

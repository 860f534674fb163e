#include "util/hash.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace mlwm::util {

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 15];
    }
    return out;
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string in(text);
    while (in.size() % 4 != 0) in += '=';
    const std::size_t data_end = in.find_last_not_of('=') + 1;  // 0 when all '='
    if (in.size() - data_end > 2) return std::nullopt;
    for (std::size_t i = 0; i < data_end; ++i) {
        const unsigned char c = static_cast<unsigned char>(in[i]);
        if (!(std::isalnum(c) || c == '+' || c == '/')) return std::nullopt;
    }
    std::string out(in.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock also counts the bytes the padding stands for
    out.resize(static_cast<std::size_t>(n) - (in.size() - data_end));
    return out;
}

namespace {
std::string digest(const EVP_MD* md, std::string_view data) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), buf, &len, md, nullptr) != 1)
        throw std::runtime_error("EVP_Digest failed");
    return std::string(reinterpret_cast<char*>(buf), len);
}
}  // namespace

std::string sha256(std::string_view data) {
    return digest(EVP_sha256(), data);
}
std::string sha256_hex(std::string_view data) {
    return hex(sha256(data));
}
std::string md5_hex(std::string_view data) {
    return hex(digest(EVP_md5(), data));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), buf, &len))
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<char*>(buf), len);
}

struct Digest::Impl {
    const EVP_MD* md;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    explicit Impl(const EVP_MD* m) : md(m) { reset(); }
    ~Impl() { EVP_MD_CTX_free(ctx); }
    void reset() { EVP_DigestInit_ex(ctx, md, nullptr); }
};

Digest::Digest(Kind kind)
    : impl_(std::make_unique<Impl>(kind == Kind::md5 ? EVP_md5() : EVP_sha256())) {}
Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::update(const void* data, std::size_t size) {
    EVP_DigestUpdate(impl_->ctx, data, size);
}

std::string Digest::raw_digest() {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, buf, &len);
    impl_->reset();
    return std::string(reinterpret_cast<char*>(buf), len);
}

std::string sha256_file_hex(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot read " + path);
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), f)) h.update(buf.data(), n);
    const bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) throw std::runtime_error("reading " + path + " failed");
    return h.hex_digest();
}

}  // namespace mlwm::util

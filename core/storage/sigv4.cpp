#include "storage/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "util/hash.hpp"

namespace mlwm::storage {

std::string uri_encode(std::string_view text, bool encode_slash) {
    static constexpr char hexd[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3 / 2);
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hexd[c >> 4]);
            out.push_back(hexd[c & 15]);
        }
    }
    return out;
}

std::string canonical_query(const Params& query) {
    std::vector<std::pair<std::string, std::string>> enc;
    enc.reserve(query.size());
    for (const auto& [k, v] : query) enc.emplace_back(uri_encode(k, true), uri_encode(v, true));
    std::sort(enc.begin(), enc.end());
    std::string out;
    for (const auto& [k, v] : enc) {
        if (!out.empty()) out += '&';
        out += k + "=" + v;
    }
    return out;
}

namespace {
std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}
// Trims and collapses runs of spaces, as the canonical header form wants.
std::string trim_value(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}
}  // namespace

std::string canonical_request(const SignInput& in, std::string* signed_headers_out) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [k, v] : in.headers) headers.emplace_back(lower(k), trim_value(v));
    std::sort(headers.begin(), headers.end());
    std::string canonical_headers, signed_headers;
    for (const auto& [k, v] : headers) {
        canonical_headers += k + ":" + v + "\n";
        if (!signed_headers.empty()) signed_headers += ';';
        signed_headers += k;
    }
    if (signed_headers_out) *signed_headers_out = signed_headers;
    return in.method + "\n" + in.canonical_uri + "\n" + canonical_query(in.query) + "\n" +
           canonical_headers + "\n" + signed_headers + "\n" + in.payload_hash;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical) {
    return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
           util::sha256_hex(canonical);
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
    const std::string k_date = util::hmac_sha256("AWS4" + std::string(secret), date);
    const std::string k_region = util::hmac_sha256(k_date, region);
    const std::string k_service = util::hmac_sha256(k_region, service);
    return util::hmac_sha256(k_service, "aws4_request");
}

std::string authorization(const SignInput& in, const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date) {
    const std::string date(amz_date.substr(0, 8));
    const std::string scope =
        date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
    std::string signed_headers;
    const std::string canonical = canonical_request(in, &signed_headers);
    const std::string sts = string_to_sign(amz_date, scope, canonical);
    const std::string signature =
        util::hex(util::hmac_sha256(signing_key(creds.secret_key, date, region, service), sts));
    return "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" + scope +
           ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

}  // namespace mlwm::storage

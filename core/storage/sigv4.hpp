// AWS Signature Version 4 for S3, computed by mlwm itself (Debian's libcurl
// 7.88 CURLOPT_AWS_SIGV4 neither sorts nor encodes the query and sends no
// x-amz-content-sha256). Pure: no I/O, the time is passed in.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlwm::storage {

struct Credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token;  // optional (temporary credentials)
    bool empty() const { return access_key.empty(); }
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept,
// everything else %XX with upper-case hex; '/' kept unless `encode_slash`.
std::string uri_encode(std::string_view text, bool encode_slash);

using Params = std::vector<std::pair<std::string, std::string>>;  // unencoded

// name=value pairs, each encoded, sorted by encoded name then value, joined by '&'.
std::string canonical_query(const Params& query);

struct SignInput {
    std::string method;         // GET, PUT, ...
    std::string canonical_uri;  // the request path, already encoded (e.g. /bucket/a%20b)
    Params query;               // unencoded parameters
    Params headers;             // headers to sign (host, x-amz-*, range, ...), any case
    std::string payload_hash;   // hex SHA-256 of the body, or UNSIGNED-PAYLOAD
};

std::string canonical_request(const SignInput& in, std::string* signed_headers = nullptr);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

// The Authorization header value for the request, at `amz_date`
// (YYYYMMDDTHHMMSSZ). `in.headers` must already hold x-amz-date (and
// x-amz-content-sha256, x-amz-security-token where they are sent).
std::string authorization(const SignInput& in, const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date);

inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

}  // namespace mlwm::storage

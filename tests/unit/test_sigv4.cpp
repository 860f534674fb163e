// SigV4 against AWS's published S3 examples ("Examples: Signature Calculations
// in AWS Signature Version 4", Amazon S3 API reference): examplebucket,
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524.
#include <doctest/doctest.h>

#include "storage/sigv4.hpp"
#include "util/hash.hpp"

using namespace mlwm::storage;

namespace {
const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kDate = "20130524T000000Z";
std::string signature_of(const std::string& auth) {
    return auth.substr(auth.find("Signature=") + 10);
}
}  // namespace

TEST_CASE("AWS example: GET Object with a Range header") {
    SignInput in{"GET",
                 "/test.txt",
                 {},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Range", "bytes=0-9"},
                  {"x-amz-content-sha256", std::string(kEmptySha256)},
                  {"x-amz-date", kDate}},
                 std::string(kEmptySha256)};
    CHECK(canonical_request(in) ==
          "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(string_to_sign(kDate, "20130524/us-east-1/s3/aws4_request", canonical_request(in)) ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    const std::string auth = authorization(in, kCreds, "us-east-1", "s3", kDate);
    CHECK(auth ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("AWS example: PUT Object (a key with '$', a storage class)") {
    const std::string body = "Welcome to Amazon S3.";
    const std::string hash = mlwm::util::sha256_hex(body);
    CHECK(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    SignInput in{"PUT",
                 "/" + uri_encode("test$file.text", false),
                 {},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                  {"x-amz-date", kDate},
                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                  {"x-amz-content-sha256", hash}},
                 hash};
    CHECK(signature_of(authorization(in, kCreds, "us-east-1", "s3", kDate)) ==
          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("AWS example: GET Bucket Lifecycle (a parameter without value)") {
    SignInput in{"GET",
                 "/",
                 {{"lifecycle", ""}},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"x-amz-date", kDate},
                  {"x-amz-content-sha256", std::string(kEmptySha256)}},
                 std::string(kEmptySha256)};
    CHECK(signature_of(authorization(in, kCreds, "us-east-1", "s3", kDate)) ==
          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("AWS example: GET Bucket (List Objects): parameters sorted") {
    // given out of order on purpose: the canonical query sorts them
    SignInput in{"GET",
                 "/",
                 {{"prefix", "J"}, {"max-keys", "2"}},
                 {{"Host", "examplebucket.s3.amazonaws.com"},
                  {"x-amz-date", kDate},
                  {"x-amz-content-sha256", std::string(kEmptySha256)}},
                 std::string(kEmptySha256)};
    CHECK(canonical_query(in.query) == "max-keys=2&prefix=J");
    CHECK(signature_of(authorization(in, kCreds, "us-east-1", "s3", kDate)) ==
          "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("RFC 3986 encoding of paths and query values") {
    CHECK(uri_encode("a b+c=d%e~f/g", false) == "a%20b%2Bc%3Dd%25e~f/g");
    CHECK(uri_encode("a/b", true) == "a%2Fb");
    CHECK(uri_encode("\xc3\xa9t\xc3\xa9", false) == "%C3%A9t%C3%A9");  // UTF-8 bytes, upper hex
    CHECK(canonical_query({{"prefix", "a b/"}, {"delimiter", "/"}, {"list-type", "2"}}) ==
          "delimiter=%2F&list-type=2&prefix=a%20b%2F");
}

TEST_CASE("header values are trimmed and names lower-cased") {
    SignInput in{"GET", "/", {}, {{"X-Amz-Meta-A", "  two   spaces  "}, {"Host", "h"}}, "x"};
    CHECK(canonical_request(in) ==
          "GET\n/\n\nhost:h\nx-amz-meta-a:two spaces\n\nhost;x-amz-meta-a\nx");
}

// S3's XML documents, read and written. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/object_store.hpp"

namespace mlwm::storage {

struct ListPage {
    ListResult result;  // objects and common prefixes of this page
    bool truncated = false;
    std::string next_continuation_token;
};

// ListObjectsV2 result; keys are URL-decoded when EncodingType is "url".
// Throws StorageError for a body that is not a ListBucketResult.
ListPage parse_list_page(const std::string& xml);

struct S3ErrorDoc {
    std::string code, message, request_id, resource;
};
// The <Error> document, if the body is one.
std::optional<S3ErrorDoc> parse_error(const std::string& xml);

std::string parse_upload_id(const std::string& xml);  // InitiateMultipartUploadResult

struct CompletedPart {
    int number;
    std::string etag;
};
std::string complete_multipart_body(const std::vector<CompletedPart>& parts);
// CompleteMultipartUpload can answer 200 with an <Error> inside.
std::optional<S3ErrorDoc> parse_complete_error(const std::string& xml);

std::string delete_objects_body(const std::vector<std::string>& keys);
// Keys that failed in a DeleteObjects result, with their error.
std::vector<TransferFailure> parse_delete_errors(const std::string& xml);

std::string xml_escape(const std::string& text);
std::string url_decode(const std::string& text);  // %XX and '+' as in EncodingType=url

}  // namespace mlwm::storage

// What one S3 request's attempt came to, pure: success, worth another try,
// or a final failure, and the message that failure gets (naming the object,
// the endpoint or the S3 error, and what to check). The request pump in
// S3Store carries the verdict out (retries with backoff, or reports).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlwm::storage {

struct AttemptView {
    bool transport_error = false;  // no HTTP answer (connection refused, reset, timed out)
    bool local_io_error = false;   // mlwm's side failed (writing the file, reading the body)
    long status = 0;               // the HTTP status, when there was an answer
    const std::vector<long>* ok_statuses = nullptr;
    bool data_check_failed = false;  // an answer with the right status, but wrong data
    std::string_view response;       // the body (an S3 error document on failure)
};

struct AttemptVerdict {
    enum class Kind { ok, retryable, final } kind = Kind::final;
    std::string s3_code;  // the S3 error code (from the body, or implied by 403/404)
};
AttemptVerdict classify_attempt(const AttemptView& a);

struct FailureView {
    std::string operation, bucket, key, endpoint;
    std::string local_error;  // mlwm's side, with errno's text
    bool transport_error = false;
    std::string transport_text;  // curl's message
    std::string data_error;      // what a data check found
    long status = 0;
    std::string_view response;
    int attempts = 1;
    // for credential errors: what to check
    std::string access_key, credentials_source, region;
};
std::string failure_message(const FailureView& f);

}  // namespace mlwm::storage

#include "storage/s3_response.hpp"

#include <algorithm>

#include "storage/retry.hpp"
#include "storage/s3_xml.hpp"

namespace mlwm::storage {

namespace {
// The S3 error code of a failed answer: its error document's, or the one a
// bodiless 403/404 (HEAD) implies.
std::string s3_code_of(long status, std::string_view response) {
    if (const auto doc = parse_error(std::string(response))) return doc->code;
    if (status == 404) return "NoSuchKey";
    if (status == 403) return "AccessDenied";
    return "";
}
}  // namespace

AttemptVerdict classify_attempt(const AttemptView& a) {
    using K = AttemptVerdict::Kind;
    const bool status_ok =
        !a.transport_error && a.ok_statuses &&
        std::find(a.ok_statuses->begin(), a.ok_statuses->end(), a.status) != a.ok_statuses->end();
    if (status_ok) return {a.data_check_failed ? K::retryable : K::ok, ""};  // fetch it again
    if (a.transport_error) return {a.local_io_error ? K::final : K::retryable, ""};
    const std::string code = s3_code_of(a.status, a.response);
    if (const auto doc = parse_error(std::string(a.response)))
        return {retryable(a.status, doc->code, false) ? K::retryable : K::final, code};
    return {retryable(a.status, "", false) ? K::retryable : K::final, code};
}

std::string failure_message(const FailureView& f) {
    std::string msg = "S3 " + f.operation + " s3://" + f.bucket + "/" + f.key + ": ";
    if (!f.local_error.empty()) {
        msg += f.local_error;
    } else if (f.transport_error) {
        msg += "connection to " + f.endpoint + " failed: " + f.transport_text;
    } else if (!f.data_error.empty()) {
        msg += f.data_error;
    } else {
        msg += "HTTP " + std::to_string(f.status);
        const std::string code = s3_code_of(f.status, f.response);
        if (const auto doc = parse_error(std::string(f.response))) {
            msg += " " + doc->code;
            if (!doc->message.empty()) msg += ": " + doc->message;
            if (!doc->request_id.empty()) msg += " (RequestId " + doc->request_id + ")";
        } else if (!code.empty()) {
            msg += " " + code;
        }
        if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
            code == "AccessDenied")
            msg += f.access_key.empty()
                       ? "; no credentials were found, the request went unsigned: set "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with "
                         "~/.aws/credentials"
                       : "; check the credentials (access key " + f.access_key + " from " +
                             f.credentials_source + ") and the region (" + f.region + ")";
    }
    if (f.attempts > 1) msg += " (after " + std::to_string(f.attempts) + " attempts)";
    return msg;
}

}  // namespace mlwm::storage

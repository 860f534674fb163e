// The object store interface: S3 (libcurl, SigV4) and a local directory
// (file://) implement it with the same semantics: keys are byte strings in
// lexical order; listing supports prefix, delimiter "/", start-after.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mlwm::storage {

struct ObjectInfo {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;  // without quotes; an MD5 hex for single-part uploads
    std::string last_modified;
};

struct ListOptions {
    std::string prefix;
    std::string delimiter;     // "" (everything below prefix) or "/"
    std::string start_after;   // only keys after this one (lexical order)
    std::size_t max_keys = 0;  // 0: all (pages are followed)
};

struct ListResult {
    std::vector<ObjectInfo> objects;
    std::vector<std::string> common_prefixes;  // with delimiter: "prefix/sub/"
    std::size_t requests = 0;                  // LIST requests made
};

// A failed storage operation. `what()` names the operation, the key and, for
// S3, the error document (Code, Message, RequestId).
class StorageError : public std::runtime_error {
public:
    StorageError(std::string message, std::string code = {}, long status = 0)
        : std::runtime_error(std::move(message)), code_(std::move(code)), status_(status) {}
    const std::string& code() const { return code_; }  // e.g. NoSuchKey, AccessDenied
    long status() const { return status_; }            // HTTP status (0: none)

private:
    std::string code_;
    long status_;
};

enum class PutOutcome { created, already_exists };

struct PutOptions {
    bool if_none_match = false;  // conditional create: 412 -> already_exists
    std::string content_type = "application/octet-stream";
};

// One object of a batch transfer.
struct TransferItem {
    std::string key;
    std::filesystem::path path;
    std::uint64_t size = 0;  // known size (from the listing / the file)
    std::string etag;        // known ETag (downloads; "" if unknown)
};

struct TransferFailure {
    std::string key;
    std::string error;
};

struct TransferReport {
    std::size_t objects = 0;  // done
    std::uint64_t bytes = 0;
    std::vector<TransferFailure> failures;
    bool ok() const { return failures.empty(); }
};

struct TransferOptions {
    std::size_t concurrency = 64;  // requests in flight
    // Called from the transferring thread as bytes and objects complete.
    std::function<void(std::uint64_t bytes_delta, std::size_t objects_delta)> progress;
    // Objects not transferred by then fail ("time limit"), and nothing is
    // left half-written (a phase's timeout in the daemon).
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class ObjectStore {
public:
    virtual ~ObjectStore() = default;
    // "s3://bucket" or "file:///root": for messages.
    virtual std::string describe() const = 0;

    virtual ListResult list(const ListOptions& options) = 0;
    virtual std::optional<ObjectInfo> head(const std::string& key) = 0;
    virtual std::string get_string(const std::string& key) = 0;
    virtual PutOutcome put_string(const std::string& key, const std::string& data,
                                  const PutOptions& options = {}) = 0;
    virtual void remove(const std::string& key) = 0;
    virtual void remove_many(const std::vector<std::string>& keys) = 0;

    // Batch transfers. Each object is written under a temporary name and
    // renamed when complete and verified; failures are reported per key and
    // leave nothing behind.
    virtual TransferReport download(const std::vector<TransferItem>& items,
                                    const TransferOptions& options) = 0;
    virtual TransferReport upload(const std::vector<TransferItem>& items,
                                  const TransferOptions& options) = 0;
};

}  // namespace mlwm::storage

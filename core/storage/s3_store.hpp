// S3 over libcurl: one multi handle drives a bounded window of requests over
// reused connections; every request is signed (SigV4) by mlwm and retried
// only for the retryable classes, with full-jitter backoff.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <random>

#include "storage/object_store.hpp"
#include "storage/retry.hpp"
#include "storage/s3_config.hpp"

namespace mlwm::storage {

class CurlDriver;

struct S3Tuning {
    std::uint64_t multipart_threshold = 16ull << 20;  // uploads above: multipart
    std::uint64_t part_size = 16ull << 20;            // multipart upload part size
    std::uint64_t ranged_threshold = 32ull << 20;     // downloads above: parallel ranged GETs
    std::uint64_t range_size = 8ull << 20;
    std::chrono::seconds connect_timeout{10};
    // A transfer that moves no byte for this long is a stall: aborted, retried.
    std::chrono::seconds stall_timeout{30};
};

// Counts by operation and outcome, for metrics.
struct S3Counters {
    std::function<void(const std::string& operation, long status)> on_request;
    std::function<void(bool upload, std::uint64_t bytes)> on_bytes;
};

class S3Store : public ObjectStore {
public:
    S3Store(S3Config config, std::string bucket, RetryPolicy retry = {}, S3Tuning tuning = {});
    ~S3Store() override;

    std::string describe() const override { return "s3://" + bucket_; }
    const S3Config& config() const { return config_; }
    void set_counters(S3Counters counters) { counters_ = std::move(counters); }

    ListResult list(const ListOptions& options) override;
    std::optional<ObjectInfo> head(const std::string& key) override;
    std::string get_string(const std::string& key) override;
    PutOutcome put_string(const std::string& key, const std::string& data,
                          const PutOptions& options = {}) override;
    void remove(const std::string& key) override;
    void remove_many(const std::vector<std::string>& keys) override;
    TransferReport download(const std::vector<TransferItem>& items,
                            const TransferOptions& options) override;
    TransferReport upload(const std::vector<TransferItem>& items,
                          const TransferOptions& options) override;

    struct Request;  // one HTTP request and its retries (s3_store.cpp)

private:
    // Runs the requests, `window` at a time. After `deadline` the ones not
    // done fail (except multipart aborts, so that no parts linger).
    void execute(std::vector<std::shared_ptr<Request>> requests, std::size_t window,
                 std::chrono::steady_clock::time_point deadline =
                     std::chrono::steady_clock::time_point::max());
    std::shared_ptr<Request> make(std::string operation, std::string method, std::string key);
    void start(void* easy, Request& r);
    void spawn(std::shared_ptr<Request> r) { spawn_->push_back(std::move(r)); }
    // Runs one request; throws StorageError with its message if it failed.
    Request& run_one(const std::shared_ptr<Request>& r);

    S3Config config_;
    std::string bucket_;
    RetryPolicy retry_;
    S3Tuning tuning_;
    S3Counters counters_;
    std::string scheme_host_;  // e.g. http://127.0.0.1:7480
    std::string host_;         // Host header value
    std::mutex mutex_;         // one transfer loop at a time per store
    void* multi_ = nullptr;
    std::unique_ptr<CurlDriver> driver_;  // epoll for multi_
    std::vector<void*> idle_easy_;
    std::mt19937_64 rng_{std::random_device{}()};
    std::vector<std::shared_ptr<Request>>* spawn_ = nullptr;  // requests added by callbacks
};

}  // namespace mlwm::storage

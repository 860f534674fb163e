#include "storage/open.hpp"

#include "storage/file_store.hpp"

namespace mlwm::storage {

std::unique_ptr<ObjectStore> open_store(const Location& location, const S3Settings& settings,
                                        const S3Tuning& tuning, const RetryPolicy& retry) {
    if (location.scheme == Scheme::s3)
        return std::make_unique<S3Store>(resolve_s3_config(settings, load_s3_environment()),
                                         location.bucket, retry, tuning);
    return std::make_unique<FileStore>(location.path);
}

}  // namespace mlwm::storage

// Opening the store a location names.
#pragma once

#include <memory>

#include "storage/location.hpp"
#include "storage/object_store.hpp"
#include "storage/s3_config.hpp"
#include "storage/s3_store.hpp"

namespace mlwm::storage {

// s3://BUCKET -> S3Store (settings resolved with the environment and the
// shared files); file:///PATH and local paths -> FileStore rooted there.
std::unique_ptr<ObjectStore> open_store(const Location& location, const S3Settings& settings = {},
                                        const S3Tuning& tuning = {}, const RetryPolicy& retry = {});

}  // namespace mlwm::storage

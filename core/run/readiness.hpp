// When an input dataset is complete (issue: the daemon): its completion
// marker exists (the default, `.zmetadata`), or, for producers that write no
// marker, `quiet_period` has passed since its newest object.
#pragma once

#include <chrono>
#include <vector>

#include "config/model_config.hpp"
#include "storage/object_store.hpp"

namespace mlwm::run {

// Pure: objects exist and none was modified within `quiet` before `now`.
// An object whose LastModified cannot be read counts as new.
bool quiet_since(const std::vector<storage::ObjectInfo>& objects, std::chrono::seconds quiet,
                 std::chrono::system_clock::time_point now);

// One HEAD (marker) or one listing of the dataset (quiet period).
bool input_complete(storage::ObjectStore& store, const config::S3Place& place,
                    const std::string& completion_marker, std::chrono::seconds quiet_period,
                    std::chrono::system_clock::time_point now);

// How the input is judged complete, for messages: "s3://b/k/.zmetadata" or
// "s3://b/k/ quiet for 120 s".
std::string completion_condition(const config::S3Place& place, const std::string& completion_marker,
                                 std::chrono::seconds quiet_period);

}  // namespace mlwm::run

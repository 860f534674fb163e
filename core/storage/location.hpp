// Storage locations as users write them, and keys made safe as local paths. Pure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mlwm::storage {

enum class Scheme { s3, file, local };

struct Location {
    Scheme scheme = Scheme::local;
    std::string bucket;          // s3
    std::string key;             // s3: the key or prefix ("" = the bucket's root)
    std::filesystem::path path;  // file:// and local paths
    std::string str() const;
};

// s3://BUCKET[/KEY], file:///ABSOLUTE/PATH, or a local path. Throws
// std::invalid_argument naming the text and the expected form.
Location parse_location(std::string_view text);

// The relative path under which `key` (found below `prefix`) is written in a
// target folder. Refuses anything that could escape the folder or is not a
// plain relative path: "..", ".", empty segments, a leading '/', NUL,
// backslashes, segments over 255 bytes. Throws StorageError naming the key.
std::filesystem::path safe_relative_path(std::string_view key, std::string_view prefix);

// True for a zero-size "folder marker" object (a key ending in '/').
inline bool is_folder_marker(std::string_view key, std::uint64_t size) {
    return size == 0 && !key.empty() && key.back() == '/';
}

}  // namespace mlwm::storage

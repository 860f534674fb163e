#include "storage/location.hpp"

#include <stdexcept>

#include "paths/key.hpp"
#include "storage/object_store.hpp"

namespace mlwm::storage {

std::string Location::str() const {
    switch (scheme) {
        case Scheme::s3: return "s3://" + bucket + "/" + key;
        case Scheme::file: return "file://" + path.string();
        case Scheme::local: return path.string();
    }
    return "";
}

Location parse_location(std::string_view text) {
    Location loc;
    if (text.starts_with("s3://")) {
        loc.scheme = Scheme::s3;
        const auto rest = text.substr(5);
        const auto slash = rest.find('/');
        loc.bucket = std::string(rest.substr(0, slash));
        if (slash != std::string_view::npos) loc.key = std::string(rest.substr(slash + 1));
        try {
            paths::check_bucket_name(loc.bucket);
        } catch (const std::exception& e) {
            throw std::invalid_argument("'" + std::string(text) + "': " + e.what() +
                                        " (expected s3://BUCKET/KEY)");
        }
        return loc;
    }
    if (text.starts_with("file://")) {
        loc.scheme = Scheme::file;
        const auto p = text.substr(7);
        if (p.empty() || p.front() != '/')
            throw std::invalid_argument("'" + std::string(text) +
                                        "': expected file:///ABSOLUTE/PATH (three slashes)");
        loc.path = std::string(p);
        return loc;
    }
    if (text.find("://") != std::string_view::npos)
        throw std::invalid_argument("'" + std::string(text) +
                                    "': unknown scheme (expected s3://, file:// or a local path)");
    if (text.empty())
        throw std::invalid_argument(
            "empty location (expected s3://BUCKET/KEY, file:///PATH or a local path)");
    loc.path = std::string(text);
    return loc;
}

std::filesystem::path safe_relative_path(std::string_view key, std::string_view prefix) {
    auto fail = [&](const std::string& why) -> std::filesystem::path {
        throw StorageError("key '" + std::string(key) + "': " + why + "; refusing to write it");
    };
    if (!key.starts_with(prefix))
        return fail("is not below the prefix '" + std::string(prefix) + "'");
    std::string_view rel = key.substr(prefix.size());
    if (!prefix.empty() && prefix.back() != '/' && rel.starts_with("/")) rel.remove_prefix(1);
    if (rel.empty()) return fail("names the prefix itself, not an object below it");
    if (rel.find('\0') != std::string_view::npos) return fail("contains a NUL byte");
    if (rel.find('\\') != std::string_view::npos) return fail("contains a backslash");
    if (rel.front() == '/') return fail("is an absolute path below the prefix");
    std::filesystem::path out;
    std::size_t start = 0;
    while (true) {
        const auto end = rel.find('/', start);
        const auto seg = rel.substr(start, end == std::string_view::npos ? end : end - start);
        if (seg.empty()) return fail("has an empty path segment");
        if (seg == "." || seg == "..") return fail("has a '" + std::string(seg) + "' segment");
        if (seg.size() > 255) return fail("has a segment longer than 255 bytes");
        out /= std::string(seg);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

}  // namespace mlwm::storage

#include "fetch.hpp"

#include <unistd.h>

#include "storage/file_store.hpp"
#include "storage/http_download.hpp"
#include "storage/open.hpp"

namespace mlwm::app {
namespace fs = std::filesystem;

std::vector<cli::OptionSpec> s3_options() {
    return {
        {"endpoint-url", "URL",
         "S3 endpoint (default: AWS_ENDPOINT_URL, the shared config, or AWS)"},
        {"region", "REGION", "S3 region (default: AWS_REGION, the shared config, or us-east-1)"},
        {"profile", "NAME",
         "profile in ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE)"}};
}

storage::S3Settings s3_settings_from(const cli::ParsedArgs& a) {
    storage::S3Settings s;
    s.endpoint = a.get("endpoint-url").value_or("");
    s.region = a.get("region").value_or("");
    s.profile = a.get("profile").value_or("");
    return s;
}

Fetched::~Fetched() {
    std::error_code ec;
    if (!temp.empty()) fs::remove_all(temp, ec);
}

Fetched fetch_to_local(const std::string& uri, const cli::ParsedArgs& a) {
    Fetched f;
    if (storage::is_http_url(uri)) {
        f.temp = fs::temp_directory_path() / ("mlwm-fetch-" + std::to_string(::getpid()));
        fs::create_directories(f.temp);
        std::string name = uri.substr(0, uri.find_first_of("?#"));
        name = name.substr(name.find_last_of('/') + 1);
        f.path = f.temp / (name.empty() || name == "." || name == ".." ? "artifact.zip" : name);
        const storage::Downloaded d = storage::download_url(uri, f.path);
        f.sha256 = d.sha256_hex;
        return f;
    }
    const storage::Location loc = storage::parse_location(uri);
    if (loc.scheme != storage::Scheme::s3) {
        f.path = loc.path;
        if (!fs::is_regular_file(f.path)) throw std::invalid_argument(uri + ": no such file");
        return f;
    }
    auto store = storage::open_store(loc, s3_settings_from(a));
    const auto info = store->head(loc.key);
    if (!info) throw storage::StorageError(uri + ": no such object", "NoSuchKey", 404);
    f.temp = fs::temp_directory_path() / ("mlwm-fetch-" + std::to_string(::getpid()));
    fs::create_directories(f.temp);
    f.path = f.temp / fs::path(loc.key).filename();
    const auto r = store->download({{loc.key, f.path, info->size, info->etag}}, {});
    if (!r.ok()) throw storage::StorageError(r.failures.front().error);
    return f;
}

void upload_file(const fs::path& file, const storage::Location& dest, const cli::ParsedArgs& a) {
    if (dest.scheme != storage::Scheme::s3) {
        storage::copy_file_atomically(file, dest.path);
        return;
    }
    auto store = storage::open_store(dest, s3_settings_from(a));
    const auto r = store->upload({{dest.key, file, fs::file_size(file), ""}}, {});
    if (!r.ok()) throw storage::StorageError(r.failures.front().error);
}

}  // namespace mlwm::app

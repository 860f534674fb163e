// Getting a file from where a user names it (path, file://, s3://, https://) and
// putting one there: shared by the artifact and image commands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "storage/location.hpp"
#include "storage/s3_config.hpp"

namespace mlwm::app {

// The --endpoint-url, --region and --profile options of every command that
// talks to S3, and the settings they give.
std::vector<cli::OptionSpec> s3_options();
storage::S3Settings s3_settings_from(const cli::ParsedArgs& a);

struct Fetched {
    std::filesystem::path path;  // a local file
    std::filesystem::path temp;  // removed at scope exit ("" when nothing was downloaded)
    std::string sha256;          // of an https:// download ("" otherwise)
    ~Fetched();
};
Fetched fetch_to_local(const std::string& uri, const cli::ParsedArgs& a);

void upload_file(const std::filesystem::path& file, const storage::Location& dest,
                 const cli::ParsedArgs& a);

}  // namespace mlwm::app

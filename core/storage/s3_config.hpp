// Where an S3 store is and who we are: endpoint, region, addressing and
// credentials, resolved from (in order) explicit configuration, the
// environment (AWS_ACCESS_KEY_ID, ...), and the shared files (~/.aws/...).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "storage/sigv4.hpp"

namespace mlwm::storage {

struct S3Config {
    std::string endpoint;  // http(s)://host[:port]; "" = AWS for the region
    std::string region;
    bool virtual_hosted = false;  // bucket.host instead of host/bucket
    Credentials credentials;
    std::string credentials_source;  // "configuration", "environment", "~/.aws/credentials [p]"
};

// What was given explicitly (mlwm.yaml, command line); empty fields are
// filled from the environment and the shared files.
struct S3Settings {
    std::string endpoint, region, profile;
    std::optional<bool> virtual_hosted;
    Credentials credentials;
};

// The environment and file contents to resolve from (injected for tests).
struct S3Environment {
    std::map<std::string, std::string> vars;  // AWS_* variables
    std::string credentials_file;             // contents of the shared credentials file
    std::string config_file;                  // contents of the shared config file
    std::string credentials_path = "~/.aws/credentials", config_path = "~/.aws/config";
};

S3Environment load_s3_environment();  // reads the process environment and the files
S3Config resolve_s3_config(const S3Settings& settings, const S3Environment& env);

// INI as the AWS shared files write it: section -> key -> value. In the config
// file, sections are "profile NAME" (and "default").
std::map<std::string, std::map<std::string, std::string>> parse_ini(const std::string& text);

}  // namespace mlwm::storage

#include "storage/s3_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mlwm::storage {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string get(const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? "" : it->second;
}

}  // namespace

std::map<std::string, std::map<std::string, std::string>> parse_ini(const std::string& text) {
    std::map<std::string, std::map<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line, section;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
            section = trim(line.substr(1, line.size() - 2));
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        out[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return out;
}

S3Environment load_s3_environment() {
    S3Environment env;
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
          "AWS_ENDPOINT_URL_S3", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "HOME"})
        if (const char* v = std::getenv(name)) env.vars[name] = v;
    const std::string home = get(env.vars, "HOME");
    env.credentials_path = get(env.vars, "AWS_SHARED_CREDENTIALS_FILE");
    if (env.credentials_path.empty()) env.credentials_path = home + "/.aws/credentials";
    env.config_path = get(env.vars, "AWS_CONFIG_FILE");
    if (env.config_path.empty()) env.config_path = home + "/.aws/config";
    env.credentials_file = read_all(env.credentials_path);
    env.config_file = read_all(env.config_path);
    return env;
}

S3Config resolve_s3_config(const S3Settings& s, const S3Environment& env) {
    S3Config c;
    std::string profile = s.profile;
    if (profile.empty()) profile = get(env.vars, "AWS_PROFILE");
    if (profile.empty()) profile = get(env.vars, "AWS_DEFAULT_PROFILE");
    if (profile.empty()) profile = "default";
    const auto creds_ini = parse_ini(env.credentials_file);
    const auto config_ini = parse_ini(env.config_file);
    const std::string config_section = profile == "default" ? "default" : "profile " + profile;
    const auto creds_section = creds_ini.find(profile);
    const auto conf_section = config_ini.find(config_section);
    auto from_files = [&](const std::string& key) {
        if (creds_section != creds_ini.end()) {
            const std::string v = get(creds_section->second, key);
            if (!v.empty()) return v;
        }
        return conf_section != config_ini.end() ? get(conf_section->second, key) : std::string();
    };

    if (!s.credentials.empty()) {
        c.credentials = s.credentials;
        c.credentials_source = "configuration";
    } else if (!get(env.vars, "AWS_ACCESS_KEY_ID").empty()) {
        c.credentials = {get(env.vars, "AWS_ACCESS_KEY_ID"), get(env.vars, "AWS_SECRET_ACCESS_KEY"),
                         get(env.vars, "AWS_SESSION_TOKEN")};
        c.credentials_source = "environment (AWS_ACCESS_KEY_ID)";
    } else if (!from_files("aws_access_key_id").empty()) {
        c.credentials = {from_files("aws_access_key_id"), from_files("aws_secret_access_key"),
                         from_files("aws_session_token")};
        c.credentials_source = "shared files, profile '" + profile + "'";
    }

    c.region = s.region;
    if (c.region.empty()) c.region = get(env.vars, "AWS_REGION");
    if (c.region.empty()) c.region = get(env.vars, "AWS_DEFAULT_REGION");
    if (c.region.empty()) c.region = from_files("region");
    if (c.region.empty()) c.region = "us-east-1";

    c.endpoint = s.endpoint;
    if (c.endpoint.empty()) c.endpoint = get(env.vars, "AWS_ENDPOINT_URL_S3");
    if (c.endpoint.empty()) c.endpoint = get(env.vars, "AWS_ENDPOINT_URL");
    if (c.endpoint.empty()) c.endpoint = from_files("endpoint_url");
    const bool aws = c.endpoint.empty();
    if (aws) c.endpoint = "https://s3." + c.region + ".amazonaws.com";
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    // on-premises stores want path-style; AWS itself prefers virtual-hosted
    c.virtual_hosted = s.virtual_hosted.value_or(aws);
    return c;
}

}  // namespace mlwm::storage

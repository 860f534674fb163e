// Registry credentials as the docker CLI finds them: ~/.docker/config.json
// (or $DOCKER_CONFIG/config.json) `auths` entries, `credHelpers` per registry
// and the default `credsStore` (docker-credential-<name> get), handed to the
// engine as the X-Registry-Auth header of a push or pull.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace mlwm::docker {

struct RegistryCredentials {
    std::string username;
    std::string password;
    std::string identity_token;  // instead of a password (OAuth refresh token)
    std::string server;          // the registry, as the engine expects it
    std::string source;          // where they came from, for messages (no secret)
};

// The registry part of a repository, as the docker CLI decides it: the first
// path component when it has a '.' or ':' or is "localhost", else Docker Hub
// ("docker.io").
std::string registry_of(const std::string& repository);

// Asks a credential helper: given the helper's name and the registry, its
// answer on stdout ({"Username", "Secret"}) or std::nullopt when it has none.
using CredentialHelper = std::function<std::optional<std::string>(const std::string& helper,
                                                                  const std::string& registry)>;
// Runs docker-credential-<helper> get; throws std::runtime_error when it fails
// other than with "credentials not found".
std::optional<std::string> run_credential_helper(const std::string& helper,
                                                 const std::string& registry);

// The credentials a docker config (its parsed JSON, `file` for messages)
// holds for `registry` (credHelpers, then auths, then credsStore), or
// std::nullopt. Throws std::invalid_argument naming the file and key for a
// malformed entry. Pure but for the helper it calls.
std::optional<RegistryCredentials> find_credentials(const nlohmann::json& config,
                                                    const std::string& file,
                                                    const std::string& registry,
                                                    const CredentialHelper& helper);

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::filesystem::path docker_config_path();
// find_credentials on that file (none when it does not exist).
std::optional<RegistryCredentials> credentials_for(const std::string& registry);

// The X-Registry-Auth value: base64url of {"username","password","serveraddress"}
// or {"identitytoken","serveraddress"}; "e30=" ({}) without credentials.
std::string registry_auth_header(const std::optional<RegistryCredentials>& credentials);

// registry_auth_header(credentials_for(registry_of(repository))): what
// DockerClient::set_registry_auth takes to authenticate like the docker CLI.
std::string registry_auth_for(const std::string& repository);

}  // namespace mlwm::docker

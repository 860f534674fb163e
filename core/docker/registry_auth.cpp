#include "docker/registry_auth.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/hash.hpp"
#include "util/process.hpp"

namespace mlwm::docker {
namespace {

// "https://127.0.0.1:5000/v1/" and "127.0.0.1:5000" name one registry.
std::string normalise(std::string key) {
    for (const char* scheme : {"https://", "http://"})
        if (key.starts_with(scheme)) key = key.substr(std::string(scheme).size());
    if (const auto slash = key.find('/'); slash != std::string::npos) key.resize(slash);
    if (key == "index.docker.io" || key == "registry-1.docker.io") key = "docker.io";
    return key;
}

const char* kHubServer = "https://index.docker.io/v1/";

RegistryCredentials from_helper(const std::string& answer, const std::string& helper,
                                const std::string& registry) {
    const auto j = nlohmann::json::parse(answer, nullptr, false);
    if (!j.is_object() || !j.contains("Username") || !j.contains("Secret") ||
        !j["Username"].is_string() || !j["Secret"].is_string())
        throw std::runtime_error("docker-credential-" + helper + " get " + registry +
                                 ": expected {\"Username\", \"Secret\"} on stdout");
    RegistryCredentials c;
    c.source = "docker-credential-" + helper;
    if (j["Username"] == "<token>")
        c.identity_token = j["Secret"];
    else
        c.username = j["Username"], c.password = j["Secret"];
    return c;
}

}  // namespace

std::string registry_of(const std::string& repository) {
    const auto slash = repository.find('/');
    if (slash == std::string::npos) return "docker.io";
    const std::string first = repository.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") return first;
    return "docker.io";
}

std::optional<std::string> run_credential_helper(const std::string& helper,
                                                 const std::string& registry) {
    const auto r = util::run_process({"docker-credential-" + helper, "get"}, {}, registry + "\n");
    if (r.exit_code == 0) return r.out;
    if (r.out.find("credentials not found") != std::string::npos) return std::nullopt;
    std::string why = r.out.empty() ? r.err : r.out;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    throw std::runtime_error("docker-credential-" + helper + " get " + registry + ": " +
                             (why.empty() ? "failed" : why));
}

std::optional<RegistryCredentials> find_credentials(const nlohmann::json& config,
                                                    const std::string& file,
                                                    const std::string& registry,
                                                    const CredentialHelper& helper) {
    const std::string want = normalise(registry);
    const std::string server = want == "docker.io" ? kHubServer : want;
    auto finish = [&](RegistryCredentials c) {
        c.server = server;
        return c;
    };
    if (!config.is_object())
        throw std::invalid_argument(file + ": expected a JSON object (a docker config)");
    // a helper named for this registry
    if (auto hs = config.find("credHelpers"); hs != config.end() && hs->is_object())
        for (const auto& [key, name] : hs->items())
            if (normalise(key) == want && name.is_string())
                if (auto answer = helper(name.get<std::string>(), server))
                    return finish(from_helper(*answer, name.get<std::string>(), server));
    // auths: {"auth": base64(user:password)} or username/password, identitytoken
    if (auto auths = config.find("auths"); auths != config.end() && auths->is_object())
        for (const auto& [key, entry] : auths->items()) {
            if (normalise(key) != want || !entry.is_object()) continue;
            const std::string where = file + ": auths." + key;
            RegistryCredentials c;
            c.source = file;
            if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->empty()) {
                const auto decoded = util::base64_decode(a->get<std::string>());
                const auto colon = decoded ? decoded->find(':') : std::string::npos;
                if (colon == std::string::npos)
                    throw std::invalid_argument(where +
                                                ".auth: expected base64 of USERNAME:PASSWORD");
                c.username = decoded->substr(0, colon);
                c.password = decoded->substr(colon + 1);
            } else {
                c.username = entry.value("username", "");
                c.password = entry.value("password", "");
            }
            c.identity_token = entry.value("identitytoken", "");
            if (!c.username.empty() || !c.identity_token.empty()) return finish(c);
            // an empty entry (docker login with a credsStore writes one): ask the store
        }
    if (auto store = config.find("credsStore");
        store != config.end() && store->is_string() && !store->get<std::string>().empty())
        if (auto answer = helper(store->get<std::string>(), server))
            return finish(from_helper(*answer, store->get<std::string>(), server));
    return std::nullopt;
}

std::filesystem::path docker_config_path() {
    if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d)
        return std::filesystem::path(d) / "config.json";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : "/root") / ".docker" / "config.json";
}

std::optional<RegistryCredentials> credentials_for(const std::string& registry) {
    const auto file = docker_config_path();
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    const auto config = nlohmann::json::parse(text.str(), nullptr, false);
    if (config.is_discarded())
        throw std::invalid_argument(file.string() + ": not valid JSON (a docker config)");
    return find_credentials(config, file.string(), registry, run_credential_helper);
}

std::string registry_auth_header(const std::optional<RegistryCredentials>& credentials) {
    nlohmann::json j = nlohmann::json::object();
    if (credentials) {
        if (!credentials->identity_token.empty()) {
            j["identitytoken"] = credentials->identity_token;
        } else {
            j["username"] = credentials->username;
            j["password"] = credentials->password;
        }
        j["serveraddress"] = credentials->server;
    }
    std::string b = util::base64(j.dump());
    for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;  // URL-safe, as the CLI sends it
    return b;
}

std::string registry_auth_for(const std::string& repository) {
    return registry_auth_header(credentials_for(registry_of(repository)));
}

}  // namespace mlwm::docker

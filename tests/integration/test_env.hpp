// What the integration tests run against: set by tests/integration/run.sh,
// which starts the services. A missing variable is a failure, not a skip.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace mlwm::test {

inline std::string require_env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v)
        throw std::runtime_error(std::string(name) +
                                 " is not set: run the integration tests through tests/run.sh "
                                 "(it starts the services they need)");
    return v;
}

inline std::string docker_socket() {
    return require_env("MLWM_TEST_DOCKER_SOCKET");
}
inline std::string test_image() {
    return require_env("MLWM_TEST_IMAGE");
}
// "docker" or "podman"
inline std::string engine() {
    return require_env("MLWM_TEST_ENGINE");
}

// A fresh directory under the test temp root, removed at scope exit.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mlwm-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Runs a shell command, returns its stdout; throws on a non-zero exit.
std::string shell(const std::string& command);

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

}  // namespace mlwm::test

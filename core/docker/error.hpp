// Errors from the container engine.
#pragma once

#include <stdexcept>
#include <string>

namespace mlwm::docker {

// The engine answered with an error. `what()` reads
//   "<operation>: HTTP <status>: <the engine's message, verbatim>"
// or, for an error inside a streamed answer whose status was 200 (a failed
// build step, a failed pull), "<operation>: <message>".
class DockerError : public std::runtime_error {
public:
    DockerError(std::string operation, long status, std::string message)
        : std::runtime_error(operation + (status == 200 ? "" : ": HTTP " + std::to_string(status)) +
                             ": " + message),
          operation_(std::move(operation)),
          status_(status),
          message_(std::move(message)) {}
    const std::string& operation() const { return operation_; }
    long status() const { return status_; }
    const std::string& engine_message() const { return message_; }

private:
    std::string operation_;
    long status_;
    std::string message_;
};

// The engine could not be reached at all (no socket, permission denied,
// nothing listening, connection dropped). `what()` is one line that says
// what to do.
class EngineUnreachable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace mlwm::docker

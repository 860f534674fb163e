// One process at a time for a folder: an advisory lock (flock) on a file in
// it, held until the process ends (or the object is destroyed), with the
// holder's pid written in the file for the message the next one gets.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

namespace mlwm::util {

class InstanceLockError : public std::runtime_error {
public:
    InstanceLockError(const std::string& what, std::string pid, bool is_held)
        : std::runtime_error(what), holder_pid(std::move(pid)), held(is_held) {}
    std::string holder_pid;  // "" when unknown
    bool held;               // another process holds the lock (else: the file is unusable)
};

class InstanceLock {
public:
    // Creates the file if needed. Throws InstanceLockError naming the file
    // and, when another process holds it, that process's pid.
    explicit InstanceLock(const std::filesystem::path& file);
    ~InstanceLock();
    InstanceLock(const InstanceLock&) = delete;
    InstanceLock& operator=(const InstanceLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace mlwm::util

#include "util/instance_lock.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace mlwm::util {

InstanceLock::InstanceLock(const std::filesystem::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw InstanceLockError(
            "cannot open the lock file " + file.string() + ": " + std::strerror(errno), "", false);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
            holder.pop_back();
        if (err == EWOULDBLOCK)
            throw InstanceLockError("another process" +
                                        (holder.empty() ? std::string() : " (pid " + holder + ")") +
                                        " holds " + file.string(),
                                    holder, true);
        throw InstanceLockError("cannot lock " + file.string() + ": " + std::strerror(err), "",
                                false);
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // the lock holds without the pid; only the message of the next one is poorer
    }
}

InstanceLock::~InstanceLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace mlwm::util

#include "storage/file_store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/location.hpp"
#include "util/time.hpp"

namespace mlwm::storage {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPartialMarker = ".mlwm-partial-";

bool is_partial(const std::string& name) {
    return name.find(kPartialMarker) != std::string::npos;
}

fs::path temp_beside(const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    return target.parent_path() / ("." + target.filename().string() + std::string(kPartialMarker) +
                                   std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

[[noreturn]] void io_error(const std::string& what, const fs::path& p) {
    throw StorageError(what + " " + p.string() + ": " + std::strerror(errno));
}

// rename, or with no_replace an atomic link-and-unlink that fails if `to` exists
bool place(const fs::path& tmp, const fs::path& to, bool no_replace) {
    if (!no_replace) {
        if (::rename(tmp.c_str(), to.c_str()) != 0) io_error("cannot rename into place", to);
        return true;
    }
    if (::link(tmp.c_str(), to.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        if (err == EEXIST) return false;
        errno = err;
        io_error("cannot create", to);
    }
    ::unlink(tmp.c_str());
    return true;
}

}  // namespace

void copy_file_atomically(const fs::path& from, const fs::path& to, bool no_replace) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) io_error("cannot read", from);
    struct stat sb {};
    ::fstat(in, &sb);
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    const fs::path tmp = temp_beside(to);
    const int out = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (out < 0) {
        ::close(in);
        io_error("cannot create", tmp);
    }
    off_t copied = 0;
    bool ok = true;
    while (copied < sb.st_size) {
        const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr,
                                            static_cast<std::size_t>(sb.st_size - copied), 0);
        if (n > 0) {
            copied += n;
            continue;
        }
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            const ssize_t m =
                ::sendfile(out, in, nullptr, static_cast<std::size_t>(sb.st_size - copied));
            if (m > 0) {
                copied += m;
                continue;
            }
        }
        ok = false;  // error, or the file shrank
        break;
    }
    const int saved = errno;
    ::close(in);
    if (::close(out) != 0) ok = false;
    if (!ok || copied != sb.st_size) {
        ::unlink(tmp.c_str());
        errno = saved;
        throw StorageError("copying " + from.string() + " to " + to.string() + " failed after " +
                           std::to_string(copied) + " of " + std::to_string(sb.st_size) +
                           " bytes: " + std::strerror(saved));
    }
    if (!place(tmp, to, no_replace))
        throw StorageError(to.string() + " already exists", "PreconditionFailed", 412);
}

bool write_file_atomically(const fs::path& to, const std::string& data, bool no_replace) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    const fs::path tmp = temp_beside(to);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        out.close();
        if (!out) {
            fs::remove(tmp, ec);
            throw StorageError("cannot write " + tmp.string());
        }
    }
    return place(tmp, to, no_replace);
}

namespace {
// A file's modification time as S3 gives LastModified.
std::string modified(fs::file_time_type t) {
    return util::format_utc(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                                std::chrono::file_clock::to_sys(t)),
                            true);
}
}  // namespace

FileStore::FileStore(fs::path root) : root_(std::move(root)) {
    if (!root_.is_absolute()) root_ = fs::absolute(root_);
}

fs::path FileStore::path_of(const std::string& key) const {
    return root_ / safe_relative_path(key, "");
}

ListResult FileStore::list(const ListOptions& o) {
    if (!o.delimiter.empty() && o.delimiter != "/")
        throw StorageError("list " + describe() + ": only the delimiter '/' is supported");
    ListResult out;
    out.requests = 1;
    // walk from the deepest folder the prefix names
    const auto slash = o.prefix.rfind('/');
    const std::string dir_prefix = slash == std::string::npos ? "" : o.prefix.substr(0, slash + 1);
    const fs::path start = dir_prefix.empty() ? root_ : root_ / dir_prefix;
    std::error_code ec;
    if (!fs::is_directory(start, ec)) return out;

    std::vector<std::string> keys;  // objects, with their sizes below
    std::vector<std::uint64_t> sizes;
    std::vector<std::string> times;
    std::vector<std::string> prefixes;
    auto walk = [&](auto&& self, const fs::path& dir, const std::string& key_dir) -> void {
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            const std::string name = e.path().filename().string();
            if (is_partial(name)) continue;
            const std::string key = key_dir + name;
            std::error_code sec;
            if (e.is_directory(sec)) {
                const std::string sub = key + "/";
                // skip subtrees that cannot hold a key with the prefix
                if (!(sub.starts_with(o.prefix) || o.prefix.starts_with(sub))) continue;
                if (!o.delimiter.empty() && sub.starts_with(o.prefix) &&
                    sub.size() > o.prefix.size()) {
                    prefixes.push_back(sub);  // rolled up; start-after checked below
                    continue;
                }
                self(self, e.path(), sub);
            } else if (e.is_regular_file(sec) && key.starts_with(o.prefix) && key > o.start_after) {
                keys.push_back(key);
                sizes.push_back(static_cast<std::uint64_t>(e.file_size(sec)));
                times.push_back(modified(e.last_write_time(sec)));
            }
        }
    };
    walk(walk, start, dir_prefix);
    // a common prefix is listed if it holds any key after start-after
    std::vector<std::string> kept;
    for (const auto& p : prefixes) {
        if (p > o.start_after) {
            kept.push_back(p);
        } else if (o.start_after.starts_with(p)) {
            ListOptions inner{p, "", o.start_after, 1};
            if (!list(inner).objects.empty()) kept.push_back(p);
        }
    }
    // merge objects and prefixes in lexical order, up to max_keys
    std::vector<std::size_t> order(keys.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    std::sort(kept.begin(), kept.end());
    std::size_t i = 0, j = 0;
    while (i < order.size() || j < kept.size()) {
        if (o.max_keys > 0 && out.objects.size() + out.common_prefixes.size() >= o.max_keys) break;
        if (j >= kept.size() || (i < order.size() && keys[order[i]] < kept[j])) {
            out.objects.push_back({keys[order[i]], sizes[order[i]], "", times[order[i]]});
            ++i;
        } else {
            out.common_prefixes.push_back(kept[j++]);
        }
    }
    return out;
}

std::optional<ObjectInfo> FileStore::head(const std::string& key) {
    struct stat sb {};
    const fs::path p = path_of(key);
    if (::stat(p.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) return std::nullopt;
    std::error_code ec;
    return ObjectInfo{key, static_cast<std::uint64_t>(sb.st_size), "",
                      modified(fs::last_write_time(p, ec))};
}

std::string FileStore::get_string(const std::string& key) {
    std::ifstream in(path_of(key), std::ios::binary);
    if (!in)
        throw StorageError("get " + describe() + "/" + key + ": no such object", "NoSuchKey", 404);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

PutOutcome FileStore::put_string(const std::string& key, const std::string& data,
                                 const PutOptions& o) {
    return write_file_atomically(path_of(key), data, o.if_none_match) ? PutOutcome::created
                                                                      : PutOutcome::already_exists;
}

void FileStore::remove(const std::string& key) {
    fs::path p = path_of(key);
    std::error_code ec;
    fs::remove(p, ec);
    // no empty folders: S3 has none
    for (p = p.parent_path(); p != root_ && p.string().size() > root_.string().size();
         p = p.parent_path())
        if (!fs::remove(p, ec)) break;  // not empty (or gone)
}

void FileStore::remove_many(const std::vector<std::string>& keys) {
    for (const auto& k : keys) remove(k);
}

namespace {
// Copies every item from `source(item)` to `target(item)`, each atomically.
template <class Source, class Target>
TransferReport copy_items(const std::vector<TransferItem>& items, const TransferOptions& o,
                          Source source, Target target) {
    TransferReport report;
    for (const auto& item : items) {
        if (std::chrono::steady_clock::now() > o.deadline) {
            report.failures.push_back({item.key, "not copied: the transfer's time limit passed"});
            continue;
        }
        try {
            copy_file_atomically(source(item), target(item));
            ++report.objects;
            report.bytes += item.size;
            if (o.progress) o.progress(item.size, 1);
        } catch (const std::exception& e) {
            report.failures.push_back({item.key, e.what()});
        }
    }
    return report;
}
}  // namespace

TransferReport FileStore::download(const std::vector<TransferItem>& items,
                                   const TransferOptions& o) {
    return copy_items(
        items, o, [this](const TransferItem& i) { return path_of(i.key); },
        [](const TransferItem& i) { return i.path; });
}

TransferReport FileStore::upload(const std::vector<TransferItem>& items, const TransferOptions& o) {
    return copy_items(
        items, o, [](const TransferItem& i) { return i.path; },
        [this](const TransferItem& i) { return path_of(i.key); });
}

}  // namespace mlwm::storage

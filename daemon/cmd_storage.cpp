// `mlwm cp` and `mlwm ls`: copies between S3, file:// stores and local paths.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "command.hpp"
#include "fetch.hpp"
#include "storage/file_store.hpp"
#include "storage/open.hpp"
#include "storage/transfer.hpp"

namespace mlwm::app {
namespace {
namespace fs = std::filesystem;
using namespace storage;
using Clock = std::chrono::steady_clock;

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
    return buf;
}

// objects, bytes, rate and ETA on one terminal line; nothing when stderr is
// not a terminal
class Progress {
public:
    Progress(std::size_t objects, std::uint64_t bytes, bool enabled)
        : total_objects_(objects),
          total_bytes_(bytes),
          enabled_(enabled && ::isatty(STDERR_FILENO)) {}
    void add(std::uint64_t bytes, std::size_t objects) {
        bytes_ += bytes;
        objects_ += objects;
        const auto now = Clock::now();
        if (!enabled_ || now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double rate = secs > 0 ? static_cast<double>(bytes_) / secs : 0;
        const double eta =
            rate > 0 ? static_cast<double>(total_bytes_ - std::min(bytes_, total_bytes_)) / rate
                     : 0;
        std::fprintf(stderr, "\r%zu/%zu objects  %s/%s  %s/s  ETA %.0f s   ", objects_,
                     total_objects_, human_bytes(static_cast<double>(bytes_)).c_str(),
                     human_bytes(static_cast<double>(total_bytes_)).c_str(),
                     human_bytes(rate).c_str(), eta);
        shown_ = true;
    }
    void done() {
        if (shown_) std::fprintf(stderr, "\r\033[K");
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    std::size_t total_objects_, objects_ = 0;
    std::uint64_t total_bytes_, bytes_ = 0;
    bool enabled_, shown_ = false;
    Clock::time_point start_ = Clock::now(), last_{};
};

std::size_t concurrency(const cli::ParsedArgs& a) {
    const std::string v = a.get("concurrency").value_or("64");
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1 || n > 256)
        throw std::invalid_argument("--concurrency '" + v + "': expected an integer from 1 to 256");
    return static_cast<std::size_t>(n);
}

// file:// and local paths are both the local filesystem for cp
bool is_remote(const Location& l) {
    return l.scheme == Scheme::s3;
}

int report_and_exit(const TransferReport& r, const Progress& p, const std::string& verb) {
    for (std::size_t i = 0; i < r.failures.size() && i < 20; ++i)
        std::cerr << "failed: " << r.failures[i].key << ": " << r.failures[i].error << "\n";
    if (r.failures.size() > 20)
        std::cerr << "... and " << r.failures.size() - 20 << " more failures\n";
    const double secs = p.seconds();
    char line[256];
    std::snprintf(
        line, sizeof line, "%s %zu objects (%s) in %.2f s, %s/s%s", verb.c_str(), r.objects,
        human_bytes(static_cast<double>(r.bytes)).c_str(), secs,
        human_bytes(secs > 0 ? static_cast<double>(r.bytes) / secs : 0).c_str(),
        r.failures.empty() ? "" : (", " + std::to_string(r.failures.size()) + " failed").c_str());
    std::cerr << line << "\n";
    return r.ok() ? kExitOk : kExitFailure;
}

TransferReport run_plan(ObjectStore& store, const TransferPlan& plan, bool upload,
                        std::size_t window, Progress& progress) {
    TransferOptions opts{.concurrency = window,
                         .progress = [&](std::uint64_t b, std::size_t o) { progress.add(b, o); }};
    TransferReport r = upload ? store.upload(plan.items, opts) : store.download(plan.items, opts);
    progress.done();
    return r;
}

int cp(const cli::ParsedArgs& a) {
    const Location src = parse_location(a.positionals.at(0));
    const Location dst = parse_location(a.positionals.at(1));
    const bool recursive = a.has("recursive");
    const std::size_t window = concurrency(a);
    const bool show = !a.has("quiet");
    const S3Settings settings = s3_settings_from(a);

    if (!is_remote(src) && !is_remote(dst) && !recursive) {
        copy_file_atomically(
            src.path, fs::is_directory(dst.path) ? dst.path / src.path.filename() : dst.path);
        return kExitOk;
    }
    if (is_remote(src) && is_remote(dst)) {  // through a local temporary folder
        const fs::path tmp = fs::temp_directory_path() / ("mlwm-cp-" + std::to_string(::getpid()));
        struct Cleanup {
            fs::path p;
            ~Cleanup() {
                std::error_code ec;
                fs::remove_all(p, ec);
            }
        } cleanup{tmp};
        auto from = open_store(src, settings);
        auto to = open_store(dst, settings);
        TransferPlan down;
        if (recursive) {
            down = plan_download(*from, src.key, tmp);
        } else {
            const auto info = from->head(src.key);
            if (!info) throw StorageError(src.str() + ": no such object", "NoSuchKey", 404);
            down.items.push_back({src.key, tmp / "object", info->size, info->etag});
            down.bytes = info->size;
        }
        Progress p1(down.items.size(), down.bytes, show);
        const auto r1 = run_plan(*from, down, false, window, p1);
        if (!r1.ok()) return report_and_exit(r1, p1, "downloaded");
        TransferPlan up;
        if (recursive) {
            up = plan_upload(tmp, dst.key);
        } else {
            std::string key = dst.key;
            if (key.empty() || key.back() == '/') key += fs::path(src.key).filename().string();
            up.items.push_back({key, tmp / "object", down.bytes, ""});
            up.bytes = down.bytes;
        }
        Progress p2(up.items.size(), up.bytes, show);
        return report_and_exit(run_plan(*to, up, true, window, p2), p2, "copied");
    }

    if (!is_remote(dst)) {  // download (or local to local, recursive)
        auto store =
            open_store(is_remote(src) ? src : Location{Scheme::local, "", "", src.path}, settings);
        const std::string key = is_remote(src) ? src.key : "";
        TransferPlan plan;
        if (recursive) {
            plan = plan_download(*store, key, dst.path);
        } else {
            const auto info = store->head(key);
            if (!info) throw StorageError(src.str() + ": no such object", "NoSuchKey", 404);
            const bool into_dir = fs::is_directory(dst.path) || a.positionals.at(1).ends_with("/");
            const fs::path target = into_dir ? dst.path / fs::path(key).filename() : dst.path;
            plan.items.push_back({key, target, info->size, info->etag});
            plan.bytes = info->size;
        }
        Progress progress(plan.items.size(), plan.bytes, show);
        return report_and_exit(run_plan(*store, plan, false, window, progress), progress,
                               "downloaded");
    }

    // upload
    auto store = open_store(dst, settings);
    TransferPlan plan;
    if (recursive) {
        plan = plan_upload(src.path, dst.key);
    } else {
        if (!fs::is_regular_file(src.path))
            throw std::invalid_argument(src.path.string() +
                                        " is not a file (use --recursive for a folder)");
        std::string key = dst.key;
        if (key.empty() || key.back() == '/') key += src.path.filename().string();
        const auto size = fs::file_size(src.path);
        plan.items.push_back({key, src.path, size, ""});
        plan.bytes = size;
    }
    Progress progress(plan.items.size(), plan.bytes, show);
    return report_and_exit(run_plan(*store, plan, true, window, progress), progress, "uploaded");
}

int ls(const cli::ParsedArgs& a) {
    const Location loc = parse_location(a.positionals.at(0));
    auto store = open_store(loc, s3_settings_from(a));
    const bool recursive = a.has("recursive");
    const std::string prefix = loc.scheme == Scheme::s3 ? loc.key : "";
    const ListResult r = store->list({.prefix = prefix, .delimiter = recursive ? "" : "/"});
    // objects and prefixes, merged in lexical order
    std::size_t i = 0, j = 0;
    while (i < r.objects.size() || j < r.common_prefixes.size()) {
        if (j >= r.common_prefixes.size() ||
            (i < r.objects.size() && r.objects[i].key < r.common_prefixes[j])) {
            const auto& o = r.objects[i++];
            std::printf("%-24s %14llu  %s\n",
                        o.last_modified.empty() ? "-" : o.last_modified.c_str(),
                        static_cast<unsigned long long>(o.size), o.key.c_str());
        } else {
            std::printf("%-24s %14s  %s\n", "", "PRE", r.common_prefixes[j++].c_str());
        }
    }
    return kExitOk;
}

}  // namespace

std::vector<Command> storage_commands() {
    cli::CommandSpec cp_spec{
        .path = "cp",
        .summary = "copy objects between S3, file:// stores and local paths",
        .description =
            "SRC and DST are s3://BUCKET/KEY, file:///PATH or local paths. With --recursive,\n"
            "SRC names a folder (a prefix or a directory) whose whole content is copied into\n"
            "DST. Each object is written under a temporary name and renamed when it is complete\n"
            "and verified (size; MD5 against the ETag where the ETag is an MD5); a failed object\n"
            "leaves nothing behind and is listed. A progress bar shows on a terminal; a summary\n"
            "line ends the run. Exit status 1 if any object failed.\n"
            "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the\n"
            "shared files (AWS_PROFILE, ~/.aws/credentials, ~/.aws/config).",
        .options = {},
        .positionals = {{"SRC", "what to copy"}, {"DST", "where to"}},
        .epilog =
            "examples:\n  mlwm cp --recursive "
            "s3://forecast-data/harmonie/dini/.../pressure_levels.zarr ./pl.zarr\n"
            "  mlwm cp --recursive ./out.zarr s3://forecast-out/persistence/.../forecast.zarr",
    };
    cp_spec.options = s3_options();
    cp_spec.options.push_back({"recursive", "", "copy a whole folder / prefix"});
    cp_spec.options.push_back({"concurrency", "N", "requests in flight (default 64)"});
    cp_spec.options.push_back({"quiet", "", "no progress bar"});
    cli::CommandSpec ls_spec{
        .path = "ls",
        .summary = "list objects and prefixes of an S3 or file:// location",
        .description =
            "Lists one level (prefixes shown as PRE) or, with --recursive, every object\n"
            "below the location: last modified, size, key.",
        .options = s3_options(),
        .positionals = {{"URI", "s3://BUCKET[/PREFIX] or file:///PATH"}},
    };
    ls_spec.options.push_back({"recursive", "", "every object below the prefix"});
    return {{cp_spec, cp}, {ls_spec, ls}};
}

}  // namespace mlwm::app

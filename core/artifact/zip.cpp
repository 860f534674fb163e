#include "artifact/zip.hpp"

#include <fstream>
#include <memory>
#include <stdexcept>

#include <unistd.h>
#include <zip.h>

#include "storage/location.hpp"

namespace mlwm::artifact {
namespace fs = std::filesystem;

namespace {

std::string zip_error_text(zip_t* za) {
    return za ? zip_error_strerror(zip_get_error(za)) : "unknown error";
}

struct Reader {
    zip_t* za = nullptr;
    explicit Reader(const fs::path& p) {
        int err = 0;
        za = zip_open(p.c_str(), ZIP_RDONLY, &err);
        if (!za) {
            zip_error_t e;
            zip_error_init_with_code(&e, err);
            const std::string msg = zip_error_strerror(&e);
            zip_error_fini(&e);
            throw std::runtime_error(p.string() + ": not a readable zip archive: " + msg);
        }
    }
    ~Reader() { zip_discard(za); }
};

}  // namespace

ZipWriter::ZipWriter(fs::path path) : path_(std::move(path)) {
    tmp_ = path_.parent_path() /
           ("." + path_.filename().string() + ".mlwm-partial-" + std::to_string(::getpid()));
    int err = 0;
    zip_ = zip_open(tmp_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!zip_)
        throw std::runtime_error("cannot create " + tmp_.string() + " (libzip error " +
                                 std::to_string(err) + ")");
}

ZipWriter::~ZipWriter() {
    if (zip_) zip_discard(static_cast<zip_t*>(zip_));
    std::error_code ec;
    fs::remove(tmp_, ec);
}

void ZipWriter::add_file(const std::string& name, const fs::path& source) {
    zip_t* za = static_cast<zip_t*>(zip_);
    zip_source_t* src = zip_source_file(za, source.c_str(), 0, 0);
    if (!src)
        throw std::runtime_error("cannot add " + source.string() +
                                 " to the archive: " + zip_error_text(za));
    const zip_int64_t idx =
        zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) {
        zip_source_free(src);
        throw std::runtime_error("cannot add " + name + " to the archive: " + zip_error_text(za));
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
}

void ZipWriter::add_bytes(const std::string& name, std::string data) {
    zip_t* za = static_cast<zip_t*>(zip_);
    buffers_.push_back(std::make_unique<std::string>(std::move(data)));
    const std::string& b = *buffers_.back();
    zip_source_t* src = zip_source_buffer(za, b.data(), b.size(), 0);
    const zip_int64_t idx =
        src ? zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
        if (src) zip_source_free(src);
        throw std::runtime_error("cannot add " + name + " to the archive: " + zip_error_text(za));
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
}

void ZipWriter::commit() {
    zip_t* za = static_cast<zip_t*>(zip_);
    if (zip_close(za) != 0)
        throw std::runtime_error("writing " + path_.string() + " failed: " + zip_error_text(za));
    zip_ = nullptr;
    fs::rename(tmp_, path_);
}

std::vector<ZipEntry> list_zip(const fs::path& zip) {
    Reader r(zip);
    std::vector<ZipEntry> out;
    const zip_int64_t n = zip_get_num_entries(r.za, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(r.za, static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
        out.push_back({st.name, st.size, st.comp_method == ZIP_CM_STORE});
    }
    return out;
}

void stream_zip_entry(const fs::path& zip, const std::string& name,
                      const std::function<void(const char*, std::size_t)>& sink) {
    Reader r(zip);
    zip_file_t* f = zip_fopen(r.za, name.c_str(), 0);
    if (!f) throw std::runtime_error(zip.string() + ": no entry " + name);
    std::vector<char> buf(1 << 20);
    zip_int64_t n;
    while ((n = zip_fread(f, buf.data(), buf.size())) > 0)
        sink(buf.data(), static_cast<std::size_t>(n));
    zip_fclose(f);
    if (n < 0) throw std::runtime_error(zip.string() + ": reading " + name + " failed");
}

std::string read_zip_entry(const fs::path& zip, const std::string& name) {
    std::string out;
    stream_zip_entry(zip, name, [&](const char* d, std::size_t n) { out.append(d, n); });
    return out;
}

void extract_zip(const fs::path& zip, const fs::path& dir) {
    for (const auto& e : list_zip(zip)) {
        if (!e.name.empty() && e.name.back() == '/') continue;  // folder entries
        const fs::path target = dir / storage::safe_relative_path(e.name, "");
        fs::create_directories(target.parent_path());
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        stream_zip_entry(zip, e.name, [&](const char* d, std::size_t n) {
            out.write(d, static_cast<std::streamsize>(n));
        });
        if (!out) throw std::runtime_error("cannot write " + target.string());
    }
}

}  // namespace mlwm::artifact

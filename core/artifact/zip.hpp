// Zip archives with libzip: entries stored uncompressed (checkpoints are
// large and incompressible), file contents streamed from disk when the
// archive is written, never held in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace mlwm::artifact {

class ZipWriter {
public:
    // Writes to a temporary file beside `path`; commit() renames it into place.
    explicit ZipWriter(std::filesystem::path path);
    ~ZipWriter();
    ZipWriter(const ZipWriter&) = delete;
    ZipWriter& operator=(const ZipWriter&) = delete;

    void add_file(const std::string& name, const std::filesystem::path& source);
    void add_bytes(const std::string& name, std::string data);
    // Writes the archive (streaming every file) and renames it into place.
    // Throws std::runtime_error naming the archive and libzip's error.
    void commit();

private:
    std::filesystem::path path_, tmp_;
    void* zip_ = nullptr;
    std::vector<std::unique_ptr<std::string>> buffers_;  // alive until commit
};

struct ZipEntry {
    std::string name;
    std::uint64_t size = 0;
    bool stored = false;  // uncompressed
};

std::vector<ZipEntry> list_zip(const std::filesystem::path& zip);
// Reads one entry whole (small files such as artifact.yaml).
std::string read_zip_entry(const std::filesystem::path& zip, const std::string& name);
// Streams one entry to `sink` in pieces.
void stream_zip_entry(const std::filesystem::path& zip, const std::string& name,
                      const std::function<void(const char*, std::size_t)>& sink);
// Extracts every entry below `dir`, refusing names that would escape it.
void extract_zip(const std::filesystem::path& zip, const std::filesystem::path& dir);

}  // namespace mlwm::artifact

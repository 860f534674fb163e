// A POSIX tar (pax) stream of a directory tree, produced on demand: the
// bytes are generated as they are read, so a build context holding a
// multi-GiB checkpoint is never in memory or copied to a temporary file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mlwm::archive {

class TarStream {
public:
    // Lists the tree now (paths sorted, so the stream is reproducible); file
    // contents are read later, by read(). Regular files, directories and
    // symbolic links are included; other file types are skipped.
    explicit TarStream(const std::filesystem::path& root);

    // Fills up to `size` bytes; returns 0 at the end. Throws
    // std::runtime_error if a file changed size or vanished meanwhile.
    std::size_t read(char* out, std::size_t size);

    std::size_t entry_count() const { return entries_.size(); }

private:
    struct Entry {
        std::string name;  // relative, '/'-separated; directories end in '/'
        char type;         // '0' file, '5' directory, '2' symlink
        std::uint64_t size = 0;
        std::uint32_t mode = 0;
        std::int64_t mtime = 0;
        std::string link;
    };
    void next_entry();
    std::filesystem::path root_;
    std::vector<Entry> entries_;
    std::size_t index_ = 0;
    std::string pending_;  // header bytes (or padding) not yet returned
    std::size_t pending_pos_ = 0;
    std::ifstream file_;
    std::uint64_t file_left_ = 0;
    std::uint64_t pad_left_ = 0;
    bool trailer_done_ = false;
};

// One tar header block (plus a pax extended header in front when the name or
// size do not fit the ustar fields). Exposed for tests.
std::string tar_header(const std::string& name, char type, std::uint64_t size, std::uint32_t mode,
                       std::int64_t mtime, const std::string& link);

}  // namespace mlwm::archive

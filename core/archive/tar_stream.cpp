#include "archive/tar_stream.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <sys/stat.h>

namespace mlwm::archive {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBlock = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
    // width-1 octal digits and a NUL
    std::string digits(width - 1, '0');
    for (std::size_t i = width - 1; i-- > 0 && value; value >>= 3)
        digits[i] = char('0' + (value & 7));
    std::memcpy(field, digits.data(), width - 1);
    field[width - 1] = '\0';
}

// One pax record: "<len> key=value\n", where <len> counts the whole record.
std::string pax_record(const std::string& key, const std::string& value) {
    const std::size_t body = 1 + key.size() + 1 + value.size() + 1;
    std::size_t len = body + 1;
    while (std::to_string(len).size() + body != len) ++len;
    return std::to_string(len) + " " + key + "=" + value + "\n";
}

std::string ustar_block(const std::string& name, char type, std::uint64_t size, std::uint32_t mode,
                        std::int64_t mtime, const std::string& link) {
    std::string h(kBlock, '\0');
    std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 100));
    put_octal(&h[100], 8, mode & 07777);
    put_octal(&h[108], 8, 0);
    put_octal(&h[116], 8, 0);
    put_octal(&h[124], 12, size);
    put_octal(&h[136], 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)));
    h[156] = type;
    std::memcpy(&h[157], link.data(), std::min<std::size_t>(link.size(), 100));
    std::memcpy(&h[257], "ustar", 6);
    std::memcpy(&h[263], "00", 2);
    std::memcpy(&h[265], "root", 4);
    std::memcpy(&h[297], "root", 4);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put_octal(&h[148], 7, sum);
    h[155] = ' ';
    return h;
}

std::string padding(std::uint64_t size) {
    return std::string((kBlock - size % kBlock) % kBlock, '\0');
}

}  // namespace

std::string tar_header(const std::string& name, char type, std::uint64_t size, std::uint32_t mode,
                       std::int64_t mtime, const std::string& link) {
    constexpr std::uint64_t kMaxUstarSize = 077777777777ULL;  // 11 octal digits
    std::string pax;
    if (name.size() > 100) pax += pax_record("path", name);
    if (link.size() > 100) pax += pax_record("linkpath", link);
    if (size > kMaxUstarSize) pax += pax_record("size", std::to_string(size));
    std::string out;
    if (!pax.empty()) {
        const std::string pax_name =
            "PaxHeaders/" + name.substr(0, std::min<std::size_t>(name.size(), 80));
        out += ustar_block(pax_name, 'x', pax.size(), 0644, mtime, "");
        out += pax + padding(pax.size());
    }
    out += ustar_block(name, type, size > kMaxUstarSize ? 0 : size, mode, mtime, link);
    return out;
}

TarStream::TarStream(const fs::path& root) : root_(root) {
    if (!fs::is_directory(root_)) throw std::runtime_error(root_.string() + ": not a directory");
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(root_);
         it != fs::recursive_directory_iterator(); ++it)
        paths.push_back(it->path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) continue;
        Entry e;
        e.name = fs::relative(p, root_).generic_string();
        e.mode = st.st_mode & 07777;
        e.mtime = st.st_mtime;
        if (S_ISDIR(st.st_mode)) {
            e.type = '5';
            e.name += '/';
        } else if (S_ISREG(st.st_mode)) {
            e.type = '0';
            e.size = static_cast<std::uint64_t>(st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            e.type = '2';
            e.link = fs::read_symlink(p).string();
        } else {
            continue;
        }
        entries_.push_back(std::move(e));
    }
}

void TarStream::next_entry() {
    const Entry& e = entries_[index_++];
    pending_ = tar_header(e.name, e.type, e.size, e.mode, e.mtime, e.link);
    pending_pos_ = 0;
    file_left_ = 0;
    pad_left_ = 0;
    if (e.type == '0') {
        file_.close();
        file_.clear();
        file_.open(root_ / e.name, std::ios::binary);
        if (!file_)
            throw std::runtime_error((root_ / e.name).string() +
                                     ": cannot open for the build context");
        file_left_ = e.size;
        pad_left_ = (kBlock - e.size % kBlock) % kBlock;
    }
}

std::size_t TarStream::read(char* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        if (pending_pos_ < pending_.size()) {
            const std::size_t n = std::min(size - done, pending_.size() - pending_pos_);
            std::memcpy(out + done, pending_.data() + pending_pos_, n);
            pending_pos_ += n;
            done += n;
            continue;
        }
        if (file_left_ > 0) {
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(size - done, file_left_));
            file_.read(out + done, static_cast<std::streamsize>(want));
            const auto got = static_cast<std::size_t>(file_.gcount());
            if (got == 0)
                throw std::runtime_error("build context: a file shrank while it was being sent");
            file_left_ -= got;
            done += got;
            continue;
        }
        if (pad_left_ > 0) {
            pending_.assign(static_cast<std::size_t>(pad_left_), '\0');
            pending_pos_ = 0;
            pad_left_ = 0;
            continue;
        }
        if (index_ < entries_.size()) {
            next_entry();
            continue;
        }
        if (!trailer_done_) {
            pending_.assign(2 * kBlock, '\0');  // end of archive: two zero blocks
            pending_pos_ = 0;
            trailer_done_ = true;
            continue;
        }
        break;
    }
    return done;
}

}  // namespace mlwm::archive

// A local directory as an object store (file:///path): for air-gapped hosts
// and as the embedded default when no S3 is configured. Keys are paths below
// the root; listing has S3's semantics (lexical byte order, prefix,
// delimiter "/", start-after). Writes go to a temporary name and are renamed
// into place, so readers never see a partial object.
#pragma once

#include "storage/object_store.hpp"

namespace mlwm::storage {

class FileStore : public ObjectStore {
public:
    explicit FileStore(std::filesystem::path root);
    std::string describe() const override { return "file://" + root_.string(); }
    const std::filesystem::path& root() const { return root_; }

    ListResult list(const ListOptions& options) override;
    std::optional<ObjectInfo> head(const std::string& key) override;
    std::string get_string(const std::string& key) override;
    PutOutcome put_string(const std::string& key, const std::string& data,
                          const PutOptions& options = {}) override;
    void remove(const std::string& key) override;
    void remove_many(const std::vector<std::string>& keys) override;
    TransferReport download(const std::vector<TransferItem>& items,
                            const TransferOptions& options) override;
    TransferReport upload(const std::vector<TransferItem>& items,
                          const TransferOptions& options) override;

private:
    std::filesystem::path path_of(const std::string& key) const;  // refuses unsafe keys
    std::filesystem::path root_;
};

// Copies `from` to `to` through a temporary file beside `to`, then renames it
// into place (`no_replace`: fails with EEXIST if `to` exists). Throws
// StorageError; leaves nothing behind on failure.
void copy_file_atomically(const std::filesystem::path& from, const std::filesystem::path& to,
                          bool no_replace = false);
// Writes `data` the same way; returns false if `no_replace` and `to` exists.
bool write_file_atomically(const std::filesystem::path& to, const std::string& data,
                           bool no_replace = false);

}  // namespace mlwm::storage

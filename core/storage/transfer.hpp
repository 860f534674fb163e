// Whole-folder transfers: a prefix into a directory, a directory to a prefix.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "storage/object_store.hpp"

namespace mlwm::storage {

// "a/b.zarr" -> "a/b.zarr/" (a prefix names a folder); "" stays "".
std::string folder_prefix(std::string prefix);

struct TransferPlan {
    std::vector<TransferItem> items;
    std::uint64_t bytes = 0;
    std::size_t skipped = 0;  // folder markers (zero-size keys ending in '/')
};

// Every object below `prefix` (a folder), mapped into `dest`. All keys are
// checked before anything is written: one unsafe key (escaping `dest`, empty
// segments, NUL, backslash) fails the whole plan with StorageError.
TransferPlan plan_download(ObjectStore& store, const std::string& prefix,
                           const std::filesystem::path& dest);

// Every regular file below `src` (symbolic links to files followed), with
// its key `prefix/relative/path`, in lexical order.
TransferPlan plan_upload(const std::filesystem::path& src, const std::string& prefix);

}  // namespace mlwm::storage

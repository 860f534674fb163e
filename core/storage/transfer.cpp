#include "storage/transfer.hpp"

#include <algorithm>

#include "storage/location.hpp"

namespace mlwm::storage {
namespace fs = std::filesystem;

std::string folder_prefix(std::string prefix) {
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    return prefix;
}

TransferPlan plan_download(ObjectStore& store, const std::string& prefix, const fs::path& dest) {
    const std::string folder = folder_prefix(prefix);
    const ListResult listed = store.list({.prefix = folder});
    TransferPlan plan;
    std::vector<std::string> unsafe;
    for (const auto& o : listed.objects) {
        if (is_folder_marker(o.key, o.size)) {
            ++plan.skipped;
            continue;
        }
        try {
            plan.items.push_back({o.key, dest / safe_relative_path(o.key, folder), o.size, o.etag});
            plan.bytes += o.size;
        } catch (const StorageError& e) {
            unsafe.push_back(e.what());
        }
    }
    if (!unsafe.empty())
        throw StorageError(
            std::to_string(unsafe.size()) + " key(s) below " + store.describe() + "/" + folder +
            " cannot be written safely, nothing was copied; first: " + unsafe.front());
    return plan;
}

TransferPlan plan_upload(const fs::path& src, const std::string& prefix) {
    if (!fs::is_directory(src)) throw StorageError(src.string() + " is not a directory");
    const std::string folder = folder_prefix(prefix);
    TransferPlan plan;
    for (auto it =
             fs::recursive_directory_iterator(src, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
        std::error_code ec;
        if (!it->is_regular_file(ec)) continue;
        const std::string rel = fs::relative(it->path(), src).generic_string();
        const auto size = static_cast<std::uint64_t>(it->file_size(ec));
        plan.items.push_back({folder + rel, it->path(), size, ""});
        plan.bytes += size;
    }
    std::sort(plan.items.begin(), plan.items.end(),
              [](const TransferItem& a, const TransferItem& b) { return a.key < b.key; });
    return plan;
}

}  // namespace mlwm::storage

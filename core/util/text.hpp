// Small text helpers shared by the layers.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlwm::util {

// Splits at every `sep`, keeping empty fields: "a,,b" -> {a, "", b}, "" -> {""}.
std::vector<std::string> split(std::string_view text, char sep);

// The fields with `sep` between them: {a, b} -> "a,b", {} -> "".
std::string join(const std::vector<std::string>& fields, std::string_view sep);

// A whole file, as is; nullopt when it does not exist or cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

}  // namespace mlwm::util

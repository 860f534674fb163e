// Small text helpers shared by the layers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlwm::util {

// Splits at every `sep`, keeping empty fields: "a,,b" -> {a, "", b}, "" -> {""}.
std::vector<std::string> split(std::string_view text, char sep);

}  // namespace mlwm::util

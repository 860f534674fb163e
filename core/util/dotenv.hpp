// .env files (as python-dotenv reads them): KEY=VALUE lines, `export KEY=...`,
// '#' comments, values in single quotes (literal) or double quotes (with
// \n, \" and \\ escapes), unquoted values ending at a ' #' comment.
#pragma once

#include <map>
#include <string>

namespace mlwm::util {

std::map<std::string, std::string> parse_dotenv(const std::string& text);

}  // namespace mlwm::util

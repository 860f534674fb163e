// libcurl's process-wide initialisation, done once before the first handle.
#pragma once

#include <mutex>

#include <curl/curl.h>

namespace mlwm::util {

inline void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace mlwm::util

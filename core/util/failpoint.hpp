// Named failpoints for crash tests: MLWM_FAILPOINTS=name[,name...] makes the
// process kill itself with SIGKILL when it reaches one of those points, so a
// test can stop the daemon at an exact step (mid-staging, with the container
// running, mid-publishing) and check what a restart does. Unset in
// production: then a failpoint costs one branch.
#pragma once

#include <string_view>

namespace mlwm::util {

// The points mlwm defines, in run order (docs/log-events.md lists them too).
inline constexpr std::string_view kFailpoints[] = {"staging", "launching", "running", "publishing"};

// Whether `name` is listed in this comma-separated failpoint list. Pure.
bool failpoint_listed(std::string_view list, std::string_view name);

// SIGKILLs the process (after one line on stderr) if MLWM_FAILPOINTS lists `name`.
void failpoint(std::string_view name);

}  // namespace mlwm::util

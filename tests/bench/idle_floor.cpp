// The floor under `mlwm daemon`'s idle resident memory: a program linked with
// the libraries mlwm links (mlwm_core's), which initialises libcurl as every
// process using it must, and then waits, doing nothing. tests/bench/daemon_idle.sh
// measures it beside the daemon: what is left (the daemon's VmRSS minus this
// one's) is what mlwm's own code and data cost.
#include <unistd.h>

#include "util/curl_global.hpp"

int main() {
    mlwm::util::curl_global_once();
    for (;;) pause();
}
